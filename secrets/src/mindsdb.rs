//! MindsDB's `CREATE DATABASE ds WITH ENGINE = 's3', PARAMETERS = {...}`,
//! mapped onto the same secret model: a config secret scoped to the bucket
//! (to every bucket when the database names none).

use std::path::{Path, PathBuf};

use crate::error::{Result, SecretError};
use crate::params::{ParamValue, Parameters};
use crate::secret::Secret;
use crate::store::{
    SecretDirectory, create_private, files_with_suffix, read_unshared, remove_if_present,
    write_private,
};

/// The parameters MindsDB's S3 integration takes.
pub const MINDSDB_PARAMETERS: [&str; 6] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region_name",
    "bucket",
    "endpoint_url",
];

/// A MindsDB S3 database: its bucket and the secret its queries use.
#[derive(Debug)]
pub struct MindsDbConnection {
    /// `bucket`: keys in ``ds.`folder/file.csv` `` are relative to it.
    /// Without one, a key's first segment is its bucket.
    pub bucket: Option<String>,
    /// A config secret named after the database, scoped to `s3://<bucket>`
    /// (or to all of `s3://`).
    pub secret: Secret,
    /// The parameters as written, for persistence; `Debug` redacts them.
    pub parameters: Parameters,
}

impl MindsDbConnection {
    /// Maps MindsDB's parameters: `aws_access_key_id` → KEY_ID,
    /// `aws_secret_access_key` → SECRET, `aws_session_token` →
    /// SESSION_TOKEN, `region_name` → REGION (default us-east-1), and
    /// `endpoint_url` (for non-AWS servers such as MinIO) → ENDPOINT, USE_SSL
    /// from its scheme, and path-style addressing.
    pub fn new(database: &str, parameters: &Parameters) -> Result<Self> {
        let mut mapped = Parameters::new().with("TYPE", "s3")?;
        let mut bucket = None;
        for (name, value) in parameters.iter() {
            let lower = name.to_ascii_lowercase();
            let target = match lower.as_str() {
                "aws_access_key_id" => "KEY_ID",
                "aws_secret_access_key" => "SECRET",
                "aws_session_token" => "SESSION_TOKEN",
                "region_name" => "REGION",
                "bucket" => {
                    bucket = Some(string(name, value)?);
                    continue;
                }
                "endpoint_url" => {
                    let url = string(name, value)?;
                    let (use_ssl, host) = match url.split_once("://") {
                        Some((scheme, host)) if scheme.eq_ignore_ascii_case("http") => {
                            (false, host)
                        }
                        Some((scheme, host)) if scheme.eq_ignore_ascii_case("https") => {
                            (true, host)
                        }
                        Some((scheme, _)) => {
                            return Err(SecretError::Invalid(format!(
                                "endpoint_url must start with http:// or https://, not {scheme}://"
                            )));
                        }
                        None => (true, url.as_str()),
                    };
                    mapped.insert("ENDPOINT", host.trim_end_matches('/'))?;
                    mapped.insert("USE_SSL", use_ssl)?;
                    mapped.insert("URL_STYLE", "path")?;
                    continue;
                }
                _ => {
                    check_mindsdb_parameter(name)?;
                    continue;
                }
            };
            mapped.insert(target, value.clone())?;
        }
        if let Some(bucket) = &bucket {
            // S3's characters (and the legacy capitals and '_' the client
            // allows): a space or a quote names no bucket anywhere.
            if bucket.is_empty()
                || !bucket
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
            {
                return Err(SecretError::Invalid(format!(
                    "\"bucket\" must be a bucket name, not '{bucket}'"
                )));
            }
            mapped.insert("SCOPE", format!("s3://{bucket}"))?;
        }
        let secret = Secret::new(database, mapped).map_err(|e| match e {
            // Speak MindsDB's names back to a MindsDB user.
            SecretError::Invalid(m) => SecretError::Invalid(in_mindsdb_words(&m)),
            SecretError::WrongType {
                name,
                expected,
                got,
            } => SecretError::Invalid(format!(
                "parameter {} expects {expected}, got {got}",
                in_mindsdb_words(&name)
            )),
            SecretError::InvalidName { name, reason } => SecretError::Invalid(format!(
                "invalid database name '{name}': {}",
                in_mindsdb_words(&reason)
            )),
            SecretError::InvalidScope { scope, reason } => SecretError::Invalid(format!(
                "\"bucket\" must be a bucket name, not '{}': {}",
                scope.strip_prefix("s3://").unwrap_or(&scope),
                in_mindsdb_words(&reason)
            )),
            other => other,
        })?;
        Ok(Self {
            bucket,
            secret,
            parameters: parameters.clone(),
        })
    }

    /// The `s3://` URL of a key in the database's bucket, the key as
    /// written (S3 keeps a leading '/': `/a.csv` and `a.csv` are two
    /// objects, and MindsDB's GetObject reads the first); without a bucket
    /// the key's first segment is the bucket (a leading '/' before it
    /// names no bucket and is dropped).
    pub fn url(&self, key: &str) -> String {
        match &self.bucket {
            Some(bucket) => format!("s3://{bucket}/{key}"),
            None => format!("s3://{}", key.trim_start_matches('/')),
        }
    }
}

/// Refuses a parameter name ENGINE 's3' does not take (names are
/// case-insensitive), listing those it does.
pub fn check_mindsdb_parameter(name: &str) -> Result<()> {
    if MINDSDB_PARAMETERS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
    {
        return Ok(());
    }
    Err(SecretError::Invalid(format!(
        "unknown parameter '{name}' for ENGINE 's3'; accepted: {}",
        MINDSDB_PARAMETERS.join(", ")
    )))
}

/// `text` (a message about a secret, or an S3 error's hint) with DuckDB's
/// secret parameters named as MindsDB's PARAMETERS name them, so a user
/// who wrote `aws_secret_access_key` is not told to check SECRET: KEY_ID,
/// SECRET, SESSION_TOKEN, REGION, ENDPOINT (with USE_SSL: its scheme) and
/// SCOPE (the bucket), each as a whole word; "secret name" becomes
/// "database name", and URL_STYLE 'path' advice endpoint_url's.
pub fn in_mindsdb_words(text: &str) -> String {
    let text = text
        .replace(
            "ENDPOINT, USE_SSL",
            "endpoint_url (and its http:// or https://)",
        )
        .replace("secret name", "database name")
        // A database has no URL_STYLE: its endpoint_url is addressed by path.
        .replace(
            "needs URL_STYLE 'path'",
            "is reached through endpoint_url, which addresses buckets by path",
        );
    let mut out = String::with_capacity(text.len() + 32);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "KEY_ID" => "aws_access_key_id",
            "SECRET" => "aws_secret_access_key",
            "SESSION_TOKEN" => "aws_session_token",
            "REGION" => "region_name",
            "ENDPOINT" => "endpoint_url",
            "USE_SSL" => "endpoint_url's scheme",
            "SCOPE" => "bucket",
            other => other,
        });
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn string(name: &str, value: &ParamValue) -> Result<String> {
    match value {
        ParamValue::Str(s) => Ok(s.clone()),
        other => Err(SecretError::WrongType {
            name: name.to_owned(),
            expected: "a string".into(),
            got: other.type_name().into(),
        }),
    }
}

/// File name suffix of a stored database.
pub const DATABASE_FILE_SUFFIX: &str = ".s3sql_database";
const DATABASE_FORMAT: &str = "s3sql-database";
const DATABASE_VERSION: u32 = 1;

/// A database as stored: its parameters as written (credentials included,
/// protected by the file's permissions, as a persistent secret's are) and
/// the region GetBucketLocation found for it, if it was asked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredDatabase {
    /// The database's name (lower case).
    pub name: String,
    /// `PARAMETERS = {...}` as written. `Debug` redacts the secret ones.
    pub parameters: Parameters,
    /// The bucket's region, found at creation.
    pub region: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DatabaseFile {
    format: String,
    version: u32,
    #[serde(flatten)]
    database: StoredDatabase,
}

/// The directory of stored databases: `stored_databases` beside the
/// persistent secrets' directory, with the same rules (0700, one 0600
/// file each, written atomically; unreadable files reported, never
/// overwritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseDirectory {
    path: PathBuf,
}

/// What loading the directory found.
#[derive(Debug, Default)]
pub struct LoadedDatabases {
    /// Databases read back whole.
    pub databases: Vec<StoredDatabase>,
    /// Files that could not be read back, by database name.
    pub unreadable: Vec<UnreadableDatabase>,
    /// The directory itself could not be listed.
    pub problems: Vec<SecretError>,
}

/// A stored database file that cannot be read back: kept, never
/// overwritten, so the user can fix or drop it.
#[derive(Debug)]
pub struct UnreadableDatabase {
    /// The database's name, from the file's name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Why; it quotes no value of the file.
    pub problem: SecretError,
}

impl DatabaseDirectory {
    /// A directory at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `stored_databases` beside `secrets` (in the same parent directory).
    pub fn beside(secrets: &SecretDirectory) -> Self {
        let parent = secrets.path().parent().unwrap_or(secrets.path());
        Self::new(parent.join("stored_databases"))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file database `name` is stored in.
    pub fn file_for(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}{DATABASE_FILE_SUFFIX}"))
    }

    /// Reads database `name`'s file, stored since the directory was
    /// loaded perhaps: `None` when there is none.
    pub fn read(&self, name: &str) -> Result<Option<StoredDatabase>> {
        if !self.holds(name) {
            return Ok(None);
        }
        read_database(&self.file_for(name)).map(Some)
    }

    /// The names of the databases stored now: one listing of the
    /// directory, no file read. A missing directory holds none.
    pub fn names(&self) -> Result<Vec<String>> {
        Ok(files_with_suffix(&self.path, DATABASE_FILE_SUFFIX)?
            .iter()
            .map(|path| database_name(path).to_owned())
            .collect())
    }

    /// Reads every stored database. A missing directory holds none.
    pub fn load(&self) -> LoadedDatabases {
        let mut loaded = LoadedDatabases::default();
        let paths = match files_with_suffix(&self.path, DATABASE_FILE_SUFFIX) {
            Ok(paths) => paths,
            Err(problem) => {
                loaded.problems.push(problem);
                return loaded;
            }
        };
        for path in paths {
            match read_database(&path) {
                Ok(database) => loaded.databases.push(database),
                Err(problem) => {
                    tracing::warn!("{problem}; the database is skipped");
                    let name = database_name(&path).to_owned();
                    loaded.unreadable.push(UnreadableDatabase {
                        name,
                        path,
                        problem,
                    });
                }
            }
        }
        loaded
    }

    /// Writes `database` atomically, replacing an earlier version.
    pub fn write(&self, database: &StoredDatabase) -> Result<()> {
        let (target, json) = self.encoded(database)?;
        write_private(&self.path, &target, &database.name, &json)
    }

    /// Writes `database` atomically only if no file of its name is there
    /// (stored by another process, even in the same instant): whether it
    /// was written.
    pub fn create(&self, database: &StoredDatabase) -> Result<bool> {
        let (target, json) = self.encoded(database)?;
        create_private(&self.path, &target, &database.name, &json)
    }

    fn encoded(&self, database: &StoredDatabase) -> Result<(PathBuf, Vec<u8>)> {
        let target = self.file_for(&database.name);
        let file = DatabaseFile {
            format: DATABASE_FORMAT.to_owned(),
            version: DATABASE_VERSION,
            database: database.clone(),
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| SecretError::Storage {
            action: "encode",
            path: target.clone(),
            source: std::io::Error::other(e),
        })?;
        Ok((target, json))
    }

    /// Deletes database `expected.name`'s file if it still holds `expected`
    /// (what this session loaded or wrote): a file another process stored
    /// since is kept, and `Ok(false)` says so. A missing file is fine.
    pub fn remove_if_unchanged(&self, expected: &StoredDatabase) -> Result<bool> {
        let path = self.file_for(&expected.name);
        if path.symlink_metadata().is_err() {
            return Ok(true);
        }
        match read_database(&path) {
            Ok(stored) if &stored == expected => {
                remove_if_present(&path)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Whether a file for database `name` is there, readable or not
    /// (another process may have stored it since this one loaded).
    pub fn holds(&self, name: &str) -> bool {
        self.file_for(name).symlink_metadata().is_ok()
    }

    /// Deletes database `name`'s file; a missing file is fine.
    pub fn remove(&self, name: &str) -> Result<()> {
        remove_if_present(&self.file_for(name))
    }
}

/// The database a stored file is named for.
fn database_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(DATABASE_FILE_SUFFIX))
        .unwrap_or_default()
}

/// The most bytes a stored database's file may hold.
const MAX_DATABASE_FILE: u64 = 64 * 1024;

fn read_database(path: &Path) -> Result<StoredDatabase> {
    let corrupt = |reason: String| SecretError::CorruptFile {
        path: path.to_owned(),
        reason,
    };
    let storage = |source| SecretError::Storage {
        action: "read",
        path: path.to_owned(),
        source,
    };
    // Only a regular file of a stored database's size is read: a FIFO
    // would block the session's start for ever, a device never end.
    let kind = std::fs::symlink_metadata(path).map_err(storage)?;
    if !kind.is_file() {
        return Err(corrupt(
            "it is not a regular file (a link, pipe or device)".to_owned(),
        ));
    }
    if kind.len() > MAX_DATABASE_FILE {
        return Err(corrupt(format!(
            "it holds {} bytes, more than a stored database's {MAX_DATABASE_FILE}",
            kind.len()
        )));
    }
    // As a persistent secret's: a file others can read is refused.
    let bytes = read_unshared(path, "stored database")?;
    // serde_json's type errors quote the text they found (a value, maybe
    // a secret): only the kind of error and its position are said.
    let file: DatabaseFile = serde_json::from_slice(&bytes).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "a value of the wrong type or a missing field",
            serde_json::error::Category::Eof => "cut short",
        };
        corrupt(format!(
            "not a stored database: {kind} at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    if file.format != DATABASE_FORMAT || file.version != DATABASE_VERSION {
        return Err(corrupt(format!(
            "format '{}' version {} is not {DATABASE_FORMAT} version {DATABASE_VERSION}",
            file.format, file.version
        )));
    }
    let expected = database_name(path);
    if file.database.name != expected {
        return Err(corrupt(format!(
            "it holds database '{}' but is named for '{expected}'",
            file.database.name
        )));
    }
    Ok(file.database)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MindsDB user wrote `aws_secret_access_key`, never SECRET: every
    /// message about a database names the parameters as written (review-10
    /// #9: WrongType, InvalidName, InvalidScope and S3's hints said KEY_ID,
    /// SECRET, REGION, ENDPOINT, USE_SSL, SCOPE, "secret name").
    #[test]
    fn messages_name_mindsdb_s_parameters() {
        assert_eq!(
            in_mindsdb_words(
                "the SECRET does not match the KEY_ID (or REGION differs): check SECRET and REGION"
            ),
            "the aws_secret_access_key does not match the aws_access_key_id (or region_name differs): check aws_secret_access_key and region_name"
        );
        assert_eq!(
            in_mindsdb_words(
                "check ENDPOINT, USE_SSL and that the server is running; SESSION_TOKEN"
            ),
            "check endpoint_url (and its http:// or https://) and that the server is running; aws_session_token"
        );
        // ENGINE 's3' has no URL_STYLE: endpoint_url is what reaches a
        // server without a host name per bucket (review-10g #11).
        let hint = in_mindsdb_words(
            "(connecting to b.s3.us-east-2.amazonaws.com: the bucket as a virtual host; a server without a host name per bucket needs URL_STYLE 'path')",
        );
        assert!(
            !hint.contains("URL_STYLE")
                && hint.ends_with(
                    "a server without a host name per bucket is reached through endpoint_url, which addresses buckets by path)"
                ),
            "{hint}"
        );
        // Whole words only.
        assert_eq!(
            in_mindsdb_words("SECRETS KEY_IDS my_SECRET"),
            "SECRETS KEY_IDS my_SECRET"
        );
        let refused = |parameters: Parameters, name: &str| {
            MindsDbConnection::new(name, &parameters)
                .unwrap_err()
                .to_string()
        };
        let e = refused(Parameters::new().with("bucket", "my bucket").unwrap(), "d");
        assert!(
            e.contains("\"bucket\" must be a bucket name, not 'my bucket'"),
            "{e}"
        );
        let e = refused(Parameters::new().with("bucket", "b").unwrap(), "my db");
        assert!(e.contains("invalid database name 'my db'"), "{e}");
        let e = refused(
            Parameters::new()
                .with("bucket", "b")
                .unwrap()
                .with("aws_access_key_id", ParamValue::Int(12345))
                .unwrap()
                .with("aws_secret_access_key", "s")
                .unwrap(),
            "d",
        );
        assert!(
            e.contains("parameter aws_access_key_id expects") && !e.contains("KEY_ID"),
            "{e}"
        );
    }

    /// serde_json's type errors quote the string they found (`invalid
    /// type: string "..."`): a hand-edited file holding a secret where a
    /// number belongs must not put it into the problem SHOW DATABASES lists.
    #[test]
    fn a_stored_file_s_problem_quotes_none_of_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.s3sql_database");
        std::fs::write(
            &path,
            r#"{"format": "s3sql-database", "version": "TOPSECRETVALUE", "database": {}}"#,
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let problem = read_database(&path).unwrap_err().to_string();
        assert!(!problem.contains("TOPSECRET"), "{problem}");
        assert!(problem.contains("line 1"), "{problem}");
    }

    /// A line break or control character in a value that goes into the
    /// Authorization header made aws-sigv4 panic on the first request:
    /// refused when the database (or secret) is made, naming the
    /// parameter as the user wrote it and never showing the value.
    #[test]
    fn a_control_character_in_a_signed_value_is_refused_naming_the_parameter() {
        for (name, value) in [
            ("aws_access_key_id", "AKIA\nSECRETISH"),
            ("region_name", "us-east-1\u{0}"),
            ("aws_session_token", "FwoG\rTOKENVALUE"),
            ("endpoint_url", "http://127.0.0.1:9000\n"),
        ] {
            let mut parameters = Parameters::new().with("bucket", "b").unwrap();
            for (n, v) in [
                ("aws_access_key_id", "AKIAEXAMPLE"),
                ("aws_secret_access_key", "wJalrSECRETVALUE"),
                (name, value),
            ] {
                if parameters.get(n).is_none() {
                    parameters
                        .insert(n, if n == name { value } else { v })
                        .unwrap();
                }
            }
            let error = MindsDbConnection::new("ds", &parameters)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(name) && error.contains("control character"),
                "{name}: {error}"
            );
            for shown in [
                "SECRETISH",
                "TOKENVALUE",
                "wJalr",
                "KEY_ID",
                "REGION",
                "ENDPOINT",
            ] {
                assert!(!error.contains(shown), "{name}: {error}");
            }
        }
        for (name, value) in [
            ("KEY_ID", "AK\n"),
            ("REGION", "eu\tx"),
            ("SESSION_TOKEN", "t\u{7f}"),
        ] {
            let mut parameters = Parameters::new()
                .with("TYPE", "s3")
                .unwrap()
                .with("SECRET", "S")
                .unwrap();
            if name != "KEY_ID" {
                parameters.insert("KEY_ID", "AK").unwrap();
            }
            parameters.insert(name, value).unwrap();
            let error = Secret::new("s", parameters).unwrap_err().to_string();
            assert!(
                error.contains(name) && error.contains("control character"),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn stored_databases_round_trip_in_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretDirectory::new(dir.path().join("s3sql").join("stored_secrets"));
        let databases = DatabaseDirectory::beside(&secrets);
        assert_eq!(
            databases.path(),
            dir.path().join("s3sql").join("stored_databases")
        );
        let stored = StoredDatabase {
            name: "ds".into(),
            parameters: Parameters::new()
                .with("bucket", "b")
                .unwrap()
                .with("aws_secret_access_key", "hunter2-secret")
                .unwrap(),
            region: Some("eu-west-3".into()),
        };
        assert!(!format!("{stored:?}").contains("hunter2"));
        databases.write(&stored).unwrap();
        let loaded = databases.load();
        assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
        assert_eq!(loaded.databases, [stored]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = databases.path().join("ds.s3sql_database");
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(databases.path().join("bad.s3sql_database"), "{").unwrap();
        let loaded = databases.load();
        assert_eq!((loaded.databases.len(), loaded.unreadable.len()), (1, 1));
        assert_eq!(loaded.unreadable[0].name, "bad");
        assert!(databases.read("bad").is_err());
        assert_eq!(databases.read("nothing").unwrap(), None);
        databases.remove("ds").unwrap();
        databases.remove("ds").unwrap();
        assert!(databases.load().databases.is_empty());
    }

    /// Of several writers creating one name at once, exactly one stores
    /// it; the others are told, and the file holds the winner's whole.
    #[test]
    fn create_never_replaces_a_stored_database() {
        let dir = tempfile::tempdir().unwrap();
        let databases = DatabaseDirectory::new(dir.path().join("stored_databases"));
        let stored = |bucket: &str| StoredDatabase {
            name: "ds".into(),
            parameters: Parameters::new().with("bucket", bucket).unwrap(),
            region: None,
        };
        let wins: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let databases = &databases;
                    let database = stored(&format!("b{i}"));
                    scope.spawn(move || databases.create(&database).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
        let winner = wins.iter().position(|w| *w).unwrap();
        let loaded = databases.load();
        assert_eq!(loaded.databases, [stored(&format!("b{winner}"))]);
        // Only the one file: no temporary left behind.
        assert_eq!(std::fs::read_dir(databases.path()).unwrap().count(), 1);

        // A file changed since it was loaded is not deleted.
        assert!(!databases.remove_if_unchanged(&stored("other")).unwrap());
        assert_eq!(databases.load().databases.len(), 1);
        assert!(
            databases
                .remove_if_unchanged(&stored(&format!("b{winner}")))
                .unwrap()
        );
        assert!(databases.load().databases.is_empty());
    }
}
