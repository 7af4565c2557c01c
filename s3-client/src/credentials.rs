//! Credentials and where they come from. Secret material lives in
//! [`SecretString`], whose `Debug` and `Display` never show it.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;

/// A string that must never be printed: a secret access key or a session
/// token. `Debug` and `Display` show `***`; read it with [`Self::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself, for signing. Name kept loud on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (an empty secret is a configuration error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One set of AWS-style credentials. The key id is not secret (DuckDB shows
/// it in `duckdb_secrets()`); the secret key and session token are.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (`AKIA...`, `ASIA...`, or a server's own).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretString,
    /// Session token of temporary credentials.
    pub session_token: Option<SecretString>,
    /// When temporary credentials stop working; providers refresh before this.
    pub expires_at: Option<SystemTime>,
}

impl Credentials {
    /// Long-lived credentials from a key id and secret.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<SecretString>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            expires_at: None,
        }
    }

    /// Adds a session token (temporary credentials).
    pub fn with_session_token(mut self, token: impl Into<SecretString>) -> Self {
        self.session_token = Some(token.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why credentials could not be had. Messages name the source, never a value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not load credentials from {source_name}: {message}")]
pub struct CredentialsError {
    /// Which provider failed (`env`, `profile default`, `sts`, ...).
    pub source_name: String,
    /// What went wrong and what to check.
    pub message: String,
}

impl CredentialsError {
    /// A new error from the named provider.
    pub fn new(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            source_name: source_name.into(),
            message: message.into(),
        }
    }
}

/// A source of credentials, asked before every request so that temporary
/// credentials can be refreshed. `Ok(None)` means "send unsigned requests"
/// (public buckets). Implementations cache; the client does not.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Current credentials, or `None` for anonymous access.
    fn credentials(&self) -> BoxFuture<'_, Result<Option<Credentials>, CredentialsError>>;
}

/// Unsigned requests, for public buckets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anonymous;

impl ProvideCredentials for Anonymous {
    fn credentials(&self) -> BoxFuture<'_, Result<Option<Credentials>, CredentialsError>> {
        Box::pin(async { Ok(None) })
    }
}

/// Fixed credentials (the `config` provider of a secret).
#[derive(Debug, Clone)]
pub struct StaticCredentials(pub Credentials);

impl ProvideCredentials for StaticCredentials {
    fn credentials(&self) -> BoxFuture<'_, Result<Option<Credentials>, CredentialsError>> {
        let creds = self.0.clone();
        Box::pin(async move { Ok(Some(creds)) })
    }
}

/// A shared, type-erased credentials provider.
pub type SharedCredentials = Arc<dyn ProvideCredentials>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI").with_session_token("TOKEN123");
        let printed = format!(
            "{creds:?} {} {:?}",
            creds.secret_access_key, creds.secret_access_key
        );
        assert!(printed.contains("AKIDEXAMPLE"));
        assert!(!printed.contains("wJalrXUtnFEMI"), "{printed}");
        assert!(!printed.contains("TOKEN123"), "{printed}");
    }
}
