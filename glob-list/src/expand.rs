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
//! The plan runs as one walk (`walk.rs`): listings at every level share one
//! bound on what is in flight, and matches stream out in key order.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use s3sql_s3_client::{ObjectMeta, ObjectUrl};

use crate::error::{GlobError, MAX_OBJECT_SIZE};
use crate::filter::PartitionFilter;
use crate::list::ListObjects;
use crate::pattern::{KeyPattern, Segment};
use crate::walk::{Walk, WalkSpec};

/// How a pattern is expanded.
#[derive(Debug, Clone)]
pub struct ExpandOptions {
    /// URL compatibility mode: keys are literal, no globbing.
    pub url_compatibility_mode: bool,
    /// An empty result is not an error.
    pub allow_empty: bool,
    /// Listings in flight at once for a whole expansion, every level
    /// together; also the most pages of matches held before they are
    /// yielded.
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

/// One step of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Append a literal directory name to every prefix (no request).
    Append(String),
    /// Delimited listing of every prefix; keep the common prefixes matching the segment.
    Descend(Segment),
    /// Delimited listing of every prefix; keep the objects matching the pattern.
    Level(Segment),
    /// Listing of everything below every prefix; keep the objects matching the pattern.
    Flat,
}

/// The requests a pattern will cost, shown by EXPLAIN: its `Display`
/// names each ListObjectsV2 or HEAD in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPlan(Plan);

impl fmt::Display for ListingPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a pattern is listed (the inside of a [`ListingPlan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
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

impl fmt::Display for Plan {
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
pub(crate) fn plan(pattern: &KeyPattern, filter: Option<&PartitionFilter>) -> Plan {
    if let Some(key) = pattern.literal_key() {
        return Plan::Single { key };
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
    Plan::Walk { steps }
}

/// A matched object and the URL it is read by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// `scheme://bucket/key`.
    pub url: ObjectUrl,
    /// Size, ETag and Last-Modified from the listing.
    pub object: ObjectMeta,
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
        let (_, pattern) = self.parse(url)?;
        Ok(ListingPlan(plan(&pattern, self.options.filter.as_ref())))
    }

    /// The URL and its key pattern. A URL naming only a bucket
    /// (`s3://bucket`, `s3://bucket/`) is an error that points to
    /// `s3://bucket/**`: an empty key would otherwise be sent as a HEAD,
    /// which S3 answers as HeadBucket.
    fn parse(&self, url: &str) -> Result<(ObjectUrl, KeyPattern), GlobError> {
        let parsed = ObjectUrl::parse(url)?;
        if parsed.key().is_empty() {
            return Err(GlobError::EmptyKey {
                url: url.to_owned(),
                everything: parsed.with_key("**").to_string(),
            });
        }
        let pattern = if self.options.url_compatibility_mode {
            KeyPattern::literal(parsed.key())?
        } else {
            KeyPattern::parse(parsed.key())?
        };
        Ok((parsed, pattern))
    }

    /// The objects matching one URL pattern, in key order, as they are listed.
    /// Ends with [`GlobError::NoMatch`] when nothing matched, unless allowed.
    pub fn expand(&self, url: &str) -> BoxStream<'static, Result<Match, GlobError>> {
        let (url, pattern) = match self.parse(url) {
            Ok(p) => p,
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        let plan = plan(&pattern, self.options.filter.as_ref());
        let objects = match &plan {
            Plan::Single { key } => self.head(url.bucket().to_owned(), key.clone()),
            Plan::Walk { steps } => {
                let spec = WalkSpec {
                    bucket: url.bucket().to_owned(),
                    pattern: pattern.clone(),
                    steps: steps.clone(),
                    filter: self.options.filter.clone(),
                    concurrency: self.options.concurrency.max(1),
                };
                Walk::new(Arc::clone(&self.store), Arc::clone(&self.requests), spec).boxed()
            }
        };
        let base = url.clone();
        let matches = objects.and_then(move |object| {
            let url = base.with_key(&object.key);
            let size = object.size;
            std::future::ready(match size > MAX_OBJECT_SIZE {
                true => Err(GlobError::ImplausibleSize {
                    url: url.to_string(),
                    size,
                }),
                false => Ok(Match { url, object }),
            })
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
                if seen.insert((m.url.bucket().to_owned(), m.object.key.clone())) {
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
    ) -> BoxStream<'static, Result<ObjectMeta, GlobError>> {
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
