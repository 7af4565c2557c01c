//! CREATE / DROP SECRET through SQL, and the choice of a secret per file:
//! two secrets scoped to two prefixes of one bucket each sign their own
//! files. On the in-process server, which checks every signature.

use s3sql_planner::Session;
use s3sql_secrets::SecretManager;

use crate::support::{Bucket, error_of, query};

const WRONG: &str = "wrong-secret-value-0123456789";

#[tokio::test]
async fn each_prefix_is_signed_by_its_own_secret() {
    let bucket = Bucket::in_process().await;
    bucket.put("good/a.csv", "x\n1\n").await;
    bucket.put("bad/b.csv", "x\n2\n").await;
    let session = Session::with_secrets(SecretManager::new(None));
    let good = bucket.create_secret("good", &bucket.secret_access_key, Some(&bucket.url("good")));
    let bad = bucket.create_secret("bad", WRONG, Some(&bucket.url("bad")));
    session.sql(&format!("{good}; {bad}")).await.unwrap();

    let read_good = format!("SELECT x FROM '{}'", bucket.url("good/a.csv"));
    assert_eq!(
        query(&session, &read_good).await,
        ["+---+", "| x |", "+---+", "| 1 |", "+---+"]
    );
    let read_bad = format!("SELECT x FROM '{}'", bucket.url("bad/b.csv"));
    let error = error_of(&session, &read_bad).await;
    // A HEAD's 403 has no body to name the code; the client's hint says what to check.
    assert!(
        error.contains("403 Forbidden") && error.contains("bad/b.csv"),
        "{error}"
    );
    assert!(!error.contains(WRONG), "the secret leaked: {error}");
    assert!(
        !error.contains(&bucket.secret_access_key),
        "the secret leaked: {error}"
    );

    // Fixing the second secret fixes only the second prefix's reads.
    let fixed = bucket
        .create_secret("bad", &bucket.secret_access_key, Some(&bucket.url("bad")))
        .replace("CREATE SECRET", "CREATE OR REPLACE SECRET");
    session.sql(&fixed).await.unwrap();
    let both = format!(
        "SELECT sum(x) AS s FROM read_csv(['{}', '{}'])",
        bucket.url("good/a.csv"),
        bucket.url("bad/b.csv")
    );
    assert_eq!(
        query(&session, &both).await,
        ["+---+", "| s |", "+---+", "| 3 |", "+---+"]
    );
}

#[tokio::test]
async fn create_and_drop_secret_statements() {
    let bucket = Bucket::in_process().await;
    let session = Session::with_secrets(SecretManager::new(None));
    let create = bucket.create_secret("mine", WRONG, None);
    assert_eq!(
        query(&session, &create).await,
        [
            "+---------+",
            "| Success |",
            "+---------+",
            "| true    |",
            "+---------+"
        ]
    );
    let again = error_of(&session, &create).await;
    assert!(again.contains("mine"), "{again}");
    assert!(!again.contains(WRONG), "the secret leaked: {again}");
    session
        .sql(&create.replace("CREATE SECRET mine", "CREATE SECRET IF NOT EXISTS mine"))
        .await
        .unwrap();
    assert!(session.secrets().get("mine").is_some());
    assert!(!format!("{:?}", session.parse(&create).unwrap()).contains(WRONG));

    session.sql("DROP SECRET mine").await.unwrap();
    assert!(session.secrets().get("mine").is_none());
    let gone = error_of(&session, "DROP TEMPORARY SECRET mine").await;
    assert!(gone.contains("mine"), "{gone}");
    session.sql("DROP SECRET IF EXISTS mine").await.unwrap();

    // An unnamed secret is DuckDB's __default_<type>.
    session
        .sql(&create.replace("CREATE SECRET mine", "CREATE SECRET"))
        .await
        .unwrap();
    assert!(session.secrets().get("__default_s3").is_some());
}

#[tokio::test]
async fn secret_syntax_errors_name_what_to_fix() {
    let session = Session::with_secrets(SecretManager::new(None));
    let error = error_of(
        &session,
        &format!("CREATE SECRET s (TYPE s3, SECRET '{WRONG}', KEY_ID 1 + 2)"),
    )
    .await;
    assert!(error.contains("KEY_ID"), "{error}");
    assert!(!error.contains(WRONG), "{error}");
    let unknown = error_of(&session, "CREATE SECRET s (TYPE s3, COLOUR 'red')").await;
    assert!(unknown.contains("COLOUR"), "{unknown}");
}

#[tokio::test]
async fn duckdb_secrets_and_which_secret_as_tables() {
    let bucket = Bucket::in_process().await;
    let session = Session::with_secrets(SecretManager::new(None));
    let wide = bucket.create_secret("wide", WRONG, Some(&bucket.url("")));
    let narrow = bucket.create_secret("narrow", WRONG, Some(&bucket.url("deep")));
    session.sql(&format!("{wide}; {narrow}")).await.unwrap();
    let rows = query(
        &session,
        "SELECT name, type, provider, persistent, storage FROM duckdb_secrets() ORDER BY name",
    )
    .await;
    assert_eq!(
        rows,
        [
            "+--------+------+----------+------------+---------+",
            "| name   | type | provider | persistent | storage |",
            "+--------+------+----------+------------+---------+",
            "| narrow | s3   | config   | false      | memory  |",
            "| wide   | s3   | config   | false      | memory  |",
            "+--------+------+----------+------------+---------+",
        ]
    );
    let listing = session
        .sql("SELECT secret_string, scope FROM duckdb_secrets()")
        .await
        .unwrap();
    let text = crate::support::table(&listing).join("\n");
    assert!(text.contains("secret=redacted"), "{text}");
    assert!(!text.contains(WRONG), "the secret leaked: {text}");

    let which = format!(
        "SELECT * FROM which_secret('{}', 's3')",
        bucket.url("deep/file.csv")
    );
    assert_eq!(
        query(&session, &which).await,
        [
            "+--------+------------+---------+",
            "| name   | persistent | storage |",
            "+--------+------------+---------+",
            "| narrow | TEMPORARY  | memory  |",
            "+--------+------------+---------+",
        ]
    );
    let none = "SELECT count(*) AS n FROM which_secret('s3://elsewhere/x', 's3')";
    assert_eq!(
        query(&session, none).await,
        ["+---+", "| n |", "+---+", "| 0 |", "+---+"]
    );
    let bad = error_of(&session, "SELECT * FROM which_secret('s3://b/x')").await;
    assert!(
        bad.contains("which_secret: takes a URL and a secret type"),
        "{bad}"
    );
}
