//! A secret as `duckdb_secrets()` shows it: everything but the values of
//! SECRET and SESSION_TOKEN, which read `redacted`.

use std::fmt;

use crate::kind::{Provider, SecretType};
use crate::manager::Persistence;
use crate::secret::Secret;

/// One row of the secrets listing. Holds no secret value at all, so it can
/// be printed, logged or returned as a query result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretListing {
    /// The secret's name.
    pub name: String,
    /// s3, r2 or gcs.
    pub secret_type: SecretType,
    /// config or credential_chain.
    pub provider: Provider,
    /// Whether it survives the session.
    pub persistent: bool,
    /// `memory` or `local_file`.
    pub storage: &'static str,
    /// The SCOPE prefixes.
    pub scope: Vec<String>,
    /// Lowercase parameter names with values; SECRET and SESSION_TOKEN
    /// values are `redacted`.
    pub parameters: Vec<(String, String)>,
}

impl SecretListing {
    pub(crate) fn of(secret: &Secret, persistence: Persistence) -> Self {
        let mut parameters: Vec<(String, String)> = secret
            .parameters()
            .redacted()
            .into_iter()
            .filter(|(n, _)| !matches!(n.as_str(), "type" | "provider" | "scope"))
            .collect();
        if !parameters.iter().any(|(n, _)| n == "endpoint")
            && let Some(endpoint) = &secret.settings().endpoint
        {
            parameters.push(("endpoint".into(), endpoint.clone()));
        }
        Self {
            name: secret.name().to_owned(),
            secret_type: secret.secret_type(),
            provider: secret.provider(),
            persistent: persistence == Persistence::Persistent,
            storage: persistence.storage(),
            scope: secret.scopes().iter().map(ToString::to_string).collect(),
            parameters,
        }
    }
}

impl fmt::Display for SecretListing {
    /// DuckDB's `secret_string` column: `name=...;type=...;...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "name={};type={};provider={};serializable=true;scope={}",
            self.name,
            self.secret_type,
            self.provider,
            self.scope.join(",")
        )?;
        for (name, value) in &self.parameters {
            write!(f, ";{name}={value}")?;
        }
        Ok(())
    }
}
