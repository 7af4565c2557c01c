//! The secret manager: for any `s3://`, `r2://` or `gcs://` URL, which
//! endpoint, URL style, region and credentials a request uses — with
//! DuckDB's `CREATE SECRET` semantics, so a DuckDB user's statements mean
//! the same thing here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3sql_secrets::SecretError> {
//! use s3sql_secrets::*;
//! let manager = SecretManager::new(None);
//! let params = Parameters::new()
//!     .with("TYPE", "s3")?
//!     .with("KEY_ID", "AKIAIOSFODNN7EXAMPLE")?
//!     .with("SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")?
//!     .with("SCOPE", "s3://my-bucket")?;
//! manager.create("mine", params, Persistence::Temporary, OnConflict::Error).await?;
//! let resolved = manager.resolve("s3://my-bucket/data/file.parquet").await?;
//! assert_eq!(resolved.secret.unwrap().name, "mine");
//! # Ok(()) }
//! ```
//!
//! - Types `s3`, `r2`, `gcs` ([`SecretType`]); providers `config` and
//!   `credential_chain` ([`Provider`], [`ChainLink`]).
//! - SCOPE matching ([`Scope`]): the longest covering scope within a type
//!   wins, a temporary secret beats a persistent one on a tie, then the
//!   smaller name. Unlike DuckDB, the bucket is matched whole: a secret for
//!   `s3://bucket1` never signs requests for `s3://bucket10`.
//! - Persistence ([`SecretDirectory`]): one 0600 file per secret, written
//!   atomically. As in DuckDB, a file that cannot be read (corrupt, or
//!   readable by others) makes every lookup fail, naming it, until it is
//!   fixed or deleted; it is never overwritten.
//! - Nothing printed — `Debug`, errors, listings, logs — carries the value
//!   of SECRET or SESSION_TOKEN.
//! - Deliberate difference: DuckDB documents URL_COMPATIBILITY_MODE as
//!   defaulting to true, but its httpfs globs `?` and `*` unless it is set;
//!   here it defaults to false, as DuckDB behaves.

mod chain;
mod error;
mod kind;
mod listing;
mod manager;
mod mindsdb;
mod params;
mod scope;
mod secret;
mod store;

pub use chain::{ChainCredentials, ChainLink, ChainSpec, CredentialOverrides, REFRESH_MARGIN};
pub use error::{Result, SecretError};
pub use kind::{GCS_ENDPOINT, Provider, SecretType};
pub use listing::SecretListing;
pub use manager::{
    Created, OnConflict, OnMissing, Persistence, ResolvedAccess, ScopeMatch, SecretManager,
};
pub use mindsdb::{
    DATABASE_FILE_SUFFIX, DatabaseDirectory, LoadedDatabases, MINDSDB_PARAMETERS,
    MindsDbConnection, StoredDatabase, UnreadableDatabase, check_mindsdb_parameter,
    in_mindsdb_words,
};
pub use params::{ParamValue, Parameters, SENSITIVE_PARAMETERS, is_sensitive};
pub use scope::Scope;
pub use secret::{
    S3Settings, Secret, SecretAccess, SettingDefaults, names_a_parameter, refuse_endpoint_user_info,
};
pub use store::{LoadedSecrets, SECRET_FILE_SUFFIX, SecretDirectory, xdg_base_dir};
