//! The planner's error type. Errors from the layers below keep their own
//! type as the `source()`, so the client's hint (a wrong region, a missing
//! credential) reaches the user intact.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// Result with [`PlannerError`].
pub type Result<T, E = PlannerError> = std::result::Result<T, E>;

/// What went wrong while parsing, planning or running a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlannerError {
    /// The SQL text does not parse.
    #[error("SQL syntax error: {0}")]
    Syntax(#[from] ParserError),
    /// DataFusion refused or failed the statement.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// Two tables of a query under one name (DuckDB's words).
    #[error(
        "Ambiguous reference to table \"{alias}\" (duplicate alias \"{alias}\", explicitly alias one of the tables using \"AS my_alias\")"
    )]
    DuplicateAlias {
        /// The name both tables have.
        alias: String,
    },
    /// A secret statement or a secret lookup failed.
    #[error(transparent)]
    Secret(#[from] s3sql_secrets::SecretError),
    /// A reader option, a file's format or a CSV sample was wrong.
    #[error(transparent)]
    Format(#[from] s3sql_formats::FormatError),
    /// A glob pattern was bad or its listing failed.
    #[error(transparent)]
    Glob(#[from] s3sql_glob_list::GlobError),
    /// The S3 client could not be built or a request failed.
    #[error(transparent)]
    Client(#[from] s3sql_s3_client::Error),
    /// An object URL that does not parse.
    #[error(transparent)]
    Url(#[from] s3sql_s3_client::UrlError),
    /// A COPY statement's options or target were wrong, or its local file failed.
    #[error(transparent)]
    Copy(#[from] crate::copy::CopyError),
    /// A MindsDB-style database statement or lookup failed.
    #[error(transparent)]
    Database(#[from] crate::mindsdb::DatabaseError),
    /// A table function got arguments it cannot use.
    #[error("{function}: {message}")]
    Argument {
        /// The table function, e.g. `read_parquet`.
        function: String,
        /// What to fix.
        message: String,
    },
    /// A `SET`, `RESET`, `SHOW` or `current_setting` named an unknown
    /// setting or gave a value of the wrong type.
    #[error("setting {name}: {message}")]
    Setting {
        /// The setting, lower case.
        name: String,
        /// What to fix.
        message: String,
    },
    /// A local pattern matched nothing (DuckDB's wording).
    #[error("No files found that match the pattern \"{pattern}\"")]
    NoFiles {
        /// The pattern as given.
        pattern: String,
    },
    /// A local file whose path DataFusion's object paths cannot hold (an
    /// empty, `.` or `..` segment, a control character). Objects on S3 have
    /// no such limit: their keys are mapped losslessly.
    #[error(
        "cannot read {url}: its path has an empty, '.' or '..' segment or a control character, which DataFusion's local object paths cannot hold; rename the file"
    )]
    UnreadableKey {
        /// The object.
        url: String,
    },
    /// An object listed twice in one statement (a view read beside its
    /// file, a self-join of two globs) was replaced in between: the
    /// statement reads one version of each object, so it stops.
    #[error(
        "{url} changed while the statement was reading it (listed with ETag {listed}, then {now}); run the statement again to read the new version"
    )]
    ChangedWhileListed {
        /// The object.
        url: String,
        /// The ETag its first listing gave, which the statement reads.
        listed: String,
        /// The ETag a later listing gave.
        now: String,
    },
    /// A file's format cannot be told from its name.
    #[error(
        "cannot tell the format of '{url}' from its name: use read_parquet, read_csv or read_json, or a .parquet, .csv, .tsv, .json, .jsonl or .ndjson name"
    )]
    UnknownFormat {
        /// The file or pattern.
        url: String,
    },
}

impl From<datafusion::arrow::error::ArrowError> for PlannerError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Self::DataFusion(e.into())
    }
}

impl PlannerError {
    /// An argument error of `function`.
    pub(crate) fn argument(function: &str, message: impl Into<String>) -> Self {
        Self::Argument {
            function: function.to_owned(),
            message: message.into(),
        }
    }
}
