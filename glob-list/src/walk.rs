//! Running a [`Step`] plan as one stream of matches in key order.
//!
//! The walk is a queue, in key order, of what is still to come: pages of
//! matches ready to yield, and listings not yet finished (each from its
//! next continuation token). When a listing's page arrives it is replaced
//! in place: by its matches (a file level) or by one listing per kept
//! common prefix (a descended level), followed by its own continuation.
//! The front is yielded as soon as it is ready.
//!
//! One bound, `concurrency`, covers the whole walk: listings in flight plus
//! pages held unyielded never exceed it, whatever the depth, so memory is
//! bounded by the bound and the page size, not by the largest partition.
//! Requests are started front first. The front listing may always start
//! (while fewer than `concurrency` are in flight) so that held pages behind
//! it can never stall the walk.
//!
//! Each listing remembers the continuation tokens it was given; a server
//! that gives one twice (A→A or A→B→A) would loop, and ends the walk with
//! [`GlobError::RepeatedToken`].

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, Stream, StreamExt};

use crate::error::GlobError;
use crate::expand::Step;
use crate::filter::PartitionFilter;
use s3sql_s3_client::ObjectMeta;

use crate::list::{ListObjects, ListPage, ListRequest, StoreError};
use crate::pattern::KeyPattern;

/// What one walk lists and keeps.
pub(crate) struct WalkSpec {
    pub bucket: String,
    pub pattern: KeyPattern,
    pub steps: Vec<Step>,
    pub filter: Option<PartitionFilter>,
    pub concurrency: usize,
}

/// One listing not yet finished.
struct Listing {
    id: u64,
    /// The directory the listed step applies to (ends in `/` or is empty).
    dir: String,
    /// Index of the step this listing runs (never an `Append`).
    step: usize,
    request: ListRequest,
    /// Where to continue; `None` before the first page.
    token: Option<String>,
    /// Every token the server gave this listing.
    seen: HashSet<String>,
    pages: usize,
    /// Empty pages in a row that said more follow.
    empty_run: usize,
    /// The greatest key or prefix listed so far: each page starts after it.
    greatest: Option<String>,
    in_flight: bool,
}

/// Empty pages in a row, each with a fresh continuation token, after which
/// a listing is taken to never end (as in s3-client's pager): S3 may send
/// an empty page while it skips deleted keys, never a thousand running.
const MAX_EMPTY_PAGES: usize = 1000;

/// An element of the queue, in key order.
enum Entry {
    /// Matches from one page, ready to yield.
    Ready(std::vec::IntoIter<ObjectMeta>),
    /// The rest of a listing.
    Listing(Listing),
}

type PageFuture = BoxFuture<'static, (u64, Result<ListPage, StoreError>)>;

/// The stream of matches of one walk.
pub(crate) struct Walk<L: ?Sized> {
    store: Arc<L>,
    requests: Arc<AtomicU64>,
    spec: WalkSpec,
    bucket: Arc<str>,
    queue: VecDeque<Entry>,
    in_flight: FuturesUnordered<PageFuture>,
    /// `Entry::Ready` elements in the queue.
    ready: usize,
    next_id: u64,
    done: bool,
}

impl<L: ListObjects + ?Sized + 'static> Walk<L> {
    pub(crate) fn new(store: Arc<L>, requests: Arc<AtomicU64>, spec: WalkSpec) -> Self {
        let bucket = Arc::from(spec.bucket.as_str());
        let mut walk = Self {
            store,
            requests,
            spec,
            bucket,
            queue: VecDeque::new(),
            in_flight: FuturesUnordered::new(),
            ready: 0,
            next_id: 0,
            done: false,
        };
        if let Some(root) = walk.listing(String::new(), 0) {
            walk.queue.push_back(Entry::Listing(root));
        }
        walk
    }

    /// The listing for the steps from `step` on below `dir`, after its
    /// literal directories; `None` when the filter prunes it.
    fn listing(&mut self, mut dir: String, mut step: usize) -> Option<Listing> {
        let filter = self.spec.filter.as_ref();
        while let Some(Step::Append(name)) = self.spec.steps.get(step) {
            dir.push_str(name);
            dir.push('/');
            step += 1;
            if filter.is_some_and(|f| f.prunes_dir(&dir)) {
                return None;
            }
        }
        let (prefix, delimited) = match self.spec.steps.get(step)? {
            Step::Append(_) => return None,
            Step::Flat => (dir.clone(), false),
            Step::Level(segment) | Step::Descend(segment) => {
                (format!("{dir}{}", segment.leading_literal()), true)
            }
        };
        self.next_id += 1;
        Some(Listing {
            id: self.next_id,
            dir,
            step,
            request: ListRequest { prefix, delimited },
            token: None,
            seen: HashSet::new(),
            pages: 0,
            empty_run: 0,
            greatest: None,
            in_flight: false,
        })
    }

    fn keep(&self, object: &ObjectMeta) -> bool {
        self.spec.pattern.matches(&object.key)
            && !self
                .spec
                .filter
                .as_ref()
                .is_some_and(|f| f.prunes_key(&object.key))
    }

    /// Starts listings front first while the bound allows.
    fn start_requests(&mut self) {
        let bound = self.spec.concurrency;
        let mut held = self.in_flight.len() + self.ready;
        let mut front = true;
        for entry in &mut self.queue {
            if self.in_flight.len() >= bound {
                break;
            }
            let Entry::Listing(listing) = entry else {
                continue;
            };
            if !listing.in_flight {
                if held >= bound && !front {
                    break;
                }
                listing.in_flight = true;
                held += 1;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let store = Arc::clone(&self.store);
                let bucket = Arc::clone(&self.bucket);
                let (id, request, token) =
                    (listing.id, listing.request.clone(), listing.token.clone());
                self.in_flight.push(Box::pin(async move {
                    (id, store.list_page(&bucket, &request, token).await)
                }));
            }
            front = false;
        }
    }

    /// Puts what a page of listing `id` holds in the listing's place.
    fn complete(&mut self, id: u64, page: Result<ListPage, StoreError>) -> Result<(), GlobError> {
        let Some(at) = self
            .queue
            .iter()
            .position(|e| matches!(e, Entry::Listing(l) if l.id == id))
        else {
            return Ok(());
        };
        let tail = self.queue.split_off(at + 1);
        let Some(Entry::Listing(mut listing)) = self.queue.pop_back() else {
            return Ok(());
        };
        let page = page.map_err(|source| GlobError::List {
            bucket: self.spec.bucket.clone(),
            prefix: listing.request.prefix.clone(),
            source,
        })?;
        listing.pages += 1;
        let keys = page.objects.iter().map(|o| o.key.as_str());
        let keys = keys.chain(page.common_prefixes.iter().map(String::as_str));
        let (least, greatest) =
            keys.fold((None, None), |(l, g): (Option<&str>, Option<&str>), k| {
                (
                    Some(l.map_or(k, |l| l.min(k))),
                    Some(g.map_or(k, |g| g.max(k))),
                )
            });
        if let (Some(before), Some(least)) = (&listing.greatest, least)
            && least <= before.as_str()
        {
            return Err(GlobError::NotAdvancing {
                bucket: self.spec.bucket.clone(),
                prefix: listing.request.prefix.clone(),
                pages: listing.pages,
            });
        }
        if let Some(greatest) = greatest {
            listing.greatest = Some(greatest.to_owned());
        }
        let empty = page.objects.is_empty() && page.common_prefixes.is_empty();
        listing.empty_run = if empty && page.next.is_some() {
            listing.empty_run + 1
        } else {
            0
        };
        if listing.empty_run >= MAX_EMPTY_PAGES {
            return Err(GlobError::EndlessEmptyPages {
                bucket: self.spec.bucket.clone(),
                prefix: listing.request.prefix.clone(),
                pages: listing.empty_run,
            });
        }
        if let Some(next) = &page.next
            && !listing.seen.insert(next.clone())
        {
            return Err(GlobError::RepeatedToken {
                bucket: self.spec.bucket.clone(),
                prefix: listing.request.prefix.clone(),
                pages: listing.pages,
            });
        }
        match self.spec.steps.get(listing.step).cloned() {
            Some(Step::Descend(segment)) => {
                for child in page.common_prefixes {
                    let name = child
                        .get(listing.dir.len()..child.len().saturating_sub(1))
                        .unwrap_or_default();
                    let pruned = self
                        .spec
                        .filter
                        .as_ref()
                        .is_some_and(|f| f.prunes_dir(&child));
                    if !segment.matches(name) || pruned {
                        continue;
                    }
                    if let Some(below) = self.listing(child, listing.step + 1) {
                        self.queue.push_back(Entry::Listing(below));
                    }
                }
            }
            _ => {
                let kept: Vec<ObjectMeta> =
                    page.objects.into_iter().filter(|o| self.keep(o)).collect();
                if !kept.is_empty() {
                    self.ready += 1;
                    self.queue.push_back(Entry::Ready(kept.into_iter()));
                }
            }
        }
        if page.next.is_some() {
            listing.token = page.next;
            listing.in_flight = false;
            self.queue.push_back(Entry::Listing(listing));
        }
        self.queue.extend(tail);
        Ok(())
    }

    /// The next match at the front, if one is ready.
    fn pop_ready(&mut self) -> Option<ObjectMeta> {
        let Some(Entry::Ready(objects)) = self.queue.front_mut() else {
            return None;
        };
        let object = objects.next();
        if objects.as_slice().is_empty() {
            self.queue.pop_front();
            self.ready -= 1;
        }
        object
    }

    fn fail(&mut self, error: GlobError) -> Poll<Option<Result<ObjectMeta, GlobError>>> {
        self.done = true;
        self.queue.clear();
        self.in_flight = FuturesUnordered::new();
        Poll::Ready(Some(Err(error)))
    }
}

impl<L: ListObjects + ?Sized + 'static> Stream for Walk<L> {
    type Item = Result<ObjectMeta, GlobError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(object) = this.pop_ready() {
                return Poll::Ready(Some(Ok(object)));
            }
            if this.queue.is_empty() {
                this.done = true;
                return Poll::Ready(None);
            }
            this.start_requests();
            match this.in_flight.poll_next_unpin(cx) {
                Poll::Ready(Some((id, page))) => {
                    if let Err(e) = this.complete(id, page) {
                        return this.fail(e);
                    }
                }
                // Nothing in flight with a listing at the front cannot
                // happen (the front may always start); end rather than hang.
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
