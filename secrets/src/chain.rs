//! `PROVIDER credential_chain`: the AWS SDK's own credential providers
//! (aws-config), chained in the user's CHAIN order, behind a cache that
//! refreshes temporary credentials before they expire.
//!
//! Nothing here reads credentials by hand: env, profile files (static keys,
//! `role_arn` + `source_profile`, `credential_process`, SSO), web identity
//! (STS) and the instance metadata service are aws-config's providers.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::error::CredentialsError as SdkCredentialsError;
use aws_credential_types::provider::{
    ProvideCredentials as SdkProvideCredentials, SharedCredentialsProvider, future,
};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_smithy_http_client::tls::{Provider as TlsProvider, rustls_provider::CryptoMode};
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use futures::future::BoxFuture;
use s3sql_s3_client::{
    Credentials, CredentialsError, DEFAULT_REGION, ProvideCredentials, SecretString,
};
use tokio::sync::Mutex;

use crate::error::{Result, SecretError};
use crate::params::Reader;

/// Refresh temporary credentials this long before they expire, or after
/// half their remaining life when that is shorter.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// One element of CHAIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainLink {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    Env,
    /// The profile in `~/.aws/credentials` and `~/.aws/config`: static keys,
    /// `role_arn` with `source_profile`, `credential_process`, SSO.
    Config,
    /// Web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, exchanged at STS.
    Sts,
    /// The profile's SSO settings (`sso_start_url` or `sso_session`).
    Sso,
    /// EC2 instance metadata (IMDSv2).
    Instance,
    /// The profile's `credential_process`.
    Process,
}

impl ChainLink {
    /// Parses one CHAIN element, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "env" => Self::Env,
            "config" => Self::Config,
            "sts" => Self::Sts,
            "sso" => Self::Sso,
            "instance" => Self::Instance,
            "process" => Self::Process,
            _ => return None,
        })
    }

    /// DuckDB's name of the link.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::Config => "config",
            Self::Sts => "sts",
            Self::Sso => "sso",
            Self::Instance => "instance",
            Self::Process => "process",
        }
    }
}

/// CHAIN, PROFILE, VALIDATION and the credential overrides of a
/// credential_chain secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainSpec {
    /// The links in order; `None` is the AWS SDK's default chain.
    pub links: Option<Vec<ChainLink>>,
    /// PROFILE: the profile the config, sso and process links read.
    pub profile: Option<String>,
    /// VALIDATION 'none' skips the credentials check at CREATE time.
    pub skip_validation: bool,
    /// KEY_ID, SECRET and SESSION_TOKEN given beside the chain.
    pub overrides: CredentialOverrides,
}

/// KEY_ID, SECRET and SESSION_TOKEN written on a credential_chain secret:
/// each replaces its part of what the chain finds, as DuckDB's aws
/// extension does (it fetches from the chain, then lays the given
/// parameters over the result). `Debug` stars the secret parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialOverrides {
    /// KEY_ID.
    pub key_id: Option<String>,
    /// SECRET.
    pub secret: Option<SecretString>,
    /// SESSION_TOKEN.
    pub session_token: Option<SecretString>,
}

impl CredentialOverrides {
    /// The given credentials alone, when KEY_ID and SECRET are both given.
    fn whole(&self) -> Option<Credentials> {
        let (Some(id), Some(secret)) = (&self.key_id, &self.secret) else {
            return None;
        };
        let mut given = Credentials::new(id.clone(), secret.clone());
        given.session_token.clone_from(&self.session_token);
        Some(given)
    }

    /// `found` with each given part put in its place.
    fn apply(&self, mut found: Credentials) -> Credentials {
        if let Some(id) = &self.key_id {
            found.access_key_id.clone_from(id);
        }
        if let Some(secret) = &self.secret {
            found.secret_access_key = secret.clone();
        }
        if let Some(token) = &self.session_token {
            found.session_token = Some(token.clone());
        }
        found
    }
}

impl ChainSpec {
    /// Parses `CHAIN 'a;b'` into links.
    pub fn parse_chain(chain: &str) -> Result<Vec<ChainLink>> {
        let links = chain
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                ChainLink::parse(s).ok_or_else(|| SecretError::InvalidChain {
                    chain: chain.to_owned(),
                    link: s.trim().to_owned(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if links.is_empty() {
            return Err(SecretError::InvalidChain {
                chain: chain.to_owned(),
                link: String::new(),
            });
        }
        Ok(links)
    }

    pub(crate) fn from_parameters(r: &mut Reader<'_>) -> Result<Self> {
        let links = r
            .string("CHAIN")?
            .map(|c| Self::parse_chain(&c))
            .transpose()?;
        let profile = r.string("PROFILE")?;
        let skip_validation =
            r.choice("VALIDATION", &["exists", "none"])?.as_deref() == Some("none");
        // Refreshing is always on; 'auto' is accepted for DuckDB scripts.
        r.choice("REFRESH", &["auto"])?;
        let overrides = CredentialOverrides {
            key_id: r.header_value("KEY_ID")?,
            secret: r.string("SECRET")?.map(Into::into),
            session_token: r.header_value("SESSION_TOKEN")?.map(Into::into),
        };
        Ok(Self {
            links,
            profile,
            skip_validation,
            overrides,
        })
    }

    /// Whether CREATE SECRET should fetch credentials once to prove the chain works.
    pub fn validate_on_create(&self) -> bool {
        !self.skip_validation
    }

    /// `credential_chain 'env;config' (profile dev)`, for messages.
    pub fn describe(&self) -> String {
        let mut s = match &self.links {
            Some(links) => format!(
                "credential_chain '{}'",
                links
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            ),
            None => "credential_chain (AWS SDK default order)".to_owned(),
        };
        if let Some(p) = &self.profile {
            s.push_str(&format!(" with profile '{p}'"));
        }
        s
    }
}

/// How long a failed refresh waits before the next try, while the
/// current credentials are still valid.
const FAILED_REFRESH_PAUSE: Duration = Duration::from_secs(10);

/// Credentials from a chain, cached and refreshed before expiry, so a long
/// query or COPY does not die on ExpiredToken.
pub struct ChainCredentials {
    description: String,
    provider: SharedCredentialsProvider,
    overrides: CredentialOverrides,
    region: Option<String>,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    credentials: Credentials,
    refresh_at: Option<SystemTime>,
}

impl fmt::Debug for ChainCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainCredentials")
            .field("chain", &self.description)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ChainCredentials {
    /// Builds the chain. `explicit_region` (REGION) wins over the region the
    /// environment or profile names; STS and SSO calls use that region.
    pub async fn build(spec: &ChainSpec, explicit_region: Option<&str>) -> Result<Self> {
        let found_region = detect_region(spec.profile.as_deref()).await;
        let sts_region = explicit_region
            .map(str::to_owned)
            .or_else(|| found_region.clone())
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(TlsProvider::Rustls(CryptoMode::Ring))
            .build_https();
        let config = ProviderConfig::default()
            .with_http_client(http)
            .with_region(Some(Region::new(sts_region)));
        let provider = match &spec.links {
            None => {
                let mut chain =
                    aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                        .configure(config);
                if let Some(p) = &spec.profile {
                    chain = chain.profile_name(p);
                }
                SharedCredentialsProvider::new(chain.build().await)
            }
            Some(links) => {
                let mut chain: Option<CredentialsProviderChain> = None;
                for link in links {
                    let p = link_provider(*link, &config, spec.profile.as_deref());
                    chain = Some(match chain {
                        None => CredentialsProviderChain::first_try(link.as_str(), p),
                        Some(c) => c.or_else(link.as_str(), p),
                    });
                }
                let chain = chain.ok_or_else(|| SecretError::InvalidChain {
                    chain: String::new(),
                    link: String::new(),
                })?;
                SharedCredentialsProvider::new(chain)
            }
        };
        Ok(Self {
            description: spec.describe(),
            provider,
            overrides: spec.overrides.clone(),
            region: found_region,
            cached: Mutex::new(None),
        })
    }

    /// The region the environment or profile names, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Current credentials: cached ones until their refresh time, then
    /// fresh ones from the chain. A chain that finds nothing, where KEY_ID
    /// and SECRET are both given, gives those for good (a secret created
    /// with VALIDATION 'none': DuckDB makes it of the given parameters once,
    /// and the chain is not asked again).
    pub async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        match self.fetch_found().await {
            Err(error) => {
                let given = self.overrides.whole().ok_or(error)?;
                *self.cached.lock().await = Some(Cached {
                    credentials: given.clone(),
                    refresh_at: None,
                });
                Ok(given)
            }
            found => found,
        }
    }

    /// What the chain finds (overrides laid over it), or its error: the
    /// check of CREATE SECRET's VALIDATION 'exists'.
    pub async fn fetch_found(&self) -> Result<Credentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.refresh_at.is_none_or(|at| SystemTime::now() < at)
        {
            return Ok(c.credentials.clone());
        }
        // Refreshes are single-flight: the lock is held across the call.
        let fresh = match self.provider.provide_credentials().await {
            Ok(fresh) => fresh,
            Err(e) => {
                let error = CredentialsError::new(&self.description, error_chain(&e));
                // A refresh that fails early (STS briefly unreachable) keeps
                // credentials that still work; it is tried again next time.
                let now = SystemTime::now();
                if let Some(c) = cached.as_mut()
                    && let Some(expires_at) = c.credentials.expires_at
                    && now < expires_at
                {
                    // Not on every request until it works: wait a little.
                    let wait = expires_at.duration_since(now).unwrap_or_default() / 4;
                    c.refresh_at = Some(now + wait.min(FAILED_REFRESH_PAUSE));
                    tracing::warn!(
                        chain = %self.description,
                        error = %error.message,
                        "refreshing credentials failed; the current ones have not expired and stay in use"
                    );
                    return Ok(c.credentials.clone());
                }
                return Err(error);
            }
        };
        let mut credentials = Credentials::new(fresh.access_key_id(), fresh.secret_access_key());
        credentials.session_token = fresh.session_token().map(Into::into);
        credentials.expires_at = fresh.expiry();
        let credentials = self.overrides.apply(credentials);
        tracing::debug!(
            chain = %self.description,
            access_key_id = %credentials.access_key_id,
            expires_at = ?credentials.expires_at,
            "credential_chain fetched credentials"
        );
        *cached = Some(Cached {
            refresh_at: credentials.expires_at.map(refresh_time),
            credentials: credentials.clone(),
        });
        Ok(credentials)
    }
}

impl ProvideCredentials for ChainCredentials {
    fn credentials(&self) -> BoxFuture<'_, Result<Option<Credentials>, CredentialsError>> {
        Box::pin(async move { self.fetch().await.map(Some) })
    }
}

/// When to refresh credentials that expire at `expires_at`.
fn refresh_time(expires_at: SystemTime) -> SystemTime {
    let remaining = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    expires_at - REFRESH_MARGIN.min(remaining / 2)
}

/// An SDK error and its causes on one line; they name sources and files,
/// never credential values.
fn error_chain(e: &SdkCredentialsError) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Region from `AWS_REGION` / `AWS_DEFAULT_REGION`, then the profile. The
/// instance metadata service is not asked: that would stall every
/// credential_chain secret off EC2.
async fn detect_region(profile: Option<&str>) -> Option<String> {
    let mut from_profile = ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(from_profile.build())
        .region()
        .await
        .map(|r| r.to_string())
}

fn link_provider(
    link: ChainLink,
    config: &ProviderConfig,
    profile: Option<&str>,
) -> SharedCredentialsProvider {
    let profile_provider = || {
        let mut b =
            aws_config::profile::ProfileFileCredentialsProvider::builder().configure(config);
        if let Some(p) = profile {
            b = b.profile_name(p);
        }
        b.build()
    };
    match link {
        ChainLink::Env => SharedCredentialsProvider::new(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ),
        ChainLink::Config => SharedCredentialsProvider::new(profile_provider()),
        ChainLink::Sts => SharedCredentialsProvider::new(
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .configure(config)
                .build(),
        ),
        ChainLink::Instance => SharedCredentialsProvider::new(
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(config)
                .build(),
        ),
        ChainLink::Sso => SharedCredentialsProvider::new(ProfileSection {
            profile: profile.map(str::to_owned),
            kind: SectionKind::Sso(profile_provider()),
        }),
        ChainLink::Process => SharedCredentialsProvider::new(ProfileSection {
            profile: profile.map(str::to_owned),
            kind: SectionKind::Process,
        }),
    }
}

/// The `sso` and `process` links: the profile's SSO or `credential_process`
/// settings only, resolved by aws-config's own providers.
#[derive(Debug)]
struct ProfileSection {
    profile: Option<String>,
    kind: SectionKind,
}

#[derive(Debug)]
enum SectionKind {
    Sso(aws_config::profile::ProfileFileCredentialsProvider),
    Process,
}

impl ProfileSection {
    async fn provide(&self) -> aws_credential_types::provider::Result {
        let not_loaded = |why: String| Err(SdkCredentialsError::not_loaded(why));
        let profiles = match aws_config::profile::load(
            &Fs::real(),
            &Env::real(),
            &EnvConfigFiles::default(),
            self.profile.clone().map(Cow::Owned),
        )
        .await
        {
            Ok(p) => p,
            Err(e) => return not_loaded(format!("no AWS profile files could be read: {e}")),
        };
        let name = profiles.selected_profile().to_owned();
        let Some(profile) = profiles.get_profile(&name) else {
            return not_loaded(format!("profile '{name}' is not defined"));
        };
        match &self.kind {
            SectionKind::Sso(provider) => {
                if profile.get("sso_start_url").is_none() && profile.get("sso_session").is_none() {
                    return not_loaded(format!(
                        "profile '{name}' has no sso_start_url or sso_session"
                    ));
                }
                provider.provide_credentials().await
            }
            SectionKind::Process => match profile.get("credential_process") {
                Some(command) => {
                    aws_config::credential_process::CredentialProcessProvider::new(
                        command.to_owned(),
                    )
                    .provide_credentials()
                    .await
                }
                None => not_loaded(format!("profile '{name}' has no credential_process")),
            },
        }
    }
}

impl SdkProvideCredentials for ProfileSection {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.provide())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_parsing() {
        assert_eq!(
            ChainSpec::parse_chain("env;CONFIG; sts;sso;instance;process").unwrap(),
            vec![
                ChainLink::Env,
                ChainLink::Config,
                ChainLink::Sts,
                ChainLink::Sso,
                ChainLink::Instance,
                ChainLink::Process
            ]
        );
        let err = ChainSpec::parse_chain("env;ec2").unwrap_err().to_string();
        assert!(err.contains("unknown provider 'ec2'"), "{err}");
        assert!(ChainSpec::parse_chain(";").is_err());
    }

    #[test]
    fn refresh_happens_before_expiry() {
        let now = SystemTime::now();
        let hour = refresh_time(now + Duration::from_secs(3600));
        assert!(hour <= now + Duration::from_secs(3300) && hour > now);
        let short = refresh_time(now + Duration::from_secs(4));
        assert!(short <= now + Duration::from_millis(2100) && short > now + Duration::from_secs(1));
        assert!(refresh_time(now - Duration::from_secs(1)) <= now);
    }
}
