//! Properties: the matcher agrees with globset (literal separators, `**`
//! adapted), and a planned listing returns exactly the brute-force filter
//! of a full listing, in the same order. The listing side runs over an
//! in-memory store that answers as S3 does (sorted keys, delimiter roll-up,
//! pages of a few keys so continuation is exercised); the integration tests
//! check the same property against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::MemoryStore;
use futures::StreamExt;
use proptest::prelude::*;
use s3sql_glob_list::{ExpandOptions, GlobExpander, KeyPattern};

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ab]{1,2}",
        Just("x=1".to_owned()),
        Just("x=2".to_owned()),
        Just("a.csv".to_owned())
    ]
}

fn key() -> impl Strategy<Value = String> {
    proptest::collection::vec(segment(), 1..4).prop_map(|s| s.join("/"))
}

fn pattern_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        segment(),
        Just("*".to_owned()),
        Just("**".to_owned()),
        Just("x=*".to_owned()),
        Just("?".to_owned()),
        Just("[a]*".to_owned()),
        Just("[!b]?".to_owned()),
        Just("*.csv".to_owned()),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(pattern_segment(), 1..4).prop_map(|s| s.join("/"))
}

proptest! {
    #[test]
    fn matcher_agrees_with_globset(pattern in pattern(), key in key()) {
        let ours = KeyPattern::parse(&pattern).unwrap();
        let glob = globset::GlobBuilder::new(&pattern).literal_separator(true).build().unwrap().compile_matcher();
        // globset's `a/**/b` and `**/b` need a segment for `**`; ours also
        // lets a leading or middle `**` match zero, so compare on both forms.
        let reference = glob.is_match(&key)
            || (pattern.contains("/**/") && globset::GlobBuilder::new(&pattern.replace("/**/", "/")).literal_separator(true).build().unwrap().compile_matcher().is_match(&key))
            || (pattern.starts_with("**/") && globset::GlobBuilder::new(&pattern[3..]).literal_separator(true).build().unwrap().compile_matcher().is_match(&key));
        prop_assume!(!pattern.contains("**/**"));
        prop_assert_eq!(ours.matches(&key), reference, "pattern {} key {}", pattern, key);
    }

    #[test]
    fn planned_listing_equals_brute_force(
        keys in proptest::collection::btree_set(key(), 0..25),
        pattern in pattern(),
        concurrency in 1usize..5,
        page_size in 1usize..5,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let parsed = KeyPattern::parse(&pattern).unwrap();
        let expected: Vec<String> = keys.iter().filter(|k| parsed.matches(k)).cloned().collect();
        let store = Arc::new(MemoryStore::new(keys, page_size));
        let expander = GlobExpander::new(Arc::clone(&store), ExpandOptions { allow_empty: true, concurrency, ..ExpandOptions::default() });
        let got: Vec<String> = rt
            .block_on(expander.expand_all(&[format!("s3://b/{pattern}")]))
            .unwrap()
            .into_iter()
            .map(|m| m.object.key)
            .collect();
        prop_assert_eq!(got, expected, "pattern {}", pattern);
        prop_assert!(store.max_in_flight() <= concurrency, "{} listings in flight, bound {}", store.max_in_flight(), concurrency);
    }

    /// Matches are held in memory only up to the bound: with one key a
    /// page, when the first match is yielded the store has returned at most
    /// `concurrency` (+1 for the page the walk must always be able to
    /// fetch) further matching keys, however large the levels are.
    #[test]
    fn memory_is_bounded_by_the_concurrency(
        keys in proptest::collection::btree_set(key(), 1..40),
        pattern in pattern(),
        concurrency in 1usize..4,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let parsed = KeyPattern::parse(&pattern).unwrap();
        let store = Arc::new(MemoryStore::new(keys, 1));
        let expander = GlobExpander::new(Arc::clone(&store), ExpandOptions { allow_empty: true, concurrency, ..ExpandOptions::default() });
        let mut matches = expander.expand(&format!("s3://b/{pattern}"));
        if let Some(first) = rt.block_on(matches.next()) {
            prop_assert!(first.is_ok());
            if parsed.literal_key().is_none() {
                let held = store.returned().iter().filter(|k| parsed.matches(k)).count() - 1;
                prop_assert!(held <= concurrency + 1, "{} matches held for {} at bound {}", held, pattern, concurrency);
            }
        }
    }

    #[test]
    fn a_pattern_is_never_empty(pattern in pattern()) {
        prop_assert!(KeyPattern::parse(&pattern).is_ok());
        prop_assert!(KeyPattern::literal(&pattern).is_ok());
        prop_assert!(KeyPattern::parse("").is_err());
        prop_assert!(KeyPattern::literal("").is_err());
    }
}
