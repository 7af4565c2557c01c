//! Planning and running a listing for a URL pattern.
//!
//! The plan walks the pattern's segments. Literal segments only extend the
//! prefix (no request). A wildcard directory segment is *descended* — one
//! delimited listing per surviving prefix, keeping the common prefixes it
//! matches — when it or a later directory segment can reject directories
//! (a literal, a selective glob, or a `name=*` segment the partition filter
//! constrains). Otherwise, and at `**`, everything below the prefix is
//! listed *flat* and filtered, which is cheapest when nothing prunes. The
//! last segment is listed with the delimiter, so deeper keys are not read.
//!
//! Children are listed concurrently (bounded) and delivered in prefix
//! order, so results come in key order. A flat listing streams page by page.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::error::GlobError;
use crate::filter::PartitionFilter;
use crate::list::{ListObjects, ListPage, ListRequest, ObjectInfo};
use crate::pattern::{KeyPattern, Segment};
use crate::url::ObjectUrl;

/// How a pattern is expanded.
#[derive(Debug, Clone)]
pub struct ExpandOptions {
    /// URL compatibility mode: keys are literal, no globbing.
    pub url_compatibility_mode: bool,
    /// An empty result is not an error.
    pub allow_empty: bool,
    /// Listings in flight at once during a fan-out.
    pub concurrency: usize,
    /// Partition predicate pruning directories and files.
    pub filter: Option<PartitionFilter>,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        Self {
            url_compatibility_mode: false,
            allow_empty: false,
            concurrency: 16,
            filter: None,
        }
    }
}

/// One step of a [`ListingPlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Append a literal directory name to every prefix (no request).
    Append(String),
    /// Delimited listing of every prefix; keep the common prefixes matching the segment.
    Descend(Segment),
    /// Delimited listing of every prefix; keep the objects matching the pattern.
    Level(Segment),
    /// Listing of everything below every prefix; keep the objects matching the pattern.
    Flat,
}

/// The requests a pattern will cost, shown by EXPLAIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingPlan {
    /// No wildcard: one HEAD.
    Single {
        /// The key.
        key: String,
    },
    /// Listings starting from the empty prefix, step by step.
    Walk {
        /// The steps, in order.
        steps: Vec<Step>,
    },
}

impl fmt::Display for ListingPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Single { key } => write!(f, "HeadObject '{key}'"),
            Self::Walk { steps } => {
                let mut prefix = String::new();
                let mut first = true;
                for step in steps {
                    let arrow = if first { "" } else { " -> " };
                    match step {
                        Step::Append(s) => {
                            prefix.push_str(s);
                            prefix.push('/');
                            continue;
                        }
                        Step::Descend(_) => write!(
                            f,
                            "{arrow}ListObjectsV2 prefix '{prefix}…' delimiter '/' (descend)"
                        )?,
                        Step::Level(_) => write!(
                            f,
                            "{arrow}ListObjectsV2 prefix '{prefix}…' delimiter '/' (match files)"
                        )?,
                        Step::Flat => write!(
                            f,
                            "{arrow}ListObjectsV2 prefix '{prefix}…' (flat, match files)"
                        )?,
                    }
                    prefix = "<dir>/".into();
                    first = false;
                }
                Ok(())
            }
        }
    }
}

/// The `name` of a `name=...` segment.
fn segment_column(segment: &Segment) -> Option<String> {
    let text = segment.leading_literal();
    text.split_once('=').map(|(name, _)| name.to_owned())
}

/// Plans the listing of `pattern` under `filter`.
pub fn plan(pattern: &KeyPattern, filter: Option<&PartitionFilter>) -> ListingPlan {
    if let Some(key) = pattern.literal_key() {
        return ListingPlan::Single { key };
    }
    let filtered: Vec<&str> = filter.map(|f| f.columns()).unwrap_or_default();
    let prunes = |s: &Segment| {
        s.prunes() || segment_column(s).is_some_and(|c| filtered.contains(&c.as_str()))
    };
    let segments = pattern.segments();
    let last = segments.len() - 1;
    let mut steps = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if i == last {
            steps.push(match segment {
                Segment::AnyDepth => Step::Flat,
                other => Step::Level(other.clone()),
            });
            break;
        }
        match segment {
            Segment::Literal(s) => steps.push(Step::Append(s.clone())),
            Segment::AnyDepth => {
                steps.push(Step::Flat);
                break;
            }
            glob => {
                let worth = segments[i..last]
                    .iter()
                    .take_while(|s| **s != Segment::AnyDepth)
                    .any(prunes);
                if worth {
                    steps.push(Step::Descend(glob.clone()));
                } else {
                    steps.push(Step::Flat);
                    break;
                }
            }
        }
    }
    ListingPlan::Walk { steps }
}

/// A matched object and the URL it is read by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// `scheme://bucket/key`.
    pub url: ObjectUrl,
    /// Size, ETag and Last-Modified from the listing.
    pub object: ObjectInfo,
}

/// Expands URL patterns against a store, counting the requests it makes.
pub struct GlobExpander<L: ?Sized> {
    store: Arc<L>,
    options: ExpandOptions,
    requests: Arc<AtomicU64>,
}

impl<L: ?Sized> Clone for GlobExpander<L> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            options: self.options.clone(),
            requests: Arc::clone(&self.requests),
        }
    }
}

/// What one walk needs, shared by its concurrent branches.
struct Walk<L: ?Sized> {
    store: Arc<L>,
    requests: Arc<AtomicU64>,
    bucket: String,
    pattern: KeyPattern,
    steps: Vec<Step>,
    filter: Option<PartitionFilter>,
    concurrency: usize,
}

impl<L: ListObjects + ?Sized + 'static> GlobExpander<L> {
    /// An expander over `store`.
    pub fn new(store: Arc<L>, options: ExpandOptions) -> Self {
        Self {
            store,
            options,
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// List and HEAD requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The plan for one URL pattern.
    pub fn plan(&self, url: &str) -> Result<ListingPlan, GlobError> {
        let url = ObjectUrl::parse(url)?;
        let pattern = KeyPattern::parse(&url.key, self.options.url_compatibility_mode)?;
        Ok(plan(&pattern, self.options.filter.as_ref()))
    }

    /// The objects matching one URL pattern, in key order, as they are listed.
    /// Ends with [`GlobError::NoMatch`] when nothing matched, unless allowed.
    pub fn expand(&self, url: &str) -> BoxStream<'static, Result<Match, GlobError>> {
        let parsed = ObjectUrl::parse(url).and_then(|u| {
            let pattern = KeyPattern::parse(&u.key, self.options.url_compatibility_mode)?;
            Ok((u, pattern))
        });
        let (url, pattern) = match parsed {
            Ok(p) => p,
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        let plan = plan(&pattern, self.options.filter.as_ref());
        let objects = match &plan {
            ListingPlan::Single { key } => self.head(url.bucket.clone(), key.clone()),
            ListingPlan::Walk { steps } => {
                let walk = Arc::new(Walk {
                    store: Arc::clone(&self.store),
                    requests: Arc::clone(&self.requests),
                    bucket: url.bucket.clone(),
                    pattern: pattern.clone(),
                    steps: steps.clone(),
                    filter: self.options.filter.clone(),
                    concurrency: self.options.concurrency.max(1),
                });
                walk.run(String::new(), 0)
            }
        };
        let base = url.clone();
        let matches = objects.map_ok(move |object| Match {
            url: base.with_key(&object.key),
            object,
        });
        if self.options.allow_empty {
            return matches.boxed();
        }
        let hint = if !self.options.url_compatibility_mode && pattern.as_str().contains('?') {
            "; note that `?` matches any one character in a glob: write `\\?` for a literal '?', or turn on URL_COMPATIBILITY_MODE".to_owned()
        } else {
            String::new()
        };
        let no_match = GlobError::NoMatch {
            pattern: url.to_string(),
            listed: plan.to_string(),
            hint,
        };
        let seen_any = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = Arc::clone(&seen_any);
        let mut no_match = Some(no_match);
        matches
            .inspect(move |item| {
                if item.is_ok() {
                    seen.store(true, Ordering::Relaxed);
                }
            })
            .chain(stream::poll_fn(move |_| {
                // Polled once the listing has ended: an error only when it was empty.
                let empty = !seen_any.load(Ordering::Relaxed);
                std::task::Poll::Ready(if empty {
                    no_match.take().map(Err)
                } else {
                    None
                })
            }))
            .boxed()
    }

    /// Expands several URLs in the order given, dropping duplicates.
    pub async fn expand_all<S: AsRef<str>>(&self, urls: &[S]) -> Result<Vec<Match>, GlobError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for url in urls {
            let mut matches = self.expand(url.as_ref());
            while let Some(m) = matches.next().await {
                let m = m?;
                if seen.insert((m.url.bucket.clone(), m.object.key.clone())) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    fn head(
        &self,
        bucket: String,
        key: String,
    ) -> BoxStream<'static, Result<ObjectInfo, GlobError>> {
        let store = Arc::clone(&self.store);
        let requests = Arc::clone(&self.requests);
        stream::once(async move {
            requests.fetch_add(1, Ordering::Relaxed);
            store
                .head(&bucket, &key)
                .await
                .map_err(|source| GlobError::List {
                    bucket: bucket.clone(),
                    prefix: key.clone(),
                    source,
                })
        })
        .try_filter_map(|o| async move { Ok(o) })
        .boxed()
    }
}

impl<L: ListObjects + ?Sized + 'static> Walk<L> {
    /// All pages of one listing, streamed.
    fn pages(
        self: &Arc<Self>,
        prefix: String,
        delimited: bool,
    ) -> BoxStream<'static, Result<ListPage, GlobError>> {
        let walk = Arc::clone(self);
        let request = ListRequest { prefix, delimited };
        stream::try_unfold(Some(None::<String>), move |state| {
            let walk = Arc::clone(&walk);
            let request = request.clone();
            async move {
                let Some(token) = state else { return Ok(None) };
                walk.requests.fetch_add(1, Ordering::Relaxed);
                let page = walk
                    .store
                    .list_page(&walk.bucket, &request, token)
                    .await
                    .map_err(|source| GlobError::List {
                        bucket: walk.bucket.clone(),
                        prefix: request.prefix.clone(),
                        source,
                    })?;
                let next = page.next.clone().map(Some);
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }

    fn keep(&self, object: &ObjectInfo) -> bool {
        self.pattern.matches(&object.key)
            && !self
                .filter
                .as_ref()
                .is_some_and(|f| f.prunes_key(&object.key))
    }

    /// Runs the steps from `index` on below `prefix`.
    fn run(
        self: Arc<Self>,
        mut prefix: String,
        mut index: usize,
    ) -> BoxStream<'static, Result<ObjectInfo, GlobError>> {
        while let Some(Step::Append(name)) = self.steps.get(index) {
            prefix.push_str(name);
            prefix.push('/');
            index += 1;
            if self.filter.as_ref().is_some_and(|f| f.prunes_dir(&prefix)) {
                return stream::empty().boxed();
            }
        }
        let Some(step) = self.steps.get(index).cloned() else {
            return stream::empty().boxed();
        };
        match step {
            Step::Append(_) => stream::empty().boxed(),
            Step::Flat | Step::Level(_) => {
                let listed = match &step {
                    Step::Level(segment) => format!("{prefix}{}", segment.leading_literal()),
                    _ => prefix.clone(),
                };
                let walk = Arc::clone(&self);
                self.pages(listed, matches!(step, Step::Level(_)))
                    .map_ok(move |page| {
                        let kept: Vec<_> = page
                            .objects
                            .into_iter()
                            .filter(|o| walk.keep(o))
                            .map(Ok)
                            .collect();
                        stream::iter(kept)
                    })
                    .try_flatten()
                    .boxed()
            }
            Step::Descend(segment) => {
                let walk = Arc::clone(&self);
                let listed = format!("{prefix}{}", segment.leading_literal());
                let children = self
                    .pages(listed, true)
                    .map_ok(move |page| {
                        let kept: Vec<_> = page
                            .common_prefixes
                            .into_iter()
                            .filter(|p| {
                                let name = p
                                    .get(prefix.len()..p.len().saturating_sub(1))
                                    .unwrap_or_default();
                                segment.matches(name)
                                    && !walk.filter.as_ref().is_some_and(|f| f.prunes_dir(p))
                            })
                            .map(Ok)
                            .collect();
                        stream::iter(kept)
                    })
                    .try_flatten();
                let walk = Arc::clone(&self);
                let concurrency = self.concurrency;
                children
                    .map_ok(move |child| {
                        Arc::clone(&walk)
                            .run(child, index + 1)
                            .try_collect::<Vec<_>>()
                    })
                    .try_buffered(concurrency)
                    .map_ok(|objects| stream::iter(objects.into_iter().map(Ok)))
                    .try_flatten()
                    .boxed()
            }
        }
    }
}
