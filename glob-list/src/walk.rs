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
//! Each listing follows its pages by the client's one paginator
//! ([`Pager`]): a token given twice, a page that does not advance, or
//! endless empty pages end the walk with the matching [`GlobError`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, Stream, StreamExt};

use crate::error::GlobError;
use crate::expand::Step;
use crate::filter::PartitionFilter;
use s3sql_s3_client::{ObjectMeta, Pager, PagingError};

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
    /// Where to continue, and the rules a next page must meet.
    pager: Pager<String>,
    in_flight: bool,
}

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
            pager: Pager::new(),
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
                let (id, request, token) = (
                    listing.id,
                    listing.request.clone(),
                    listing.pager.token().cloned(),
                );
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
        let mut page = page.map_err(|source| GlobError::List {
            bucket: self.spec.bucket.clone(),
            prefix: listing.request.prefix.clone(),
            source,
        })?;
        // A common prefix repeated from the page before is dropped there
        // (a server quirk): descended once.
        let keys = page.objects.iter().map(|o| o.key.as_str());
        if let Err(e) =
            listing
                .pager
                .accept_page(keys, &mut page.common_prefixes, page.next.clone())
        {
            return Err(self.paging_error(&listing, e));
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
        if !listing.pager.is_done() {
            listing.in_flight = false;
            self.queue.push_back(Entry::Listing(listing));
        }
        self.queue.extend(tail);
        Ok(())
    }

    /// Why `listing` cannot go on, in the crate's words.
    fn paging_error(&self, listing: &Listing, e: PagingError) -> GlobError {
        let (bucket, prefix) = (self.spec.bucket.clone(), listing.request.prefix.clone());
        match e {
            PagingError::RepeatedToken { page } => GlobError::RepeatedToken {
                bucket,
                prefix,
                pages: page,
            },
            PagingError::NotAdvancing { page, .. } => GlobError::NotAdvancing {
                bucket,
                prefix,
                pages: page,
            },
            PagingError::EndlessEmptyPages { run, .. } => GlobError::EndlessEmptyPages {
                bucket,
                prefix,
                pages: run,
            },
            other => GlobError::List {
                bucket,
                prefix,
                source: Box::new(other),
            },
        }
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
                // happen (the front may always start). Should it, the
                // listing is unfinished: an error, never a silently short
                // list (nor a hang).
                Poll::Ready(None) => {
                    let error = GlobError::List {
                        bucket: this.spec.bucket.clone(),
                        prefix: this
                            .queue
                            .iter()
                            .find_map(|e| match e {
                                Entry::Listing(l) => Some(l.request.prefix.clone()),
                                Entry::Ready(_) => None,
                            })
                            .unwrap_or_default(),
                        source: "internal error: listings are queued but none can start; please report it".into(),
                    };
                    return this.fail(error);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
