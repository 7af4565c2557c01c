//! Following a paginated listing (ListObjectsV2's continuation token,
//! ListMultipartUploads' key and upload-id markers, ListBuckets' token,
//! glob-list's walk through any store): one rule for all. A
//! truncated page without a token, a token the server already gave
//! (A→A, A→B→A), a page that does not start after the keys of the pages
//! before it (a server ignoring the token, however fresh the tokens it
//! mints), or [`MAX_EMPTY_TRUNCATED_PAGES`] empty pages in a row that
//! each say more follow, ends the listing in an error; it never loops
//! forever and never returns a silently short answer. One quirk is let
//! through: a page that starts with the common prefix the page before
//! ended in; [`Pager::accept_page`] drops the repeat.

use std::collections::HashSet;
use std::hash::Hash;

/// Empty pages in a row, each truncated with a fresh token, after which a
/// listing is taken to never end. S3 can answer a page with no keys and
/// more to come (a stretch of deleted keys being skipped), but not a
/// thousand times running: that is a million skipped keys with no sign of
/// progress, and a server inventing tokens would otherwise page forever
/// while the set of seen tokens grows without bound.
pub const MAX_EMPTY_TRUNCATED_PAGES: usize = 1000;

/// Why a listing cannot go on; each is a fault of the server or of a proxy
/// in front of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// A page says more follow but gives no token to ask for them.
    #[error(
        "page {page} of the listing is truncated but carries no token for the next page; the rest cannot be listed"
    )]
    NoToken {
        /// Pages received, this one included.
        page: usize,
    },
    /// A token the server had already given (A→A, A→B→A).
    #[error(
        "the server returned a continuation token it had already returned (page {page}); the listing would never end"
    )]
    RepeatedToken {
        /// Pages received, this one included.
        page: usize,
    },
    /// A page that does not start after the keys listed before it.
    #[error(
        "page {page} of the listing starts at {least:?}, not after {before:?} where the pages before it ended: the server ignores the continuation token, and the listing would never end"
    )]
    NotAdvancing {
        /// Pages received, this one included.
        page: usize,
        /// The least key of this page.
        least: String,
        /// The greatest key listed before it.
        before: String,
    },
    /// [`MAX_EMPTY_TRUNCATED_PAGES`] empty pages in a row, each saying
    /// more follow.
    #[error(
        "the server sent {run} empty pages in a row, each saying more follow (page {page}); the listing would never end"
    )]
    EndlessEmptyPages {
        /// Empty pages in a row.
        run: usize,
        /// Pages received, this one included.
        page: usize,
    },
}

/// The keys of one page: how many, and the least and the greatest. The
/// pages of a listing follow one another in key order.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageKeys<'a> {
    items: usize,
    least: Option<&'a str>,
    greatest: Option<&'a str>,
}

impl<'a> PageKeys<'a> {
    /// The keys (or common prefixes) a page lists, in any order.
    pub fn of(keys: impl IntoIterator<Item = &'a str>) -> Self {
        keys.into_iter().fold(Self::default(), |page, key| Self {
            items: page.items + 1,
            least: Some(page.least.map_or(key, |l| l.min(key))),
            greatest: Some(page.greatest.map_or(key, |g| g.max(key))),
        })
    }
}

/// Where a listing stands: the one paginator of every listing, whatever
/// its token (`T`: a continuation token, or ListMultipartUploads' pair of
/// markers). Ask for a page with [`Pager::token`], hand what it held to
/// [`Pager::advance`], stop when [`Pager::is_done`].
#[derive(Debug)]
pub struct Pager<T> {
    next: Option<T>,
    seen: HashSet<T>,
    pages: usize,
    /// Empty truncated pages in a row.
    empty_run: usize,
    /// The greatest key listed so far.
    greatest: Option<String>,
    /// Whether a key may go on from one page to the next (the uploads of
    /// one key in ListMultipartUploads); objects never do.
    key_spans_pages: bool,
    done: bool,
}

impl<T: Clone + Eq + Hash> Default for Pager<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash> Pager<T> {
    /// A listing of keys (ListObjectsV2): each page after the last.
    pub fn new() -> Self {
        Self {
            next: None,
            seen: HashSet::new(),
            pages: 0,
            empty_run: 0,
            greatest: None,
            key_spans_pages: false,
            done: false,
        }
    }

    /// A listing whose entries of one key may go on over pages
    /// (ListMultipartUploads): each page starts at or after the last.
    pub fn with_keys_spanning_pages() -> Self {
        Self {
            key_spans_pages: true,
            ..Self::new()
        }
    }

    /// The token to ask for the next page with; `None` for the first page.
    pub fn token(&self) -> Option<&T> {
        self.next.as_ref()
    }

    /// Whether the last page has been seen (or the listing failed).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Records a page holding `keys`: `truncated` as the server says,
    /// `next` its token. An error says why the listing cannot go on, and
    /// ends it.
    pub fn advance(
        &mut self,
        truncated: bool,
        next: Option<T>,
        keys: PageKeys<'_>,
    ) -> Result<(), PagingError> {
        self.pages += 1;
        self.done = true;
        if let (Some(before), Some(least)) = (&self.greatest, keys.least) {
            let behind = match self.key_spans_pages {
                true => least < before.as_str(),
                false => least <= before.as_str(),
            };
            if behind {
                return Err(PagingError::NotAdvancing {
                    page: self.pages,
                    least: least.to_owned(),
                    before: before.clone(),
                });
            }
        }
        if let Some(greatest) = keys.greatest
            && self.greatest.as_deref().is_none_or(|g| greatest > g)
        {
            self.greatest = Some(greatest.to_owned());
        }
        let items = keys.items;
        self.empty_run = if truncated && items == 0 {
            self.empty_run + 1
        } else {
            0
        };
        if self.empty_run >= MAX_EMPTY_TRUNCATED_PAGES {
            return Err(PagingError::EndlessEmptyPages {
                run: self.empty_run,
                page: self.pages,
            });
        }
        match (truncated, next) {
            (false, _) => Ok(()),
            (true, None) => Err(PagingError::NoToken { page: self.pages }),
            (true, Some(next)) if !self.seen.insert(next.clone()) => {
                Err(PagingError::RepeatedToken { page: self.pages })
            }
            (true, Some(next)) => {
                self.next = Some(next);
                self.done = false;
                Ok(())
            }
        }
    }

    /// Whether `common_prefix` is the entry the pages before ended in: some
    /// servers (LocalStack, versitygw) list that common prefix again at the
    /// top of the next page when the cut fell inside its group. It was
    /// listed already: [`Pager::accept_page`] drops it before advancing, so
    /// that it is neither yielded nor descended twice and the page still
    /// advances.
    fn repeats(&self, common_prefix: &str) -> bool {
        self.greatest.as_deref() == Some(common_prefix)
    }

    /// Records a page of objects and common prefixes, the one way every
    /// listing of keys takes a page: drops from `common_prefixes` the one
    /// repeated from the page before, then [`Pager::advance`]s over the
    /// objects' keys and the prefixes left, truncated when the page gave a
    /// `next` token.
    pub fn accept_page<'k>(
        &mut self,
        object_keys: impl IntoIterator<Item = &'k str>,
        common_prefixes: &'k mut Vec<String>,
        next: Option<T>,
    ) -> Result<(), PagingError> {
        common_prefixes.retain(|p| !self.repeats(p));
        let left: &'k Vec<String> = common_prefixes;
        let prefixes = left.iter().map(String::as_str);
        let keys = PageKeys::of(object_keys.into_iter().chain(prefixes));
        self.advance(next.is_some(), next, keys)
    }

    /// Marks the listing failed: no further pages.
    pub fn stop(&mut self) {
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_new_tokens_to_the_last_page() {
        let mut pager = Pager::new();
        assert_eq!(pager.token(), None);
        pager
            .advance(true, Some("a"), PageKeys::of(["k1"]))
            .unwrap();
        assert_eq!((pager.token(), pager.is_done()), (Some(&"a"), false));
        pager.advance(true, Some("b"), PageKeys::default()).unwrap();
        pager.advance(false, None, PageKeys::of(["k2"])).unwrap();
        assert!(pager.is_done());
    }

    #[test]
    fn a_repeated_token_is_an_error_however_far_back() {
        for cycle in [
            vec!["a", "a"],
            vec!["a", "b", "a"],
            vec!["a", "b", "c", "b"],
        ] {
            let mut pager = Pager::new();
            let (last, first) = cycle.split_last().unwrap();
            for token in first {
                pager
                    .advance(true, Some(*token), PageKeys::default())
                    .unwrap();
            }
            let err = pager
                .advance(true, Some(*last), PageKeys::default())
                .unwrap_err();
            assert!(err.to_string().contains("already returned"), "{err}");
            assert!(pager.is_done());
        }
    }

    #[test]
    fn endless_empty_pages_are_an_error_but_a_few_are_not() {
        let mut pager = Pager::new();
        let empty = PageKeys::default();
        for n in 0..MAX_EMPTY_TRUNCATED_PAGES - 1 {
            pager.advance(true, Some(n), empty).unwrap();
        }
        // A page with something in it starts the count again.
        pager
            .advance(true, Some(usize::MAX), PageKeys::of(["k"]))
            .unwrap();
        for n in 0..MAX_EMPTY_TRUNCATED_PAGES - 1 {
            pager
                .advance(true, Some(MAX_EMPTY_TRUNCATED_PAGES + n), empty)
                .unwrap();
        }
        let err = pager
            .advance(true, Some(usize::MAX - 1), empty)
            .unwrap_err();
        assert!(err.to_string().contains("empty pages in a row"), "{err}");
        assert!(pager.is_done());
    }

    #[test]
    fn truncated_without_a_token_is_an_error_not_the_end() {
        let mut pager = Pager::<String>::new();
        let err = pager.advance(true, None, PageKeys::of(["k"])).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        assert!(pager.is_done());
        // A last page may carry a stale token: it is not followed.
        let mut pager = Pager::new();
        pager
            .advance(false, Some("x".to_owned()), PageKeys::of(["k"]))
            .unwrap();
        assert!(pager.is_done());
    }

    #[test]
    fn a_page_that_does_not_advance_is_an_error_whatever_its_token() {
        let mut pager = Pager::new();
        pager
            .advance(true, Some(1), PageKeys::of(["b", "a"]))
            .unwrap();
        pager
            .advance(true, Some(2), PageKeys::of(["d", "c"]))
            .unwrap();
        // The first page again, under a token never seen.
        let err = pager
            .advance(true, Some(3), PageKeys::of(["a", "b"]))
            .unwrap_err();
        assert!(
            err.to_string().contains("ignores the continuation token"),
            "{err}"
        );
        // The common prefix a page ended in, listed again at the top of
        // the next: recognised, so the caller drops it; a key is not.
        let mut pager = Pager::new();
        pager
            .advance(true, Some(1), PageKeys::of(["d0/", "d1/"]))
            .unwrap();
        assert!(pager.repeats("d1/"));
        assert!(!pager.repeats("d0/") && !pager.repeats("d2/"));
        pager.advance(false, None, PageKeys::of(["d2/"])).unwrap();
        // accept_page drops it and still advances.
        let mut pager = Pager::new();
        let mut prefixes = vec!["d0/".to_owned(), "d1/".to_owned()];
        pager.accept_page(["a"], &mut prefixes, Some(1)).unwrap();
        let mut prefixes = vec!["d1/".to_owned(), "d2/".to_owned()];
        pager.accept_page([], &mut prefixes, None).unwrap();
        assert_eq!((prefixes, pager.is_done()), (vec!["d2/".to_owned()], true));
        // A key's uploads may go on over pages: the same key again is fine,
        // an earlier one is not.
        let mut pager = Pager::with_keys_spanning_pages();
        pager
            .advance(true, Some(1), PageKeys::of(["a", "k"]))
            .unwrap();
        pager
            .advance(true, Some(2), PageKeys::of(["k", "m"]))
            .unwrap();
        let err = pager
            .advance(true, Some(3), PageKeys::of(["a"]))
            .unwrap_err();
        assert!(
            err.to_string().contains("ignores the continuation token"),
            "{err}"
        );
    }
}
