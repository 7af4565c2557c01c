//! A MindsDB-style database outlives the process that created it: stored
//! beside the persistent secrets (`$XDG_CONFIG_HOME/s3sql`), in a 0600
//! file, and used by the next `s3sql` process; listings never show its
//! secret.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use s3sql_s3_client::PutObjectRequest;
use s3sql_testkit::S3Target;

mod common;

/// Runs the binary with `args` and `config` as its configuration home.
fn s3sql(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .output()
        .unwrap()
}

/// `CREATE DATABASE name` for the test target's bucket.
fn create_database(name: &str, target: &S3Target) -> String {
    format!(
        "CREATE DATABASE {name} WITH ENGINE = 's3', PARAMETERS = {{\"aws_access_key_id\": \"{}\", \"aws_secret_access_key\": \"{}\", \"region_name\": \"{}\", \"bucket\": \"{}\", \"endpoint_url\": \"{}\"}}",
        target.access_key_id,
        target.secret_access_key,
        target.region,
        target.bucket,
        target.endpoint
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_created_in_one_process_is_used_by_the_next() {
    let (target, client) = common::target_client().await;
    let key = target.key("mindsdb/nums.csv");
    client
        .put_object(
            &target.bucket,
            &key,
            bytes::Bytes::from_static(b"n,word\n1,one\n2,two\n"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let create = create_database("kept", &target);
    let out = s3sql(home.path(), &["-c", &create]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let stored = home
        .path()
        .join("s3sql/stored_databases/kept.s3sql_database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", stored.display());
    }

    let query = format!("SELECT sum(n) AS total FROM kept.`{key}`");
    let out = s3sql(home.path(), &["--format", "csv", "-c", &query]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "total\n3\n");

    let out = s3sql(
        home.path(),
        &[
            "--format",
            "csv",
            "-c",
            "SELECT \"Database\", parameters, storage FROM mindsdb_databases()",
        ],
    );
    let listed = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed.contains("kept,"), "{listed}");
    assert!(
        listed.contains("redacted") && listed.contains("stored_databases"),
        "{listed}"
    );
    assert!(!listed.contains(&target.secret_access_key), "{listed}");

    let out = s3sql(home.path(), &["-c", "DROP DATABASE kept"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stored.exists());
    let out = s3sql(home.path(), &["-c", &query]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("kept"), "{}", text(&out.stderr));
}

/// A CREATE [OR REPLACE] DATABASE followed by a syntax error on the same
/// `-c` line: the line echoed under the error has every quoted string
/// starred, double-quoted JSON values included.
#[tokio::test(flavor = "multi_thread")]
async fn a_syntax_error_never_echoes_a_database_secret() {
    let (target, _) = common::target_client().await;
    let secret = &target.secret_access_key;
    let parameters = format!(
        "{{\"aws_access_key_id\": \"{}\", \"aws_secret_access_key\": \"{secret}\", \"region_name\": \"{}\", \"bucket\": \"{}\", \"endpoint_url\": \"{}\"}}",
        target.access_key_id, target.region, target.bucket, target.endpoint
    );
    let create = format!("CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {parameters}");
    for sql in [
        format!("CREATE OR REPLACE DATABASE d WITH ENGINE = 's3', PARAMETERS = {parameters} x"),
        format!("{create}; SELECT * FROM t WHERE )"),
        format!("{create}; SELECT * FROM d.my-file.csv"),
    ] {
        let home = tempfile::tempdir().unwrap();
        let out = s3sql(home.path(), &["-c", &sql]);
        let error = text(&out.stderr);
        assert!(!out.status.success(), "{sql}");
        assert!(error.contains("LINE 1"), "{sql}: {error}");
        assert!(!error.contains(secret.as_str()), "{sql}: {error}");
    }
}

/// A stored database that no longer loads (here a region with a NUL, which
/// databases stored before control characters were refused may hold) is
/// not hidden: SHOW DATABASES lists it with its file and the problem, a
/// query and CREATE name both, and DROP DATABASE deletes the file, after
/// which the name can be created again. Its secret is never shown.
#[tokio::test(flavor = "multi_thread")]
async fn a_stored_database_that_no_longer_loads_is_listed_and_can_be_dropped() {
    let (target, _) = common::target_client().await;
    let home = tempfile::tempdir().unwrap();
    let create = create_database("pz", &target);
    let out = s3sql(home.path(), &["-c", &create]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = home.path().join("s3sql/stored_databases/pz.s3sql_database");
    let json = std::fs::read_to_string(&stored).unwrap();
    let region = format!("\"{}\"", target.region);
    assert!(json.contains(&region), "{json}");
    std::fs::write(
        &stored,
        json.replace(&region, &format!("\"{}\\u0000\"", target.region)),
    )
    .unwrap();
    let secret = target.secret_access_key.as_str();
    let file = stored.display().to_string();

    let out = s3sql(
        home.path(),
        &[
            "--format",
            "csv",
            "-c",
            "SELECT \"Database\", problem FROM mindsdb_databases()",
        ],
    );
    let listed = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listed.starts_with("Database,problem\npz,"), "{listed}");
    assert!(
        listed.contains(&file)
            && listed.contains("region_name")
            && listed.contains("DROP DATABASE pz"),
        "{listed}"
    );
    let out = s3sql(home.path(), &["--format", "csv", "-c", "SHOW DATABASES"]);
    assert!(text(&out.stdout).contains("pz,"), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains(secret), "{}", text(&out.stdout));

    for sql in [
        "SELECT count(*) FROM pz.`a.csv`".to_owned(),
        "SHOW TABLES FROM pz".to_owned(),
        create.clone(),
    ] {
        let out = s3sql(home.path(), &["-c", &sql]);
        let error = text(&out.stderr);
        assert!(!out.status.success(), "{sql}");
        assert!(
            error.contains(&file) && error.contains("region_name"),
            "{sql}: {error}"
        );
        assert!(!error.contains(secret), "{sql}: {error}");
    }

    let out = s3sql(home.path(), &["-c", "DROP DATABASE pz"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stored.exists());
    let out = s3sql(home.path(), &["-c", &create]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
