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

/// Runs `script`, written to a file in `config`, with `-f` (CSV output).
fn run_script(config: &Path, script: &str) -> Output {
    let file = config.join("script.sql");
    std::fs::write(&file, script).unwrap();
    s3sql(config, &["--format", "csv", "-f", file.to_str().unwrap()])
}

/// `CREATE DATABASE name` for the test target's bucket.
fn create_database(name: &str, target: &S3Target) -> String {
    create_database_at(name, target, &target.endpoint)
}

/// `CREATE DATABASE name` for the test target's bucket, reached at
/// `endpoint` (a fault proxy in front of the target).
fn create_database_at(name: &str, target: &S3Target, endpoint: &str) -> String {
    format!(
        "CREATE DATABASE {name} WITH ENGINE = 's3', PARAMETERS = {{\"aws_access_key_id\": \"{}\", \"aws_secret_access_key\": \"{}\", \"region_name\": \"{}\", \"bucket\": \"{}\", \"endpoint_url\": \"{endpoint}\"}}",
        target.access_key_id, target.secret_access_key, target.region, target.bucket,
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

/// Without a configuration home (neither XDG_CONFIG_HOME nor HOME, as
/// under `env -i` or some cron jobs), CREATE DATABASE is refused as CREATE
/// PERSISTENT SECRET is, saying what to set: it answered Success and kept
/// the database in memory, and the next process had no such database
/// (review-10h #11).
#[tokio::test(flavor = "multi_thread")]
async fn without_a_config_home_create_database_is_refused_as_a_persistent_secret_is() {
    let (target, _client) = common::target_client().await;
    let homeless = |sql: &str| {
        Command::new(env!("CARGO_BIN_EXE_s3sql"))
            .args(["-c", sql])
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("HOME")
            .output()
            .unwrap()
    };
    let secret = homeless("CREATE PERSISTENT SECRET ps (TYPE s3, KEY_ID 'k', SECRET 's')");
    assert!(!secret.status.success(), "{}", text(&secret.stdout));
    assert!(
        text(&secret.stderr).contains("set XDG_CONFIG_HOME or HOME"),
        "{}",
        text(&secret.stderr)
    );
    let out = homeless(&create_database("nohome", &target));
    let error = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        error.contains("database 'nohome' cannot be created")
            && error.contains("set XDG_CONFIG_HOME or HOME")
            && !error.contains(&target.secret_access_key),
        "{error}"
    );
}

/// The reference page's example, its `;` before `LIMIT 10` kept, run from
/// a file: the rows, then one error at the one spot, line 3 of the file
/// (review-10g #10: a "caused by" repeated the message at "Line: 1,
/// Column: 1", the position within the statement).
#[tokio::test(flavor = "multi_thread")]
async fn the_pages_example_run_from_a_file_points_at_one_spot() {
    let (target, client) = common::target_client().await;
    let key = target.key("mindsdb/page.csv");
    client
        .put_object(
            &target.bucket,
            &key,
            bytes::Bytes::from_static(b"n\n1\n"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = s3sql(
        home.path(),
        &["-c", &create_database("s3_datasource", &target)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run_script(
        home.path(),
        &format!("SELECT *\nFROM s3_datasource.`{key}`;\nLIMIT 10;\n"),
    );
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert_eq!(text(&out.stdout), "n\n1\n");
    assert!(
        error.contains("found: LIMIT at Line: 3, Column: 1")
            && error.contains("remove the ';' before it")
            && error.contains("LINE 3: LIMIT 10;"),
        "{error}"
    );
    assert!(
        !error.contains("caused by") && !error.contains("Line: 1,"),
        "{error}"
    );
}

/// A CREATE DATABASE whose PARAMETERS miss a comma on a script's third
/// line: the error names line 3 and echoes it (review-s24 F15: "at line
/// 2" / "LINE 2", counted in the statement, which began on line 2).
#[test]
fn a_parameters_error_in_a_script_names_the_scripts_line() {
    let home = tempfile::tempdir().unwrap();
    let out = run_script(
        home.path(),
        "SELECT 1 AS one;\nCREATE DATABASE c12 WITH ENGINE = 's3', PARAMETERS = {\"aws_access_key_id\": \"AK\"\n \"aws_secret_access_key\": \"TOPSECRET\", \"bucket\": \"b\"};\n",
    );
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert!(
        error.contains("(a comma is missing before this) at line 3, column 2\nLINE 3:  \"aws_secret_access_key\": \"*********\"")
            && error.matches("LINE ").count() == 1
            && !error.contains("TOPSECRET"),
        "{error}"
    );
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

/// A second Ctrl-C during an INSERT (its upload's abort held up by the
/// proxy) stops without waiting, in INSERT's words, naming the upload
/// that may stay open by key and upload id with how to abort it; the
/// object keeps its rows. It said "COPY interrupted twice: ... some may
/// stay open (ListMultipartUploads)" (review-10f #5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_during_an_insert_names_the_upload_it_leaves_open() {
    use std::time::Duration;

    use s3sql_s3_client::GetObjectRequest;
    use s3sql_testkit::{Fault, FaultRule};

    let (target, client) = common::target_client().await;
    let key = target.key("mindsdb/interrupted_twice.csv");
    let old = b"id,pad\n1,x\n2,y\n".as_slice();
    client
        .put_object(
            &target.bucket,
            &key,
            bytes::Bytes::from_static(old),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    // Parts upload slowly, so the upload is open when the Ctrl-C comes;
    // its abort (DELETE ?uploadId=) waits long enough for the second one.
    let proxy = common::slow_part_uploads(&target);
    proxy.push_rule(
        FaultRule::new(Fault::Delay(Duration::from_secs(30)))
            .query_contains("uploadId")
            .always(),
    );
    let home = tempfile::tempdir().unwrap();
    let insert = format!(
        "INSERT INTO m.`{key}` SELECT value AS id, repeat('y', 40) AS pad FROM range(3000000)"
    );
    let args = [
        create_database_at("m", &target, &proxy.endpoint()),
        "SET s3_uploader_max_filesize = '1MB'".to_owned(),
        insert,
    ]
    .into_iter()
    .flat_map(|sql| ["-c".to_owned(), sql])
    .collect::<Vec<_>>();
    let mut child = common::spawn(&args, home.path());
    let open = common::upload_started((&client, &proxy), &target.bucket, &key, 1, &mut child).await;
    assert_eq!(open.len(), 1, "{open:?}");
    common::sigint(child.id());
    // The first Ctrl-C's abort is under way (held by the proxy).
    tokio::time::sleep(Duration::from_millis(500)).await;
    common::sigint(child.id());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let error = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{error}");
    let upload = &open[0].upload_id;
    for said in [
        format!("INSERT INTO m.`{key}`: interrupted twice: "),
        "the object is as it was".to_owned(),
        format!(
            "upload {upload} of s3://{}/{key} may stay open",
            target.bucket
        ),
        format!(
            "aws s3api abort-multipart-upload --bucket {} --key {key} --upload-id {upload}",
            target.bucket
        ),
    ] {
        assert!(error.contains(&said), "{said}: {error}");
    }
    assert!(!error.contains("COPY"), "{error}");
    assert_eq!(error.matches("Ctrl-C").count(), 1, "{error}");
    let kept = client
        .get_object(&target.bucket, &key, &GetObjectRequest::default())
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap();
    assert_eq!(kept.as_ref(), old);
    client
        .abort_multipart_upload(&target.bucket, &key, upload)
        .await
        .unwrap();
}
