//! Properties: parsing and matching never panic on arbitrary input, the
//! winner of scope matching equals a brute-force reading of the rule, and
//! redaction holds for arbitrary secret strings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use s3sql_secrets::*;

fn any_value() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<bool>().prop_map(ParamValue::Bool),
        any::<i64>().prop_map(ParamValue::Int),
        ".{0,20}".prop_map(ParamValue::Str),
        prop::collection::vec(".{0,12}", 0..3).prop_map(ParamValue::List),
    ]
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "TYPE",
            "PROVIDER",
            "KEY_ID",
            "SECRET",
            "SESSION_TOKEN",
            "REGION",
            "ENDPOINT",
            "URL_STYLE",
            "USE_SSL",
            "URL_COMPATIBILITY_MODE",
            "ACCOUNT_ID",
            "KMS_KEY_ID",
            "SCOPE",
            "CHAIN",
            "PROFILE",
            "VALIDATION",
            "REFRESH",
            "REQUESTER_PAYS",
        ])
        .prop_map(str::to_owned),
        "[A-Za-z_]{1,12}",
    ]
}

/// A scope or URL: often well formed (a scheme a secret type serves, a
/// bucket, maybe a key), sometimes anything, so that matching runs on
/// pairs that parse and parsing on text that does not.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["s3", "s3", "r2", "gcs", "gs", "S3", "http"]);
    let bucket = prop_oneof![
        4 => "[a-z0-9][a-z0-9.-]{1,6}[a-z0-9]",
        1 => "[a-z0-9.-]{0,8}",
    ];
    let key = prop::option::of("[a-z/é %?*]{0,10}");
    prop_oneof![
        1 => ".{0,40}",
        4 => (scheme, bucket, key).prop_map(|(scheme, bucket, key)| match key {
            Some(key) => format!("{scheme}://{bucket}/{key}"),
            None => format!("{scheme}://{bucket}"),
        }),
    ]
}

/// Whether a scope of `text` and a URL `url` both parse for some type, so
/// that matching them runs.
fn both_parse(text: &str, url: &str) -> bool {
    SecretType::ALL
        .iter()
        .any(|t| Scope::parse(text, *t).is_ok() && s3sql_s3_client::ObjectUrl::parse(url).is_ok())
}

/// The matching branch of `url_and_scope_parsing_never_panic` runs: with
/// arbitrary text it practically never did.
#[test]
fn url_and_scope_pairs_often_both_parse() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let pairs = (url_like(), url_like());
    let hits = (0..256)
        .filter(|_| {
            let (text, url) = pairs.new_tree(&mut runner).unwrap().current();
            both_parse(&text, &url)
        })
        .count();
    assert!(hits >= 32, "only {hits} of 256 pairs both parse");
}

proptest! {
    #[test]
    fn secret_parsing_never_panics(
        name in ".{0,20}",
        pairs in prop::collection::vec((any_name(), any_value()), 0..8),
    ) {
        let mut p = Parameters::new();
        for (n, v) in pairs {
            let _ = p.insert(n, v);
        }
        let _ = Secret::new(&name, p.clone());
        let _ = MindsDbConnection::new("db", &p);
    }

    #[test]
    fn url_and_scope_parsing_never_panic(text in url_like(), url in url_like()) {
        for t in SecretType::ALL {
            if let (Ok(scope), Ok(loc)) = (Scope::parse(&text, t), s3sql_s3_client::ObjectUrl::parse(&url)) {
                let _ = scope.covers(&loc);
                let _ = scope.specificity();
            }
        }
        let m = SecretManager::new(None);
        let _ = m.which_secret(&url, SecretType::S3);
    }

    #[test]
    fn the_longest_covering_scope_wins(
        scopes in prop::collection::vec(("[ab]{1,2}", "[xy/]{0,3}", any::<bool>()), 1..6),
        bucket in "[ab]{1,2}",
        key in "[xy/]{0,4}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let m = SecretManager::new(Some(SecretDirectory::new(dir.path())));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut expected: Vec<(usize, Persistence, String)> = Vec::new();
        let url = format!("s3://{bucket}/{key}");
        for (i, (b, prefix, persistent)) in scopes.iter().enumerate() {
            let name = format!("s{i}");
            let scope = format!("s3://{b}/{prefix}");
            let persistence = if *persistent { Persistence::Persistent } else { Persistence::Temporary };
            let p = Parameters::new().with("TYPE", "s3").unwrap().with("SCOPE", scope.as_str()).unwrap();
            rt.block_on(m.create(&name, p, persistence, OnConflict::Error)).unwrap();
            // The rule, read literally: same bucket, key starts with the prefix.
            if *b == bucket && key.starts_with(prefix.as_str()) {
                let shown = Scope::parse(&scope, SecretType::S3).unwrap().to_string();
                expected.push((shown.len(), persistence, name));
            }
        }
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let got = m.which_secret(&url, SecretType::S3).unwrap().map(|m| m.name);
        prop_assert_eq!(got, expected.first().map(|e| e.2.clone()));
    }

    #[test]
    fn secret_values_never_appear_in_debug_display_or_listing(
        secret in "[A-Za-z0-9/+=]{12,40}",
        token in "[A-Za-z0-9/+=]{12,60}",
    ) {
        let p = Parameters::new()
            .with("TYPE", "s3").unwrap()
            .with("KEY_ID", "AKIAPROPTEST").unwrap()
            .with("SECRET", secret.as_str()).unwrap()
            .with("SESSION_TOKEN", token.as_str()).unwrap();
        let m = SecretManager::new(None);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(m.create("p", p.clone(), Persistence::Temporary, OnConflict::Error)).unwrap();
        let s = m.get("p").unwrap();
        let access = rt.block_on(s.access()).unwrap();
        let listing = m.list().unwrap();
        let printed = format!(
            "{p:?} {s:?} {m:?} {access:?} {listing:?} {} {:?}",
            listing[0],
            s.parameters().redacted(),
        );
        prop_assert!(printed.contains("AKIAPROPTEST"));
        prop_assert!(!printed.contains(&secret), "{}", printed);
        prop_assert!(!printed.contains(&token), "{}", printed);
        // A wrong type for SECRET does not echo the value either.
        let bad = Parameters::new().with("TYPE", "s3").unwrap().with("KEY_ID", "k").unwrap()
            .with("SECRET", ParamValue::List(vec![secret.clone()])).unwrap();
        let err = Secret::new("bad", bad).unwrap_err().to_string();
        prop_assert!(!err.contains(&secret), "{}", err);
    }
}
