//! What can go wrong with a MindsDB-style database, in words that say what
//! to check. Never a credential: the S3 errors below carry none, and
//! parameter errors quote no value of a sensitive parameter.

use std::path::PathBuf;

/// A database statement or lookup failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// The connection check at `CREATE DATABASE` failed; nothing was stored.
    #[error(
        "Database Connection Error: the {check} check failed: {}; check that the bucket exists, that aws_access_key_id / aws_secret_access_key (and aws_session_token) are right, and that endpoint_url and region_name reach the server",
        s3sql_secrets::in_mindsdb_words(&error.to_string())
    )]
    Connection {
        /// The check: `HeadBucket` or `ListBuckets`.
        check: String,
        /// The S3 error, its hint in MindsDB's names above (not a cause of
        /// its own, which would say them again in DuckDB's).
        error: s3sql_s3_client::Error,
    },
    /// `CREATE DATABASE` of a name that is taken.
    #[error(
        "database '{name}' already exists; use CREATE DATABASE IF NOT EXISTS, or DROP DATABASE {name} first"
    )]
    Exists {
        /// The database.
        name: String,
    },
    /// `CREATE DATABASE` where no directory stores databases (neither
    /// XDG_CONFIG_HOME nor HOME set): one kept in memory would be gone for
    /// the next process, where MindsDB keeps every database.
    #[error(
        "database '{name}' cannot be created: databases are stored beside persistent secrets, and there is no directory for them (set XDG_CONFIG_HOME or HOME); nothing was created"
    )]
    NoStorage {
        /// The database.
        name: String,
    },
    /// `CREATE DATABASE` of a name another process stored while it
    /// connected: never replaced.
    #[error(
        "database '{name}' was stored in {storage} by another s3sql while this CREATE ran; it was kept: use it, or DROP DATABASE {name} first"
    )]
    StoredElsewhere {
        /// The database.
        name: String,
        /// The directory of stored databases.
        storage: String,
    },
    /// A stored database whose file does not load (unreadable, or
    /// parameters this version refuses): kept and listed, never replaced.
    #[error(
        "database '{name}' is stored in {} but cannot be loaded: {reason}; fix that file, or DROP DATABASE {name} to delete it (then create it again)", file.display()
    )]
    Unloadable {
        /// The database.
        name: String,
        /// Its stored file.
        file: PathBuf,
        /// Why it does not load.
        reason: String,
    },
    /// `DROP DATABASE` of a database another process stored anew since
    /// this session last used it: its file is kept, and the session uses
    /// the new one from then on.
    #[error(
        "database '{name}' was stored anew in {storage} by another s3sql since this session last used it; its file is kept, and this session now uses it: DROP DATABASE {name} again to drop that one"
    )]
    ChangedElsewhere {
        /// The database.
        name: String,
        /// The directory of stored databases.
        storage: String,
    },
    /// `CREATE DATABASE` of the session's own catalog or schema name.
    #[error("database name '{name}' is the session's own catalog or schema name; choose another")]
    Reserved {
        /// The name.
        name: String,
    },
    /// `CREATE DATABASE` of a name that is a schema of the session.
    #[error(
        "database '{name}' cannot be made: {name} is a schema of this session, so {name}.table would mean two things; choose another name"
    )]
    IsSchema {
        /// The name.
        name: String,
    },
    /// `CREATE SCHEMA` of a name that is a database.
    #[error(
        "schema '{name}' cannot be made: {name} is a database (SHOW DATABASES), so {name}.table would mean two things; choose another name"
    )]
    IsDatabase {
        /// The name.
        name: String,
    },
    /// A database that does not exist.
    #[error(
        "no database named '{name}'; SHOW DATABASES lists them, and CREATE DATABASE {name} WITH ENGINE = 's3', PARAMETERS = {{...}} makes one"
    )]
    NotFound {
        /// The database.
        name: String,
    },
    /// An engine other than `s3`.
    #[error("ENGINE '{engine}' is not supported: s3sql's databases take ENGINE = 's3'")]
    Engine {
        /// The engine as written.
        engine: String,
    },
    /// An object key written without backticks.
    #[error(
        "the object key {key} must be in backticks: write {database}.`{key}` (keys with '/', '.', '-' or spaces are not SQL names)"
    )]
    Unquoted {
        /// The database.
        database: String,
        /// The key as written, unquoted.
        key: String,
    },
    /// A key of a database without a bucket that names a bucket alone:
    /// the scan's advice (`s3://bkt/**`) has no credentials in the session.
    #[error(
        "{database}.`{key}` names a bucket, not an object: write {database}.`{bucket}/**` for every object in it, or give a key or pattern after the bucket"
    )]
    BucketNotObject {
        /// The database.
        database: String,
        /// The key as written.
        key: String,
        /// The bucket it names.
        bucket: String,
    },
    /// An INSERT into a database's object that cannot run as written.
    #[error("INSERT INTO {table}: {message}")]
    Insert {
        /// ``db.`key` ``.
        table: String,
        /// What to fix.
        message: String,
    },
    /// An INSERT into an object that does not exist.
    #[error(
        "INSERT INTO {table}: {url} does not exist, and INSERT appends to an existing object; create it first with COPY (SELECT ...) TO '{url}' (COPY signs with a secret, not a database: CREATE SECRET (TYPE s3, KEY_ID, SECRET, REGION, ENDPOINT, URL_STYLE 'path' for a local server) from the database's parameters, SCOPE 's3://bucket')"
    )]
    InsertMissing {
        /// ``db.`key` ``.
        table: String,
        /// The object's URL.
        url: String,
    },
    /// A new value that does not convert to its column's type.
    #[error(
        "INSERT INTO {table}: a value for column {column} ({data_type}) does not convert: {source}"
    )]
    InsertValue {
        /// ``db.`key` ``.
        table: String,
        /// The column.
        column: String,
        /// Its type, in DuckDB's name.
        data_type: String,
        /// The conversion error.
        source: datafusion::arrow::error::ArrowError,
    },
    /// The object changed between the INSERT reading it and replacing it.
    #[error(
        "INSERT INTO {table}: {url} was changed by another writer while the INSERT rewrote it (its ETag is no longer {etag}); the other writer's version was kept and nothing was inserted: run the INSERT again"
    )]
    InsertConflict {
        /// ``db.`key` ``.
        table: String,
        /// The object's URL.
        url: String,
        /// The ETag the INSERT read.
        etag: String,
    },
    /// The object was deleted between the INSERT reading it and replacing
    /// it.
    #[error(
        "INSERT INTO {table}: {url} was deleted by another writer while the INSERT rewrote it; nothing was inserted (COPY makes the object anew)"
    )]
    InsertDeleted {
        /// ``db.`key` ``.
        table: String,
        /// The object's URL.
        url: String,
    },
    /// A key holding glob characters whose HEAD failed otherwise than
    /// with 404: whether it names an object or is a pattern is unknown.
    #[error(
        "cannot tell whether {url} is an object or a pattern (its key holds glob characters, and a key in backticks names its object when there is one): its HEAD failed: {source}; run the statement again, or check that the database's keys may read the object (s3:GetObject)"
    )]
    KeyOrPattern {
        /// The object's URL.
        url: String,
        /// The HEAD's error.
        source: s3sql_s3_client::Error,
    },
    /// A stored database could not be read or written.
    #[error("cannot {action} the stored database at {}: {source}", path.display())]
    Storage {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored database file is not one s3sql can read.
    #[error("the stored database {} is unreadable: {reason}; fix or delete the file", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}
