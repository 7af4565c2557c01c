//! CREATE SECRET semantics: parameters, defaults and endpoint derivation for
//! every type, SCOPE matching and its tie-breaks, `which_secret`, the
//! listing, and MindsDB's parameters — checked against what DuckDB documents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use s3sql_s3_client::UrlStyle;
use s3sql_secrets::*;

fn params(pairs: &[(&str, ParamValue)]) -> Parameters {
    let mut p = Parameters::new();
    for (n, v) in pairs {
        p.insert(*n, v.clone()).unwrap();
    }
    p
}

fn s(v: &str) -> ParamValue {
    ParamValue::Str(v.to_owned())
}

async fn access(pairs: &[(&str, ParamValue)]) -> SecretAccess {
    Secret::new("t", params(pairs))
        .unwrap()
        .access()
        .await
        .unwrap()
}

/// Parameters, then the endpoint, region, URL style and USE_SSL they imply.
type EndpointCase<'a> = (
    Vec<(&'a str, ParamValue)>,
    Option<&'a str>,
    &'a str,
    UrlStyle,
    bool,
);

#[tokio::test]
async fn defaults_and_endpoints_per_type() {
    let cases: Vec<EndpointCase> = vec![
        (
            vec![("TYPE", s("s3")), ("KEY_ID", s("k")), ("SECRET", s("x"))],
            None,
            "us-east-1",
            UrlStyle::VirtualHosted,
            true,
        ),
        (
            vec![
                ("type", s("S3")),
                ("region", s("eu-west-1")),
                ("Endpoint", s("minio:9000")),
                ("url_style", s("PATH")),
                ("use_ssl", ParamValue::Bool(false)),
            ],
            Some("minio:9000"),
            "eu-west-1",
            UrlStyle::Path,
            false,
        ),
        (
            vec![
                ("TYPE", s("r2")),
                ("KEY_ID", s("k")),
                ("SECRET", s("x")),
                ("ACCOUNT_ID", s("abc123")),
            ],
            Some("abc123.r2.cloudflarestorage.com"),
            "us-east-1",
            UrlStyle::Path,
            true,
        ),
        (
            vec![("TYPE", s("r2")), ("ENDPOINT", s("r2.example:8443"))],
            Some("r2.example:8443"),
            "us-east-1",
            UrlStyle::Path,
            true,
        ),
        (
            vec![("TYPE", s("gcs")), ("KEY_ID", s("k")), ("SECRET", s("x"))],
            Some("storage.googleapis.com"),
            "us-east-1",
            UrlStyle::Path,
            true,
        ),
        (
            vec![
                ("TYPE", s("gcs")),
                ("URL_STYLE", s("vhost")),
                ("USE_SSL", s("f")),
            ],
            Some("storage.googleapis.com"),
            "us-east-1",
            UrlStyle::VirtualHosted,
            false,
        ),
    ];
    for (pairs, endpoint, region, style, ssl) in cases {
        let a = access(&pairs).await;
        assert_eq!(a.config.endpoint.as_deref(), endpoint, "{pairs:?}");
        assert_eq!(a.config.region, region, "{pairs:?}");
        assert_eq!(a.config.url_style, style, "{pairs:?}");
        assert_eq!(a.config.use_ssl, ssl, "{pairs:?}");
        assert!(!a.url_compatibility_mode);
    }
}

#[tokio::test]
async fn kms_requester_pays_and_compatibility_mode_reach_the_client() {
    let a = access(&[
        ("TYPE", s("s3")),
        ("KMS_KEY_ID", s("arn:aws:kms:eu-west-1:123:key/abc")),
        ("REQUESTER_PAYS", ParamValue::Bool(true)),
        ("URL_COMPATIBILITY_MODE", s("true")),
    ])
    .await;
    assert_eq!(
        a.config.sse_kms_key_id.as_deref(),
        Some("arn:aws:kms:eu-west-1:123:key/abc")
    );
    assert!(a.config.requester_pays);
    assert!(a.url_compatibility_mode);
    // No KEY_ID: unsigned requests to the configured endpoint.
    assert!(a.credentials.credentials().await.unwrap().is_none());
}

#[test]
fn bad_parameters_say_what_is_accepted() {
    let err =
        |pairs: &[(&str, ParamValue)]| Secret::new("t", params(pairs)).unwrap_err().to_string();
    let e = err(&[("TYPE", s("s3")), ("COLOUR", s("red"))]);
    assert!(
        e.contains("unknown parameter COLOUR for a s3 secret"),
        "{e}"
    );
    assert!(
        e.contains("KMS_KEY_ID") && e.contains("URL_STYLE") && !e.contains("ACCOUNT_ID"),
        "{e}"
    );
    let e = err(&[("TYPE", s("s3")), ("ACCOUNT_ID", s("a"))]);
    assert!(
        e.contains("unknown parameter ACCOUNT_ID for a s3 secret"),
        "{e}"
    );
    let e = err(&[("TYPE", s("gcs")), ("KMS_KEY_ID", s("k"))]);
    assert!(
        e.contains("unknown parameter KMS_KEY_ID for a gcs secret"),
        "{e}"
    );
    let e = err(&[("TYPE", s("s3")), ("USE_SSL", s("maybe"))]);
    assert!(
        e.contains("USE_SSL expects a BOOLEAN (true or false), got VARCHAR maybe"),
        "{e}"
    );
    let e = err(&[("TYPE", s("s3")), ("URL_STYLE", s("virtual"))]);
    assert!(e.contains("URL_STYLE expects 'vhost' or 'path'"), "{e}");
    let e = err(&[("TYPE", s("s3")), ("KEY_ID", s("k"))]);
    assert!(e.contains("KEY_ID is given without SECRET"), "{e}");
    let e = err(&[("TYPE", s("s3")), ("SECRET", s("only-the-secret-value"))]);
    assert!(
        e.contains("without KEY_ID") && !e.contains("only-the-secret-value"),
        "{e}"
    );
    let e = err(&[("TYPE", s("azure"))]);
    assert!(e.contains("unknown secret TYPE 'azure'"), "{e}");
    let e = err(&[("KEY_ID", s("k"))]);
    assert!(e.contains("TYPE is required"), "{e}");
    let e = err(&[("TYPE", s("s3")), ("PROVIDER", s("vault"))]);
    assert!(e.contains("unknown PROVIDER 'vault'"), "{e}");
    let e = err(&[("TYPE", s("r2")), ("KEY_ID", s("k")), ("SECRET", s("x"))]);
    assert!(e.contains("needs ACCOUNT_ID"), "{e}");
    let e = err(&[
        ("TYPE", s("r2")),
        ("ACCOUNT_ID", s("a")),
        ("ENDPOINT", s("e")),
    ]);
    assert!(e.contains("not both"), "{e}");
    let e = err(&[
        ("TYPE", s("s3")),
        ("PROVIDER", s("credential_chain")),
        ("CHAIN", s("env;ec2")),
    ]);
    assert!(e.contains("unknown provider 'ec2'"), "{e}");
    let e = err(&[("TYPE", s("s3")), ("CHAIN", s("env"))]);
    assert!(
        e.contains("unknown parameter CHAIN for a s3 secret with provider config"),
        "{e}"
    );
    let e = err(&[("TYPE", s("s3")), ("SCOPE", s("r2://b"))]);
    assert!(e.contains("invalid SCOPE 'r2://b'"), "{e}");
    let e = err(&[("TYPE", s("s3")), ("ENDPOINT", s(""))]);
    assert!(e.contains("ENDPOINT is empty"), "{e}");
    let e = Secret::new("bad name!", params(&[("TYPE", s("s3"))]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid secret name"), "{e}");
}

/// An ENDPOINT with `user:password@` is refused at CREATE SECRET with the
/// client's message (which hides the user info), so the password is never
/// stored, listed or written to disk.
#[test]
fn an_endpoint_with_a_user_or_password_is_refused_at_create() {
    let create =
        |endpoint: &str| Secret::new("t", params(&[("TYPE", s("s3")), ("ENDPOINT", s(endpoint))]));
    for endpoint in [
        "user:pwcanary@127.0.0.1:1",
        "http://user:pwcanary@minio:9000/base",
        "https://pwcanary@minio",
    ] {
        let e = create(endpoint).unwrap_err().to_string();
        assert!(e.contains("carries a user name or password"), "{e}");
        assert!(!e.contains("pwcanary"), "{e}");
    }
    // An '@' in the path is no user info.
    assert!(create("minio:9000/a@b").is_ok());
}

async fn manager_with(
    secrets: &[(&str, &[&str], Persistence)],
    dir: &std::path::Path,
) -> SecretManager {
    let m = SecretManager::new(Some(SecretDirectory::new(dir)));
    for (name, scopes, persistence) in secrets {
        let scope = if scopes.len() == 1 {
            s(scopes[0])
        } else {
            ParamValue::List(scopes.iter().map(|s| (*s).to_owned()).collect())
        };
        let mut p = params(&[("TYPE", s("s3")), ("KEY_ID", s(name)), ("SECRET", s("x"))]);
        if !scopes.is_empty() {
            p.insert("SCOPE", scope).unwrap();
        }
        m.create(name, p, *persistence, OnConflict::Error)
            .await
            .unwrap();
    }
    m
}

#[tokio::test]
async fn longest_scope_wins_then_temporary_then_name() {
    use Persistence::*;
    let dir = tempfile::tempdir().unwrap();
    let m = manager_with(
        &[
            ("everything", &[], Temporary),
            ("bucket1", &["s3://bucket1"], Persistent),
            ("logs", &["s3://bucket1/logs-2024"], Temporary),
            ("logs_p", &["s3://bucket1/logs-2024"], Persistent),
            ("b_twin", &["s3://twin"], Temporary),
            ("a_twin", &["s3://twin"], Temporary),
            ("multi", &["s3://m1", "s3://m2/deep"], Temporary),
        ],
        dir.path(),
    )
    .await;
    // (url, expected secret)
    let cases = [
        ("s3://bucket1/x.csv", Some("bucket1")),
        ("s3://bucket10/x.csv", Some("everything")),
        ("s3://bucket1/logs-2024-01.csv", Some("logs")),
        ("s3://bucket1/logs-2023.csv", Some("bucket1")),
        ("s3://twin/k", Some("a_twin")),
        ("s3://m2/deep/k", Some("multi")),
        ("s3://m2/shallow", Some("everything")),
        ("s3a://bucket1/x", Some("everything")),
        ("gs://bucket1/x", None),
    ];
    for (url, want) in cases {
        let ty = SecretType::for_url(&s3sql_s3_client::ObjectUrl::parse(url).unwrap());
        let got = m.which_secret(url, ty).unwrap().map(|m| m.name);
        assert_eq!(got.as_deref(), want, "{url}");
        let resolved = m.resolve(url).await.unwrap();
        assert_eq!(resolved.secret.map(|m| m.name).as_deref(), want, "{url}");
    }
    let why = m
        .which_secret("s3://bucket1/logs-2024-01.csv", SecretType::S3)
        .unwrap()
        .unwrap();
    assert_eq!(why.persistence, Temporary);
    assert_eq!(why.scope, "s3://bucket1/logs-2024");
    assert!(why.reason.contains("tie"), "{}", why.reason);
    let why = m
        .which_secret("s3://bucket1/x", SecretType::S3)
        .unwrap()
        .unwrap();
    assert!(
        why.reason.contains("longest covering scope"),
        "{}",
        why.reason
    );
    // A type asks only its own secrets.
    assert!(
        m.which_secret("s3://bucket1/x", SecretType::Gcs)
            .unwrap()
            .is_none()
    );
}

/// DuckDB's longest scope is the longest string as written: `s3://bk1/`
/// (9 characters) beats `s3://bk1` (8), and is listed with its `/`. The
/// two carry different keys, so signing with the other one shows.
#[tokio::test]
async fn a_scopes_trailing_slash_counts_as_in_duckdb() {
    use Persistence::*;
    let dir = tempfile::tempdir().unwrap();
    let m = manager_with(
        &[
            ("zz", &["s3://bk1/"], Temporary),
            ("aa", &["s3://bk1"], Temporary),
        ],
        dir.path(),
    )
    .await;
    let resolved = m.resolve("s3://bk1/x").await.unwrap();
    let creds = resolved.access.credentials.credentials().await.unwrap();
    assert_eq!(creds.unwrap().access_key_id, "zz");
    let why = m
        .which_secret("s3://bk1/x", SecretType::S3)
        .unwrap()
        .unwrap();
    assert_eq!((why.name.as_str(), why.scope.as_str()), ("zz", "s3://bk1/"));
    let scopes: Vec<(String, Vec<String>)> = m
        .list()
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.scope))
        .collect();
    assert_eq!(
        scopes,
        [
            ("aa".to_owned(), vec!["s3://bk1".to_owned()]),
            ("zz".to_owned(), vec!["s3://bk1/".to_owned()])
        ]
    );
}

#[tokio::test]
async fn resolve_without_a_secret_is_anonymous_with_type_defaults() {
    let m = SecretManager::new(None);
    let s3 = m.resolve("s3://public-bucket/k").await.unwrap();
    assert!(s3.secret.is_none());
    assert!(s3.access.credentials.credentials().await.unwrap().is_none());
    assert_eq!(s3.access.config.region, "us-east-1");
    assert_eq!(s3.access.config.url_style, UrlStyle::VirtualHosted);
    let gcs = m.resolve("gs://public/k").await.unwrap();
    assert_eq!(gcs.access.config.endpoint.as_deref(), Some(GCS_ENDPOINT));
    assert_eq!(gcs.access.config.url_style, UrlStyle::Path);
    let e = m.resolve("r2://b/k").await.unwrap_err().to_string();
    assert!(e.contains("ACCOUNT_ID"), "{e}");
    let e = m.resolve("http://b/k").await.unwrap_err().to_string();
    assert!(e.contains("unknown scheme 'http'"), "{e}");
}

#[tokio::test]
async fn create_conflicts_and_drop() {
    use Persistence::*;
    let dir = tempfile::tempdir().unwrap();
    let m = SecretManager::new(Some(SecretDirectory::new(dir.path())));
    let p = || params(&[("TYPE", s("s3")), ("KEY_ID", s("one")), ("SECRET", s("x"))]);
    assert_eq!(
        m.create("Mine", p(), Temporary, OnConflict::Error)
            .await
            .unwrap(),
        Created::New
    );
    let e = m
        .create("mine", p(), Temporary, OnConflict::Error)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("already exists in storage memory") && e.contains("CREATE OR REPLACE"),
        "{e}"
    );
    assert_eq!(
        m.create("mine", p(), Temporary, OnConflict::Ignore)
            .await
            .unwrap(),
        Created::Kept
    );
    let replaced = params(&[("TYPE", s("s3")), ("KEY_ID", s("two")), ("SECRET", s("x"))]);
    assert_eq!(
        m.create("MINE", replaced, Temporary, OnConflict::Replace)
            .await
            .unwrap(),
        Created::Replaced
    );
    assert_eq!(m.get("mine").unwrap().key_id(), Some("two"));
    // The same name may live in both storages; DROP must then say which.
    m.create("mine", p(), Persistent, OnConflict::Error)
        .await
        .unwrap();
    let e = m
        .drop_secret("mine", None, OnMissing::Error)
        .unwrap_err()
        .to_string();
    assert!(e.contains("DROP PERSISTENT SECRET"), "{e}");
    assert!(
        m.drop_secret("mine", Some(Persistent), OnMissing::Error)
            .unwrap()
    );
    assert!(!dir.path().join("mine.s3sql_secret").exists());
    assert!(m.drop_secret("mine", None, OnMissing::Error).unwrap());
    assert!(!m.drop_secret("mine", None, OnMissing::Ignore).unwrap());
    let e = m
        .drop_secret("mine", None, OnMissing::Error)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no secret named 'mine'"), "{e}");
    let no_dir = SecretManager::new(None);
    let e = no_dir
        .create("p", p(), Persistent, OnConflict::Error)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("persistent secrets are unavailable"), "{e}");
}

#[tokio::test]
async fn listing_shows_key_id_and_redacts_secret_and_token() {
    let m = SecretManager::new(None);
    let p = params(&[
        ("TYPE", s("r2")),
        ("KEY_ID", s("AKIAVISIBLEKEYID")),
        ("SECRET", s("wJalrXUtnFEMI-very-secret")),
        ("SESSION_TOKEN", s("FwoGZXIvYXdzEKS-session-token")),
        ("ACCOUNT_ID", s("acct42")),
        ("SCOPE", s("r2://warehouse")),
    ]);
    m.create("r2s", p, Persistence::Temporary, OnConflict::Error)
        .await
        .unwrap();
    let rows = m.list().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.name.as_str(), row.secret_type, row.provider),
        ("r2s", SecretType::R2, Provider::Config)
    );
    assert!(!row.persistent);
    assert_eq!(row.storage, "memory");
    assert_eq!(row.scope, vec!["r2://warehouse".to_owned()]);
    let shown = row.to_string();
    assert!(shown.contains("key_id=AKIAVISIBLEKEYID"), "{shown}");
    assert!(
        shown.contains("secret=redacted") && shown.contains("session_token=redacted"),
        "{shown}"
    );
    assert!(
        shown.contains("endpoint=acct42.r2.cloudflarestorage.com"),
        "{shown}"
    );
    let everything = format!("{shown} {row:?} {m:?} {:?}", m.get("r2s").unwrap());
    for leaked in ["wJalrXUtnFEMI", "FwoGZXIvYXdzEKS"] {
        assert!(!everything.contains(leaked), "{everything}");
    }
}

#[test]
fn mindsdb_parameters_map_onto_a_bucket_scoped_secret() {
    let p = params(&[
        ("aws_access_key_id", s("AQAXEQK89OX07YS34OP")),
        (
            "aws_secret_access_key",
            s("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ),
        ("region_name", s("us-east-2")),
        ("bucket", s("my-bucket")),
    ]);
    let c = MindsDbConnection::new("s3_datasource", &p).unwrap();
    assert_eq!(c.bucket.as_deref(), Some("my-bucket"));
    assert_eq!(
        c.url("folder/my file.csv"),
        "s3://my-bucket/folder/my file.csv"
    );
    assert_eq!(c.secret.key_id(), Some("AQAXEQK89OX07YS34OP"));
    assert_eq!(c.secret.settings().region.as_deref(), Some("us-east-2"));
    assert_eq!(c.secret.scopes()[0].to_string(), "s3://my-bucket");
    assert!(!format!("{c:?}").contains("wJalrXUtnFEMI"));

    let local = params(&[
        ("bucket", s("b")),
        ("endpoint_url", s("http://127.0.0.1:9000/")),
    ]);
    let c = MindsDbConnection::new("local", &local).unwrap();
    let e = c.secret.settings();
    assert_eq!(e.endpoint.as_deref(), Some("127.0.0.1:9000"));
    assert_eq!(
        (e.use_ssl, e.url_style),
        (Some(false), Some(UrlStyle::Path))
    );

    let err = |p: Parameters| MindsDbConnection::new("d", &p).unwrap_err().to_string();
    let e = err(params(&[("bucket", s("a/b"))]));
    assert!(e.contains("\"bucket\" must be a bucket name"), "{e}");
    let all = MindsDbConnection::new("all", &params(&[("region_name", s("eu-west-1"))])).unwrap();
    assert_eq!(all.bucket, None);
    assert_eq!(all.url("b1/k.csv"), "s3://b1/k.csv");
    assert_eq!(all.secret.scopes()[0].to_string(), "s3://");
    let e = err(params(&[("bucket", s("b")), ("aws_access_key_id", s("k"))]));
    assert!(
        e.contains("aws_access_key_id is given without aws_secret_access_key"),
        "{e}"
    );
    let e = err(params(&[("bucket", s("b")), ("password", s("p"))]));
    assert!(
        e.contains("unknown parameter 'password'") && e.contains("region_name"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_of_one_name_have_one_winner() {
    let m = std::sync::Arc::new(SecretManager::new(None));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let m = std::sync::Arc::clone(&m);
            tokio::spawn(async move {
                let p = params(&[
                    ("TYPE", s("s3")),
                    ("KEY_ID", s(&format!("k{i}"))),
                    ("SECRET", s("x")),
                ]);
                m.create("raced", p, Persistence::Temporary, OnConflict::Error)
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Created::New) => won += 1,
            Err(SecretError::AlreadyExists { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
}
