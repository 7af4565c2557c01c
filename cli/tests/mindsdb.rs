//! A MindsDB-style database outlives the process that created it: stored
//! beside the persistent secrets (`$XDG_CONFIG_HOME/s3sql`), in a 0600
//! file, and used by the next `s3sql` process; listings never show its
//! secret.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use s3sql_s3_client::PutObjectRequest;

mod common;

/// Runs the binary with `args` and `config` as its configuration home.
fn s3sql(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .output()
        .unwrap()
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
    let create = format!(
        "CREATE DATABASE kept WITH ENGINE = 's3', PARAMETERS = {{\"aws_access_key_id\": \"{}\", \"aws_secret_access_key\": \"{}\", \"region_name\": \"{}\", \"bucket\": \"{}\", \"endpoint_url\": \"{}\"}}",
        target.access_key_id,
        target.secret_access_key,
        target.region,
        target.bucket,
        target.endpoint
    );
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
