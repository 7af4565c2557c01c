//! Persistent secrets on disk: round trip through a second manager (a new
//! session), permissions (written 0600, a file others can read refused),
//! atomic writes under concurrent writers, and an unreadable file that stops
//! every lookup, naming it, and is never overwritten.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use s3sql_secrets::*;

mod common;
use common::{is_child, run_in_child};

fn s3_params(key_id: &str, secret: &str) -> Parameters {
    Parameters::new()
        .with("TYPE", "s3")
        .unwrap()
        .with("KEY_ID", key_id)
        .unwrap()
        .with("SECRET", secret)
        .unwrap()
        .with(
            "SCOPE",
            ParamValue::List(vec!["s3://a".into(), "s3://b/logs".into()]),
        )
        .unwrap()
        .with("USE_SSL", false)
        .unwrap()
}

/// Makes a file written by a test 0600, as s3sql writes secret files
/// (others being able to read it is a problem of its own).
fn private(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Secret `name` stored in `dir` by an earlier session.
async fn stored(dir: &Path, name: &str, key_id: &str, secret: &str) {
    manager(dir)
        .create(
            name,
            s3_params(key_id, secret),
            Persistence::Persistent,
            OnConflict::Error,
        )
        .await
        .unwrap();
}

fn manager(dir: &Path) -> SecretManager {
    SecretManager::new(Some(SecretDirectory::new(dir)))
}

#[tokio::test]
async fn persistent_secrets_survive_a_new_session() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("s3sql/stored_secrets");
    let first = manager(&dir);
    first
        .create(
            "kept",
            s3_params("AKIAKEPT", "kept-secret"),
            Persistence::Persistent,
            OnConflict::Error,
        )
        .await
        .unwrap();
    first
        .create(
            "gone",
            s3_params("AKIAGONE", "x"),
            Persistence::Temporary,
            OnConflict::Error,
        )
        .await
        .unwrap();

    let second = manager(&dir);
    let rows = second.list().unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["kept"]
    );
    assert!(rows[0].persistent);
    assert_eq!(rows[0].storage, "local_file");
    assert_eq!(rows[0].scope, ["s3://a", "s3://b/logs"]);
    let secret = second.get("kept").unwrap();
    let access = secret.access().await.unwrap();
    assert!(!access.config.use_ssl);
    let creds = access.credentials.credentials().await.unwrap().unwrap();
    assert_eq!(creds.access_key_id, "AKIAKEPT");
    assert_eq!(creds.secret_access_key.expose(), "kept-secret");
    assert_eq!(
        second
            .which_secret("s3://b/logs/x", SecretType::S3)
            .unwrap()
            .unwrap()
            .persistence,
        Persistence::Persistent
    );
    assert!(second.load_problems().is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn directory_is_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("secrets");
    // A directory created too open beforehand gets tightened.
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    manager(&dir)
        .create(
            "p",
            s3_params("k", "s"),
            Persistence::Persistent,
            OnConflict::Error,
        )
        .await
        .unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("p.s3sql_secret")), 0o600);
    // No temporary files are left behind.
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["p.s3sql_secret"]);
}

#[test]
fn concurrent_writers_never_corrupt_a_file() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().to_owned();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                for i in 0..25 {
                    // Every thread is its own "session" replacing the same secret.
                    let m = manager(&dir);
                    let key = format!("AKIA{t}X{i}");
                    rt.block_on(m.create(
                        "shared",
                        s3_params(&key, &format!("secret-{t}-{i}")),
                        Persistence::Persistent,
                        OnConflict::Replace,
                    ))
                    .unwrap();
                    // A reader at any moment sees a whole secret.
                    let reader = manager(&dir);
                    assert!(
                        reader.load_problems().is_empty(),
                        "{:?}",
                        reader.load_problems()
                    );
                    assert!(
                        reader
                            .get("shared")
                            .unwrap()
                            .key_id()
                            .unwrap()
                            .starts_with("AKIA")
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = manager(&dir);
    let key = m.get("shared").unwrap().key_id().unwrap().to_owned();
    assert!(key.starts_with("AKIA") && key.ends_with("X24"), "{key}");
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary files left behind"
    );
}

#[tokio::test]
async fn corrupt_files_are_reported_skipped_and_never_overwritten() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().to_owned();
    manager(&dir)
        .create(
            "good",
            s3_params("AKIAGOOD", "s"),
            Persistence::Persistent,
            OnConflict::Error,
        )
        .await
        .unwrap();
    let broken = dir.join("broken.s3sql_secret");
    fs::write(
        &broken,
        b"{\"format\": \"s3sql-secret\", \"version\": 1, \"na",
    )
    .unwrap();
    private(&broken);
    let renamed = dir.join("other.s3sql_secret");
    fs::copy(dir.join("good.s3sql_secret"), &renamed).unwrap();

    let m = manager(&dir);
    let e = m.list().unwrap_err().to_string();
    assert!(e.contains(&broken.display().to_string()), "{e}");
    let problems = m.load_problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains(&broken.display().to_string()),
        "{problems:?}"
    );
    assert!(problems[0].contains("fix it or delete it"), "{problems:?}");
    assert!(
        problems[1].contains("holds secret 'good' but is named for 'other'"),
        "{problems:?}"
    );

    let before = fs::read(&broken).unwrap();
    let e = m
        .create(
            "broken",
            s3_params("k", "s"),
            Persistence::Persistent,
            OnConflict::Replace,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&broken.display().to_string()) && e.contains("fix it or delete it"),
        "{e}"
    );
    assert_eq!(fs::read(&broken).unwrap(), before);
}

#[tokio::test]
async fn stored_files_hold_the_statement_not_resolved_chain_credentials() {
    let home = tempfile::tempdir().unwrap();
    let m = manager(home.path());
    let chain = Parameters::new()
        .with("TYPE", "s3")
        .unwrap()
        .with("PROVIDER", "credential_chain")
        .unwrap()
        .with("CHAIN", "env;config")
        .unwrap()
        .with("PROFILE", "analytics")
        .unwrap()
        .with("VALIDATION", "none")
        .unwrap();
    m.create("chained", chain, Persistence::Persistent, OnConflict::Error)
        .await
        .unwrap();
    let text = fs::read_to_string(home.path().join("chained.s3sql_secret")).unwrap();
    assert!(
        text.contains("credential_chain") && text.contains("env;config"),
        "{text}"
    );
    let again = manager(home.path());
    let row = &again.list().unwrap()[0];
    assert_eq!(row.provider, Provider::CredentialChain);
    assert!(
        row.parameters
            .contains(&("profile".into(), "analytics".into())),
        "{row:?}"
    );
}

#[tokio::test]
async fn persistent_secrets_load_on_first_use_not_at_start() {
    let home = tempfile::tempdir().unwrap();
    let m = manager(home.path());
    // Written by "another session" after this one started, before first use.
    manager(home.path())
        .create(
            "later",
            s3_params("AKIALATER", "s"),
            Persistence::Persistent,
            OnConflict::Error,
        )
        .await
        .unwrap();
    let junk = home.path().join("junk.s3sql_secret");
    fs::write(&junk, b"not json").unwrap();
    private(&junk);
    let e = m.list().unwrap_err().to_string();
    assert!(e.contains(&junk.display().to_string()), "{e}");
    assert_eq!(m.load_problems().len(), 1);
    fs::remove_file(&junk).unwrap();
    assert_eq!(m.get("later").unwrap().key_id(), Some("AKIALATER"));
}

#[test]
fn the_default_directory_follows_xdg() {
    const TEST: &str = "the_default_directory_follows_xdg";
    if is_child(TEST) {
        let home = std::path::PathBuf::from(std::env::var("HOME").unwrap());
        // XDG: a relative XDG_CONFIG_HOME is ignored.
        let expected = match std::env::var_os("XDG_CONFIG_HOME") {
            Some(xdg) if Path::new(&xdg).is_absolute() => {
                std::path::PathBuf::from(xdg).join("s3sql/stored_secrets")
            }
            _ => home.join(".config/s3sql/stored_secrets"),
        };
        assert_eq!(
            SecretDirectory::default_location().unwrap().path(),
            expected
        );
        let m = SecretManager::default();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(m.create(
                "p",
                s3_params("k", "s"),
                Persistence::Persistent,
                OnConflict::Error,
            ))
            .unwrap();
        assert!(expected.join("p.s3sql_secret").is_file());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    run_in_child(TEST, home.path(), &[]);
    assert!(
        home.path()
            .join(".config/s3sql/stored_secrets/p.s3sql_secret")
            .is_file()
    );
    let xdg = tempfile::tempdir().unwrap();
    run_in_child(
        TEST,
        home.path(),
        &[("XDG_CONFIG_HOME", xdg.path().display().to_string())],
    );
    assert!(
        xdg.path()
            .join("s3sql/stored_secrets/p.s3sql_secret")
            .is_file()
    );
    // A relative XDG_CONFIG_HOME would put the secret in whatever
    // directory s3sql runs in (a git checkout, say): HOME's is used.
    let home = tempfile::tempdir().unwrap();
    run_in_child(TEST, home.path(), &[("XDG_CONFIG_HOME", "cfg".to_owned())]);
    assert!(
        home.path()
            .join(".config/s3sql/stored_secrets/p.s3sql_secret")
            .is_file()
    );
    assert!(!home.path().join("cfg").exists());
}

/// DuckDB refuses a secret file group or others can read ("has incorrect
/// permissions"): its key may already be in other hands, and using it on
/// says nothing. The file is left as it is, and the problem names it and
/// the `chmod 600` that fixes it.
#[cfg(unix)]
#[tokio::test]
async fn a_secret_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    stored(home.path(), "open", "AKIAOPEN", "open-canary").await;
    let file = home.path().join("open.s3sql_secret");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();

    let m = manager(home.path());
    let problems = m.load_problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&file.display().to_string())
            && problems[0].contains(&format!("chmod 600 {}", file.display())),
        "{problems:?}"
    );
    assert!(!problems[0].contains("open-canary"), "{problems:?}");
    assert!(m.get("open").is_none(), "a 0644 secret file was used");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

/// As DuckDB (`IO Error: Failed to open the persistent secret file`), an
/// unreadable secret file stops every lookup, naming the file and what to
/// do, where it used to be skipped in silence and its requests went out
/// with another secret or none. DROP of its name says the file is corrupt.
/// Once the file is fixed or deleted, the same session goes on.
#[tokio::test]
async fn an_unreadable_secret_file_stops_every_lookup_naming_it() {
    let home = tempfile::tempdir().unwrap();
    stored(home.path(), "good", "AKIAGOOD", "s").await;
    let bad = home.path().join("bad.s3sql_secret");
    fs::write(&bad, b"garbage").unwrap();
    private(&bad);
    let names_the_file = |e: &SecretError| {
        let e = e.to_string();
        assert!(
            e.contains(&bad.display().to_string()) && e.contains("fix it or delete it"),
            "{e}"
        );
    };

    let m = manager(home.path());
    names_the_file(&m.which_secret("s3://a/x", SecretType::S3).unwrap_err());
    names_the_file(&m.resolve("s3://a/x").await.unwrap_err());
    names_the_file(&m.list().unwrap_err());
    let dropped = m
        .drop_secret("bad", Some(Persistence::Persistent), OnMissing::Error)
        .unwrap_err();
    names_the_file(&dropped);
    assert!(dropped.to_string().contains("is corrupt"), "{dropped}");
    // A temporary secret's own storage is not in the way.
    m.create(
        "mem",
        s3_params("AKIAMEM", "s"),
        Persistence::Temporary,
        OnConflict::Error,
    )
    .await
    .unwrap();

    fs::remove_file(&bad).unwrap();
    assert_eq!(
        m.which_secret("s3://a/x", SecretType::S3)
            .unwrap()
            .unwrap()
            .name,
        "mem"
    );
    assert_eq!(m.list().unwrap().len(), 2);
    assert!(m.load_problems().is_empty());
}
