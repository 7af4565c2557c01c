//! One secret: its checked parameters, the endpoint they imply, and the
//! credentials a request signed with it uses.

use std::sync::Arc;

use s3sql_s3_client::{
    Anonymous, ClientConfig, Credentials, DEFAULT_REGION, SharedCredentials, StaticCredentials,
    UrlStyle,
};
use tokio::sync::OnceCell;

use crate::chain::{ChainCredentials, ChainSpec};
use crate::error::{Result, SecretError};
use crate::kind::{GCS_ENDPOINT, Provider, SecretType};
use crate::params::{Parameters, Reader};
use crate::scope::Scope;

/// Parameters every type and provider takes.
const COMMON: [&str; 10] = [
    "ENDPOINT",
    "KEY_ID",
    "SECRET",
    "REGION",
    "SESSION_TOKEN",
    "URL_COMPATIBILITY_MODE",
    "URL_STYLE",
    "USE_SSL",
    "SCOPE",
    "REQUESTER_PAYS",
];
/// Parameters only `credential_chain` takes.
const CHAIN_ONLY: [&str; 4] = ["CHAIN", "PROFILE", "VALIDATION", "REFRESH"];

/// Whether `name` (any case) is a parameter some CREATE SECRET takes, TYPE
/// and PROVIDER included. The statement masker reads such a word as the
/// start of the next option, not as more of a credential's value.
pub fn names_a_parameter(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let upper = upper.as_str();
    ["TYPE", "PROVIDER", "KMS_KEY_ID", "ACCOUNT_ID"].contains(&upper)
        || COMMON.contains(&upper)
        || CHAIN_ONLY.contains(&upper)
}

/// Where a request goes and how it is addressed, as a secret says: the
/// knobs DuckDB also has as `s3_*` settings, each `None` unless given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Settings {
    /// ENDPOINT, or the type's (r2: `<ACCOUNT_ID>.r2.cloudflarestorage.com`,
    /// gcs: `storage.googleapis.com`); `None` is AWS (`s3.<region>.amazonaws.com`).
    pub endpoint: Option<String>,
    /// REGION, when given.
    pub region: Option<String>,
    /// URL_STYLE, or the type's default.
    pub url_style: Option<UrlStyle>,
    /// USE_SSL (default true).
    pub use_ssl: Option<bool>,
    /// URL_COMPATIBILITY_MODE: keys are taken literally, never globbed.
    pub url_compatibility_mode: Option<bool>,
    /// KMS_KEY_ID: writes ask for SSE-KMS with this key.
    pub kms_key_id: Option<String>,
    /// REQUESTER_PAYS: send `x-amz-request-payer: requester`.
    pub requester_pays: Option<bool>,
}

/// DuckDB's `s3_*` settings (`SET s3_region = '...'`): what a request
/// uses where the covering secret says nothing, or where no secret covers
/// the URL. A value on the secret always wins, as in DuckDB, where each
/// parameter is read "from the secret, else from the setting".
#[derive(Debug, Clone, Default)]
pub struct SettingDefaults {
    /// `s3_endpoint`, `s3_region`, `s3_url_style`, `s3_use_ssl`,
    /// `s3_url_compatibility_mode`, `s3_kms_key_id`, `s3_requester_pays`.
    pub settings: S3Settings,
    /// `s3_access_key_id`, `s3_secret_access_key`, `s3_session_token`: used
    /// by secrets without credentials of their own and without a secret.
    pub credentials: Option<Credentials>,
}

impl SettingDefaults {
    /// The client configuration of a request no secret covers: `config`
    /// holds the URL type's defaults (gcs's endpoint stays gcs's).
    pub(crate) fn unsigned_config(&self, mut config: ClientConfig) -> (ClientConfig, bool) {
        let d = &self.settings;
        if config.endpoint.is_none() {
            config.endpoint.clone_from(&d.endpoint);
        }
        if let Some(region) = &d.region {
            config.region = region.clone();
        }
        if let Some(style) = d.url_style {
            config.url_style = style;
        }
        config.use_ssl = d.use_ssl.unwrap_or(config.use_ssl);
        config.requester_pays = d.requester_pays.unwrap_or(config.requester_pays);
        config.sse_kms_key_id = d.kms_key_id.clone();
        (config, d.url_compatibility_mode.unwrap_or(false))
    }

    /// The settings' credentials, or anonymous requests.
    pub(crate) fn credentials(&self) -> SharedCredentials {
        match &self.credentials {
            Some(c) => Arc::new(StaticCredentials(c.clone())),
            None => Arc::new(Anonymous),
        }
    }
}

/// How a secret authenticates.
#[derive(Debug, Clone)]
enum Auth {
    /// PROVIDER config without KEY_ID: unsigned requests to its endpoint.
    Anonymous,
    /// PROVIDER config with KEY_ID and SECRET.
    Static(Credentials),
    /// PROVIDER credential_chain.
    Chain(ChainSpec),
}

/// A checked secret. Built from the parameters of `CREATE SECRET`, which it
/// keeps so that a persistent secret is stored as it was written.
#[derive(Debug)]
pub struct Secret {
    name: String,
    secret_type: SecretType,
    provider: Provider,
    scopes: Vec<Scope>,
    settings: S3Settings,
    auth: Auth,
    parameters: Parameters,
    /// credential_chain's provider, built on first use (it may read files
    /// and environment variables, which creating or loading a secret must not).
    chain: OnceCell<Arc<ChainCredentials>>,
}

/// What a request needs from a secret: the client configuration and the
/// credentials provider.
#[derive(Debug, Clone)]
pub struct SecretAccess {
    /// Endpoint, region, addressing, TLS, SSE-KMS and requester-pays.
    pub config: ClientConfig,
    /// Credentials, refreshed as needed; anonymous for public buckets.
    pub credentials: SharedCredentials,
    /// URL_COMPATIBILITY_MODE: take keys literally, do not glob.
    pub url_compatibility_mode: bool,
}

impl Secret {
    /// Checks `CREATE SECRET name (TYPE ..., PROVIDER ..., ...)`. Names are
    /// case-insensitive and kept lowercase, as DuckDB does.
    pub fn new(name: &str, parameters: Parameters) -> Result<Self> {
        let name = check_name(name)?;
        let kept = parameters.clone();
        let mut params = parameters;
        let mut r = Reader {
            params: &mut params,
        };
        let secret_type = SecretType::parse(&r.string("TYPE")?.ok_or_else(|| {
            SecretError::Invalid("TYPE is required: TYPE s3, TYPE r2 or TYPE gcs".into())
        })?)?;
        let provider = match r.string("PROVIDER")? {
            Some(p) => Provider::parse(&p)?,
            None => Provider::Config,
        };
        check_names(r.params, secret_type, provider)?;

        let scopes = match r.strings("SCOPE")? {
            Some(list) => list,
            None => secret_type.default_scopes(),
        }
        .iter()
        .map(|s| Scope::parse(s, secret_type))
        .collect::<Result<Vec<_>>>()?;

        let url_style = r
            .choice("URL_STYLE", &["vhost", "path"])?
            .map(|s| UrlStyle::parse(&s).unwrap_or_default());
        let endpoint = r.header_value("ENDPOINT")?;
        if let Some(endpoint) = &endpoint {
            refuse_endpoint_user_info(endpoint)?;
        }
        let mut settings = S3Settings {
            endpoint,
            region: r.header_value("REGION")?,
            url_style,
            use_ssl: r.boolean("USE_SSL")?,
            url_compatibility_mode: r.boolean("URL_COMPATIBILITY_MODE")?,
            kms_key_id: r.string("KMS_KEY_ID")?,
            requester_pays: r.boolean("REQUESTER_PAYS")?,
        };
        let account_id = r.string("ACCOUNT_ID")?;
        match (secret_type, &settings.endpoint, account_id) {
            (SecretType::R2, Some(_), Some(_)) => {
                return Err(SecretError::Invalid(
                    "give ACCOUNT_ID or ENDPOINT for an r2 secret, not both".into(),
                ));
            }
            (SecretType::R2, None, Some(account)) => {
                settings.endpoint = Some(format!("{account}.r2.cloudflarestorage.com"));
            }
            (SecretType::R2, None, None) => {
                return Err(SecretError::Invalid(
                    "an r2 secret needs ACCOUNT_ID (or ENDPOINT) to know where R2 is".into(),
                ));
            }
            (SecretType::Gcs, None, _) => settings.endpoint = Some(GCS_ENDPOINT.into()),
            _ => {}
        }

        let auth = match provider {
            Provider::Config => config_auth(&mut r)?,
            Provider::CredentialChain => Auth::Chain(ChainSpec::from_parameters(&mut r)?),
        };
        Ok(Self {
            name,
            secret_type,
            provider,
            scopes,
            settings,
            auth,
            parameters: kept,
            chain: OnceCell::new(),
        })
    }

    /// The secret's name (lowercase).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// s3, r2 or gcs.
    pub fn secret_type(&self) -> SecretType {
        self.secret_type
    }

    /// config or credential_chain.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The URL prefixes this secret serves.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// Endpoint, region and addressing as given (type defaults applied
    /// for the r2 and gcs endpoints).
    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// The parameters as written, for persistence. Sensitive values are in
    /// here: `Parameters`' `Debug` redacts them, and listings use
    /// [`Parameters::redacted`].
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }

    /// `KEY_ID` for config secrets (shown in listings; not secret).
    pub fn key_id(&self) -> Option<&str> {
        match &self.auth {
            Auth::Static(c) => Some(&c.access_key_id),
            _ => None,
        }
    }

    /// The client configuration and credentials for requests under this
    /// secret. A credential_chain secret builds its chain on first call.
    pub async fn access(&self) -> Result<SecretAccess> {
        self.access_with(&SettingDefaults::default()).await
    }

    /// [`Self::access`], with `defaults` filling in what the secret does
    /// not say (DuckDB's `s3_*` settings).
    pub async fn access_with(&self, defaults: &SettingDefaults) -> Result<SecretAccess> {
        let (credentials, chain_region): (SharedCredentials, Option<String>) = match &self.auth {
            Auth::Anonymous => (defaults.credentials(), None),
            Auth::Static(c) => (Arc::new(StaticCredentials(c.clone())), None),
            Auth::Chain(spec) => {
                let chain = self.chain_credentials(spec).await?;
                let region = chain.region().map(str::to_owned);
                (chain, region)
            }
        };
        // R2 signs with region "auto" or its alias us-east-1, whatever a
        // profile says for AWS.
        let chain_region = chain_region.filter(|_| self.secret_type != SecretType::R2);
        let e = &self.settings;
        let d = &defaults.settings;
        let config = ClientConfig {
            endpoint: e.endpoint.clone().or_else(|| d.endpoint.clone()),
            region: e
                .region
                .clone()
                .or(chain_region)
                .or_else(|| d.region.clone())
                .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
            url_style: e
                .url_style
                .or(d.url_style)
                .unwrap_or_else(|| self.secret_type.default_url_style()),
            use_ssl: e.use_ssl.or(d.use_ssl).unwrap_or(true),
            requester_pays: e.requester_pays.or(d.requester_pays).unwrap_or(false),
            sse_kms_key_id: e.kms_key_id.clone().or_else(|| d.kms_key_id.clone()),
            ..ClientConfig::default()
        };
        Ok(SecretAccess {
            config,
            credentials,
            url_compatibility_mode: e
                .url_compatibility_mode
                .or(d.url_compatibility_mode)
                .unwrap_or(false),
        })
    }

    /// Fetches credentials once, as DuckDB's `VALIDATION 'exists'` does at
    /// CREATE time, so a chain that finds nothing fails now and not at the
    /// first query. Other secrets validate trivially.
    pub async fn validate(&self) -> Result<()> {
        if let Auth::Chain(spec) = &self.auth
            && spec.validate_on_create()
        {
            self.chain_credentials(spec).await?.fetch_found().await?;
        }
        Ok(())
    }

    async fn chain_credentials(&self, spec: &ChainSpec) -> Result<Arc<ChainCredentials>> {
        let chain = self
            .chain
            .get_or_try_init(|| async {
                ChainCredentials::build(spec, self.settings.region.as_deref())
                    .await
                    .map(Arc::new)
            })
            .await?;
        Ok(Arc::clone(chain))
    }
}

/// Secret names become file names of persistent secrets: keep them plain.
fn check_name(name: &str) -> Result<String> {
    let invalid = |reason: &str| SecretError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() || name.len() > 128 {
        return Err(invalid("use 1 to 128 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid("use letters, digits, '_' and '-' only"));
    }
    Ok(name.to_ascii_lowercase())
}

/// An endpoint carrying `user[:password]@` (CREATE SECRET's ENDPOINT, SET
/// s3_endpoint) is refused here, with the client's words and the user info
/// hidden, so it is never stored, listed or shown.
pub fn refuse_endpoint_user_info(endpoint: &str) -> Result<()> {
    let rest = ["https://", "http://"]
        .into_iter()
        .find_map(|scheme| endpoint.strip_prefix(scheme))
        .unwrap_or(endpoint);
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => Err(SecretError::Invalid(format!(
            "endpoint '{}***{}' carries a user name or password; give credentials as KEY_ID and SECRET, and ENDPOINT as host[:port][/path]",
            &endpoint[..endpoint.len() - rest.len()],
            &rest[at..]
        ))),
        None => Ok(()),
    }
}

/// Rejects parameters the type and provider do not take, listing those they do.
fn check_names(params: &Parameters, secret_type: SecretType, provider: Provider) -> Result<()> {
    let mut accepted: Vec<&str> = COMMON.to_vec();
    match secret_type {
        SecretType::S3 => accepted.push("KMS_KEY_ID"),
        SecretType::R2 => accepted.push("ACCOUNT_ID"),
        SecretType::Gcs => {}
    }
    if provider == Provider::CredentialChain {
        accepted.extend(CHAIN_ONLY);
    }
    for (name, _) in params.iter() {
        let upper = name.to_ascii_uppercase();
        if accepted.contains(&upper.as_str()) {
            continue;
        }
        return Err(SecretError::UnknownParameter {
            name: upper,
            secret_type: secret_type.to_string(),
            provider: provider.to_string(),
            accepted: accepted.join(", "),
        });
    }
    Ok(())
}

/// KEY_ID, SECRET and SESSION_TOKEN of a config secret: all or nothing.
fn config_auth(r: &mut Reader<'_>) -> Result<Auth> {
    let key_id = r.header_value("KEY_ID")?;
    let secret = r.string("SECRET")?;
    let token = r.header_value("SESSION_TOKEN")?;
    match (key_id, secret, token) {
        (None, None, None) => Ok(Auth::Anonymous),
        (Some(id), Some(secret), token) => {
            let mut creds = Credentials::new(id, secret);
            creds.session_token = token.map(Into::into);
            Ok(Auth::Static(creds))
        }
        (Some(_), None, _) => Err(SecretError::Invalid(
            "KEY_ID is given without SECRET: give both, or neither for public buckets".into(),
        )),
        (None, _, _) => Err(SecretError::Invalid(
            "SECRET or SESSION_TOKEN is given without KEY_ID: give KEY_ID too".into(),
        )),
    }
}
