//! What can go wrong with a secret, phrased as what the user should fix.
//! No variant ever carries a secret value: parameters are named, not echoed.

use std::path::PathBuf;

use s3sql_s3_client::CredentialsError;

/// Errors of the secret manager.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// `TYPE` is missing or not one of ours.
    #[error("unknown secret TYPE '{0}': use s3, r2 or gcs")]
    UnknownType(String),
    /// `PROVIDER` is not one of ours.
    #[error("unknown PROVIDER '{0}': use config or credential_chain")]
    UnknownProvider(String),
    /// A parameter the secret's type and provider do not take.
    #[error(
        "unknown parameter {name} for a {secret_type} secret with provider {provider}; accepted: {accepted}"
    )]
    UnknownParameter {
        /// The parameter as written.
        name: String,
        /// `s3`, `r2` or `gcs`.
        secret_type: String,
        /// `config` or `credential_chain`.
        provider: String,
        /// Every parameter that would have been accepted.
        accepted: String,
    },
    /// A parameter of the wrong type or with a value outside its domain.
    #[error("parameter {name} expects {expected}, got {got}")]
    WrongType {
        /// The parameter.
        name: String,
        /// What it takes (`a BOOLEAN`, `'vhost' or 'path'`, ...).
        expected: String,
        /// What was given; never the value of SECRET or SESSION_TOKEN.
        got: String,
    },
    /// The same parameter written twice.
    #[error("parameter {0} is given twice")]
    DuplicateParameter(String),
    /// Parameters that do not make sense together or are missing.
    #[error("{0}")]
    Invalid(String),
    /// A SCOPE that is not a URL prefix this secret's type serves.
    #[error("invalid SCOPE '{scope}': {reason}")]
    InvalidScope {
        /// The scope as written.
        scope: String,
        /// What to change.
        reason: String,
    },
    /// A URL that names no bucket of a known scheme.
    #[error(transparent)]
    InvalidUrl(#[from] s3sql_s3_client::UrlError),
    /// A secret name that cannot be used.
    #[error("invalid secret name '{name}': {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What to change.
        reason: String,
    },
    /// CHAIN names a provider that does not exist.
    #[error(
        "invalid CHAIN '{chain}': unknown provider '{link}'; use any of env, config, sts, sso, instance, process separated by ';'"
    )]
    InvalidChain {
        /// The CHAIN value.
        chain: String,
        /// The unknown element.
        link: String,
    },
    /// CREATE SECRET without OR REPLACE / IF NOT EXISTS for a taken name.
    #[error(
        "a secret named '{name}' already exists in storage {storage}; use CREATE OR REPLACE SECRET or CREATE SECRET IF NOT EXISTS"
    )]
    AlreadyExists {
        /// The name.
        name: String,
        /// `memory` or `local_file`.
        storage: &'static str,
    },
    /// DROP SECRET of a name that does not exist.
    #[error("no secret named '{0}' exists; see the secrets listing, or use DROP SECRET IF EXISTS")]
    NotFound(String),
    /// DROP SECRET of a name that exists in both storages.
    #[error(
        "secret '{0}' exists both as a temporary and as a persistent secret; say which: DROP TEMPORARY SECRET or DROP PERSISTENT SECRET"
    )]
    Ambiguous(String),
    /// Persistence asked for where no directory is configured.
    #[error(
        "persistent secrets are unavailable: no secret directory (set XDG_CONFIG_HOME or HOME, or configure one)"
    )]
    NoSecretDirectory,
    /// Reading or writing a persistent secret file failed.
    #[error("could not {action} {path}: {source}")]
    Storage {
        /// What was being done (`write`, `read`, `delete`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A persistent secret file that cannot be read back.
    #[error("persistent secret file {path} is corrupt ({reason}); fix it or delete it")]
    CorruptFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A persistent secret file, or a stored database's, group or others
    /// can read (unix): refused, as DuckDB refuses such a secret file,
    /// since its key may be known to other users.
    #[error(
        "{what} file {path} can be read by other users (mode {mode:o}): run chmod 600 {path} to keep it (and replace its key if others may have read it), or delete it"
    )]
    OpenToOthers {
        /// The kind of file: `persistent secret`, `stored database`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// No secret covers an `r2://` URL, and R2 cannot be reached without one.
    #[error(
        "no r2 secret covers {0}: create one with CREATE SECRET (TYPE r2, KEY_ID ..., SECRET ..., ACCOUNT_ID ...)"
    )]
    R2WithoutSecret(String),
    /// credential_chain found nothing, or a provider in it failed.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
}

/// Result with [`SecretError`].
pub type Result<T, E = SecretError> = std::result::Result<T, E>;
