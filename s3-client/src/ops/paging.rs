//! Following a paginated listing (ListObjectsV2's continuation token,
//! ListMultipartUploads' key and upload-id markers): one rule for both. A
//! truncated page without a token, or a token the server already gave
//! (A→A, A→B→A), ends the listing in an error; it never loops forever and
//! never returns a silently short answer.

use std::collections::HashSet;
use std::hash::Hash;

/// Where a listing stands.
#[derive(Debug)]
pub(crate) struct Pager<T> {
    next: Option<T>,
    seen: HashSet<T>,
    pages: usize,
    done: bool,
}

impl<T: Clone + Eq + Hash> Pager<T> {
    pub(crate) fn new() -> Self {
        Self {
            next: None,
            seen: HashSet::new(),
            pages: 0,
            done: false,
        }
    }

    /// The token to ask for the next page with; `None` for the first page.
    pub(crate) fn token(&self) -> Option<&T> {
        self.next.as_ref()
    }

    /// Whether the last page has been seen (or the listing failed).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Records a page: `truncated` as the server says, `next` its token.
    /// An error describes why the listing cannot go on.
    pub(crate) fn advance(&mut self, truncated: bool, next: Option<T>) -> Result<(), String> {
        self.pages += 1;
        self.done = true;
        match (truncated, next) {
            (false, _) => Ok(()),
            (true, None) => Err(format!(
                "page {} of the listing is truncated but carries no token for the next page; the rest cannot be listed",
                self.pages
            )),
            (true, Some(next)) if !self.seen.insert(next.clone()) => Err(format!(
                "the server returned a continuation token it had already returned (page {}); the listing would never end",
                self.pages
            )),
            (true, Some(next)) => {
                self.next = Some(next);
                self.done = false;
                Ok(())
            }
        }
    }

    /// Marks the listing failed: no further pages.
    pub(crate) fn stop(&mut self) {
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
        pager.advance(true, Some("a")).unwrap();
        assert_eq!((pager.token(), pager.is_done()), (Some(&"a"), false));
        pager.advance(true, Some("b")).unwrap();
        pager.advance(false, None).unwrap();
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
                pager.advance(true, Some(*token)).unwrap();
            }
            let err = pager.advance(true, Some(*last)).unwrap_err();
            assert!(err.contains("already returned"), "{err}");
            assert!(pager.is_done());
        }
    }

    #[test]
    fn truncated_without_a_token_is_an_error_not_the_end() {
        let mut pager = Pager::<String>::new();
        let err = pager.advance(true, None).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(pager.is_done());
        // A last page may carry a stale token: it is not followed.
        let mut pager = Pager::new();
        pager.advance(false, Some("x".to_owned())).unwrap();
        assert!(pager.is_done());
    }
}
