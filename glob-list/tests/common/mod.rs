//! An in-memory [`ListObjects`] that answers as S3 does (sorted keys,
//! delimiter roll-up, small pages so continuation is exercised) and records
//! what it was asked. It is a double of glob-list's own `ListObjects` seam,
//! not of HTTP: the properties need thousands of cases and the scheduling
//! tests need to see every request and how many overlap, which a real
//! server cannot show. The integration tests in `expand.rs` check the same
//! behaviour against a real server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use s3sql_glob_list::{ListObjects, ListPage, ListRequest, StoreError};
use s3sql_s3_client::ObjectMeta;

/// Sorted keys answering ListObjectsV2 semantics, `page_size` entries a page.
pub struct MemoryStore {
    keys: BTreeSet<String>,
    page_size: usize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: Mutex<Vec<(String, Option<String>)>>,
    returned: Mutex<Vec<String>>,
    /// Whether a page that follows a page ending in a common prefix lists
    /// that prefix again first (LocalStack, versitygw).
    repeats_boundary_prefix: bool,
}

impl MemoryStore {
    pub fn new(keys: impl IntoIterator<Item = String>, page_size: usize) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            page_size,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            returned: Mutex::new(Vec::new()),
            repeats_boundary_prefix: false,
        }
    }

    /// A store whose pages start with the common prefix the page before
    /// ended in, as some S3-compatible servers answer.
    pub fn repeating_boundary_prefixes(mut self) -> Self {
        self.repeats_boundary_prefix = true;
        self
    }

    /// The most listings that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every listing request so far: prefix and continuation token.
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }

    /// The keys of every object returned so far, in the order returned.
    pub fn returned(&self) -> Vec<String> {
        self.returned.lock().unwrap().clone()
    }

    fn page(&self, request: &ListRequest, continuation: Option<String>) -> ListPage {
        let mut entries: Vec<(String, bool)> = Vec::new();
        for key in self.keys.iter().filter(|k| k.starts_with(&request.prefix)) {
            let rest = &key[request.prefix.len()..];
            match rest.find('/').filter(|_| request.delimited) {
                Some(i) => {
                    let p = format!("{}{}", request.prefix, &rest[..=i]);
                    if entries.last().map(|e| &e.0) != Some(&p) {
                        entries.push((p, true));
                    }
                }
                None => entries.push((key.clone(), false)),
            }
        }
        let start = continuation
            .map(|c| c.parse::<usize>().unwrap())
            .unwrap_or(0);
        let end = start + self.page_size;
        let repeat = self.repeats_boundary_prefix
            && start > 0
            && entries.get(start - 1).is_some_and(|e| e.1);
        let from = if repeat { start - 1 } else { start };
        let page: Vec<_> = entries.iter().skip(from).take(end - from).collect();
        ListPage {
            objects: page.iter().filter(|e| !e.1).map(|e| object(&e.0)).collect(),
            common_prefixes: page.iter().filter(|e| e.1).map(|e| e.0.clone()).collect(),
            next: (end < entries.len()).then(|| end.to_string()),
        }
    }
}

pub fn object(key: &str) -> ObjectMeta {
    ObjectMeta::new(key, 0)
}

impl ListObjects for MemoryStore {
    fn list_page<'a>(
        &'a self,
        _bucket: &'a str,
        request: &'a ListRequest,
        continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            self.requests
                .lock()
                .unwrap()
                .push((request.prefix.clone(), continuation.clone()));
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            // Stay pending for a turn, as a network request would, so that
            // concurrent listings overlap and can be counted.
            tokio::task::yield_now().await;
            let page = self.page(request, continuation);
            let keys = page.objects.iter().map(|o| o.key.clone());
            self.returned.lock().unwrap().extend(keys);
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(page)
        })
    }

    fn head<'a>(
        &'a self,
        _bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>> {
        assert!(!key.is_empty(), "an empty key reached HEAD");
        Box::pin(async move { Ok(self.keys.get(key).map(|k| object(k))) })
    }
}
