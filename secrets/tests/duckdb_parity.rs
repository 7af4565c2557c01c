//! s3sql next to DuckDB 1.5.5 (httpfs from PyPI) on the same statements:
//! which secret serves each URL (`which_secret`), and which CREATE SECRET
//! parameter sets are accepted. Every place the two differ is listed here
//! with its reason, so a difference nobody chose fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use s3sql_secrets::*;
use s3sql_testkit::run_duckdb_script;
use serde_json::{Value, json};

fn p(pairs: &[(&str, ParamValue)]) -> Parameters {
    let mut params = Parameters::new();
    for (n, v) in pairs {
        params.insert(*n, v.clone()).unwrap();
    }
    params
}

fn s(v: &str) -> ParamValue {
    ParamValue::Str(v.to_owned())
}

fn keyed(ty: &str, extra: &[(&str, ParamValue)]) -> Parameters {
    let mut params = p(&[
        ("TYPE", s(ty)),
        ("KEY_ID", s("AKIAPARITY")),
        ("SECRET", s("parity-secret")),
    ]);
    for (n, v) in extra {
        params.insert(*n, v.clone()).unwrap();
    }
    params
}

/// Runs the DuckDB side and returns its JSON answer.
fn duckdb(request: &Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/duckdb_which_secret.py");
    let out = run_duckdb_script(Path::new(script), request.to_string().as_bytes());
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test]
async fn which_secret_and_parameter_checks_match_duckdb_except_where_chosen() {
    let secrets: Vec<(&str, bool, Parameters)> = vec![
        ("everything", false, keyed("s3", &[])),
        (
            "bucket1",
            true,
            keyed("s3", &[("SCOPE", s("s3://bucket1"))]),
        ),
        (
            "logs",
            false,
            keyed("s3", &[("SCOPE", s("s3://bucket1/logs-2024"))]),
        ),
        (
            "logs_p",
            true,
            keyed("s3", &[("SCOPE", s("s3://bucket1/logs-2024"))]),
        ),
        ("b_twin", false, keyed("s3", &[("SCOPE", s("s3://twin"))])),
        ("slash_zz", false, keyed("s3", &[("SCOPE", s("s3://bk1/"))])),
        ("slash_aa", false, keyed("s3", &[("SCOPE", s("s3://bk1"))])),
        ("a_twin", false, keyed("s3", &[("SCOPE", s("s3://twin"))])),
        (
            "multi",
            false,
            keyed(
                "s3",
                &[(
                    "SCOPE",
                    ParamValue::List(vec!["s3://m1".into(), "s3://m2/deep".into()]),
                )],
            ),
        ),
        ("r2_all", false, keyed("r2", &[("ACCOUNT_ID", s("acct"))])),
        (
            "r2_lake",
            false,
            keyed(
                "r2",
                &[("ACCOUNT_ID", s("acct")), ("SCOPE", s("r2://lake"))],
            ),
        ),
        ("gcs_all", false, keyed("gcs", &[])),
        (
            "gcs_gs",
            false,
            keyed("gcs", &[("SCOPE", s("gs://warehouse/2024"))]),
        ),
    ];
    let urls: Vec<(&str, SecretType)> = vec![
        ("s3://bucket1/x.csv", SecretType::S3),
        ("s3://bucket1/logs-2024-01.csv", SecretType::S3),
        ("s3://bucket1/logs-2023.csv", SecretType::S3),
        ("s3://bucket10/x.csv", SecretType::S3),
        ("s3://twin/k", SecretType::S3),
        ("s3://twins/k", SecretType::S3),
        ("s3://bk1/x", SecretType::S3),
        ("s3://m2/deep/k", SecretType::S3),
        ("s3://m2/shallow", SecretType::S3),
        ("s3a://bucket1/x", SecretType::S3),
        ("s3n://any/x", SecretType::S3),
        ("s3://bucket1/x", SecretType::Gcs),
        ("r2://lake/t.parquet", SecretType::R2),
        ("r2://lakehouse/t.parquet", SecretType::R2),
        ("gs://warehouse/2024/a", SecretType::Gcs),
        ("gcs://warehouse/2024/a", SecretType::Gcs),
        ("gs://other/a", SecretType::Gcs),
    ];
    // URLs where DuckDB's plain string prefix hands a secret to another
    // bucket (`s3://twin` covering `s3://twins`), which s3sql refuses.
    let different_bucket = [
        "s3://bucket10/x.csv",
        "s3://twins/k",
        "r2://lakehouse/t.parquet",
    ];

    // Parameter sets, and whether s3sql differs from DuckDB on purpose.
    let statements: Vec<(Parameters, Option<&str>)> = vec![
        (keyed("s3", &[("REGION", s("eu-west-1"))]), None),
        (keyed("s3", &[("USE_SSL", s("maybe"))]), None),
        (keyed("s3", &[("USE_SSL", s("false"))]), None),
        (keyed("s3", &[("ACCOUNT_ID", s("a"))]), None),
        (keyed("s3", &[("COLOUR", s("red"))]), None),
        (
            keyed(
                "s3",
                &[
                    ("URL_STYLE", s("path")),
                    ("ENDPOINT", s("minio:9000")),
                    ("USE_SSL", ParamValue::Bool(false)),
                ],
            ),
            None,
        ),
        (
            keyed(
                "s3",
                &[
                    ("SESSION_TOKEN", s("t")),
                    ("KMS_KEY_ID", s("arn:aws:kms:k")),
                ],
            ),
            None,
        ),
        (
            keyed(
                "s3",
                &[
                    ("REQUESTER_PAYS", ParamValue::Bool(true)),
                    ("URL_COMPATIBILITY_MODE", ParamValue::Bool(true)),
                ],
            ),
            None,
        ),
        (keyed("r2", &[("ACCOUNT_ID", s("acct"))]), None),
        (keyed("gcs", &[]), None),
        (keyed("gcs", &[("ACCOUNT_ID", s("acct"))]), None),
        (
            p(&[("TYPE", s("s3")), ("ENDPOINT", s("public.example:9000"))]),
            None,
        ),
        (
            p(&[("TYPE", s("s3")), ("KEY_ID", s("k"))]),
            Some("KEY_ID without SECRET cannot sign anything; s3sql says so at CREATE"),
        ),
        (
            p(&[("TYPE", s("s3")), ("ENDPOINT", s("user:pw@127.0.0.1:1"))]),
            Some(
                "a user name or password in ENDPOINT is a credential the client refuses; s3sql refuses it at CREATE, so it is never listed or stored",
            ),
        ),
        (
            keyed("s3", &[("SCOPE", s("r2://b"))]),
            Some("a scope no URL of the type can match is a mistake; s3sql names the schemes"),
        ),
        (
            keyed("gcs", &[("KMS_KEY_ID", s("k"))]),
            Some("SSE-KMS is an AWS feature; DuckDB documents KMS_KEY_ID for s3 only"),
        ),
        (
            keyed("r2", &[]),
            Some("an r2 secret without ACCOUNT_ID or ENDPOINT has nowhere to send requests"),
        ),
        (
            keyed("s3", &[("URL_STYLE", s("virtual"))]),
            Some(
                "URL_STYLE takes 'vhost' or 'path'; DuckDB accepts any string and falls back to vhost",
            ),
        ),
    ];

    let request = json!({
        "secrets": secrets.iter().map(|(name, persistent, params)| json!({
            "name": name, "persistent": persistent, "params": params,
        })).collect::<Vec<_>>(),
        "urls": urls.iter().map(|(u, t)| json!([u, t.as_str()])).collect::<Vec<_>>(),
        "statements": statements.iter().map(|(params, _)| params).collect::<Vec<_>>(),
    });
    let answer = duckdb(&request);

    let dir = tempfile::tempdir().unwrap();
    let m = SecretManager::new(Some(SecretDirectory::new(dir.path())));
    for (name, persistent, params) in &secrets {
        let persistence = if *persistent {
            Persistence::Persistent
        } else {
            Persistence::Temporary
        };
        m.create(name, params.clone(), persistence, OnConflict::Error)
            .await
            .unwrap();
    }
    for (i, (url, ty)) in urls.iter().enumerate() {
        let theirs = answer["which"][i].as_str();
        let ours = m.which_secret(url, *ty).unwrap().map(|w| w.name);
        if different_bucket.contains(url) {
            assert_ne!(
                ours.as_deref(),
                theirs,
                "{url}: expected the bucket-whole difference"
            );
            // DuckDB's pick has a scope naming another bucket; ours covers the URL properly.
            let theirs = m.get(theirs.unwrap()).unwrap();
            let location = s3sql_s3_client::ObjectUrl::parse(url).unwrap();
            assert!(
                !theirs.scopes().iter().any(|s| s.covers(&location)),
                "{url}"
            );
        } else {
            assert_eq!(
                ours.as_deref(),
                theirs,
                "which_secret('{url}', '{}')",
                ty.as_str()
            );
        }
    }
    for (i, (params, why_different)) in statements.iter().enumerate() {
        let theirs = answer["accepted"][i].as_bool().unwrap();
        let ours = Secret::new("probe", params.clone());
        match why_different {
            None => assert_eq!(
                ours.is_ok(),
                theirs,
                "{params:?}: s3sql {ours:?}, DuckDB accepted={theirs}"
            ),
            Some(reason) => {
                assert!(
                    theirs,
                    "{params:?}: DuckDB now rejects it too; drop the difference ({reason})"
                );
                assert!(ours.is_err(), "{params:?}: s3sql accepts it ({reason})");
            }
        }
    }
}
