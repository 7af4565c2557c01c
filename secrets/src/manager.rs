//! The secret manager: temporary secrets in memory, persistent ones in a
//! [`SecretDirectory`] loaded on first use, and the choice of a secret for a
//! URL.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use s3sql_s3_client::{ClientConfig, ObjectUrl};

use crate::error::{Result, SecretError};
use crate::kind::{GCS_ENDPOINT, SecretType};
use crate::listing::SecretListing;
use crate::params::Parameters;
use crate::secret::{Secret, SecretAccess, SettingDefaults};
use crate::store::SecretDirectory;

/// Where a secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Persistence {
    /// In memory, for this session (`CREATE [TEMPORARY] SECRET`).
    Temporary,
    /// On disk, for every session (`CREATE PERSISTENT SECRET`).
    Persistent,
}

impl Persistence {
    /// DuckDB's storage name: `memory` or `local_file`.
    pub fn storage(self) -> &'static str {
        match self {
            Self::Temporary => "memory",
            Self::Persistent => "local_file",
        }
    }
}

/// What CREATE SECRET does when the name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnConflict {
    /// Plain CREATE SECRET: an error.
    #[default]
    Error,
    /// CREATE OR REPLACE SECRET.
    Replace,
    /// CREATE SECRET IF NOT EXISTS: keep the existing one.
    Ignore,
}

/// What DROP SECRET does when no secret has the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnMissing {
    /// Plain DROP SECRET: an error.
    #[default]
    Error,
    /// DROP SECRET IF EXISTS: nothing to do.
    Ignore,
}

/// What CREATE SECRET did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A new secret.
    New,
    /// An existing secret of that name was replaced.
    Replaced,
    /// IF NOT EXISTS found one: nothing changed.
    Kept,
}

/// Which secret serves a URL, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMatch {
    /// The secret's name.
    pub name: String,
    /// Where it lives.
    pub persistence: Persistence,
    /// The scope that covered the URL.
    pub scope: String,
    /// The rule that chose it among the covering secrets, in words.
    pub reason: String,
}

/// The outcome of resolving a URL: the secret chosen (if any) and what
/// requests use.
#[derive(Debug, Clone)]
pub struct ResolvedAccess {
    /// The secret, or `None` for anonymous requests.
    pub secret: Option<ScopeMatch>,
    /// Client configuration and credentials.
    pub access: SecretAccess,
}

type SecretMap = BTreeMap<String, Arc<Secret>>;

struct PersistentSecrets {
    secrets: RwLock<SecretMap>,
    /// The unreadable files of the last load: while there are any, every
    /// use of the persistent storage reloads it, and fails until they are
    /// fixed or deleted.
    problems: Mutex<Vec<String>>,
}

/// DuckDB's secret manager, for s3, r2 and gcs secrets.
pub struct SecretManager {
    temporary: RwLock<SecretMap>,
    directory: Option<SecretDirectory>,
    persistent: OnceLock<PersistentSecrets>,
}

impl fmt::Debug for SecretManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretManager")
            .field(
                "temporary",
                &read(&self.temporary).keys().collect::<Vec<_>>(),
            )
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl Default for SecretManager {
    /// Persistent secrets in [`SecretDirectory::default_location`].
    fn default() -> Self {
        Self::new(SecretDirectory::default_location())
    }
}

fn read(lock: &RwLock<SecretMap>) -> RwLockReadGuard<'_, SecretMap> {
    // A panic while holding the lock cannot leave the map half-updated:
    // every write is a single insert or remove.
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write(lock: &RwLock<SecretMap>) -> RwLockWriteGuard<'_, SecretMap> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SecretManager {
    /// A manager whose persistent secrets live in `directory`; `None`
    /// disables persistence.
    pub fn new(directory: Option<SecretDirectory>) -> Self {
        Self {
            temporary: RwLock::new(BTreeMap::new()),
            directory,
            persistent: OnceLock::new(),
        }
    }

    /// The persistent secret directory, if any.
    pub fn directory(&self) -> Option<&SecretDirectory> {
        self.directory.as_ref()
    }

    fn load(&self) -> (SecretMap, Vec<SecretError>) {
        let loaded = self
            .directory
            .as_ref()
            .map(SecretDirectory::load)
            .unwrap_or_default();
        let secrets = loaded
            .secrets
            .into_iter()
            .map(|s| (s.name().to_owned(), Arc::new(s)))
            .collect();
        (secrets, loaded.problems)
    }

    fn persistent(&self) -> &PersistentSecrets {
        self.persistent.get_or_init(|| {
            let (secrets, problems) = self.load();
            PersistentSecrets {
                secrets: RwLock::new(secrets),
                problems: Mutex::new(problems.iter().map(ToString::to_string).collect()),
            }
        })
    }

    /// The persistent secrets, unless a file of them cannot be read: then,
    /// as DuckDB, an error naming it (the one of secret `about` first), so
    /// that no request goes out with another secret than the user meant.
    fn persistent_secrets(&self, about: Option<&str>) -> Result<&RwLock<SecretMap>> {
        let persistent = self.persistent();
        let mut problems = persistent
            .problems
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if problems.is_empty() {
            return Ok(&persistent.secrets);
        }
        // Fixed or deleted since? Files on disk are the truth: everything
        // this session stored is in them.
        let (secrets, mut fresh) = self.load();
        *problems = fresh.iter().map(ToString::to_string).collect();
        let about = about
            .zip(self.directory.as_ref())
            .map(|(n, d)| d.file_for(n));
        let first = fresh
            .iter()
            .position(|p| about.is_some() && problem_path(p) == about.as_deref())
            .unwrap_or(0);
        if fresh.is_empty() {
            *write(&persistent.secrets) = secrets;
            return Ok(&persistent.secrets);
        }
        Err(fresh.swap_remove(first))
    }

    fn map(&self, persistence: Persistence, about: Option<&str>) -> Result<&RwLock<SecretMap>> {
        match persistence {
            Persistence::Temporary => Ok(&self.temporary),
            Persistence::Persistent => self.persistent_secrets(about),
        }
    }

    /// Persistent secret files that could not be read, as of the last use
    /// of the persistent storage (each message names its file). They are
    /// never deleted or overwritten; while there are any, reading secrets
    /// fails with the first.
    pub fn load_problems(&self) -> Vec<String> {
        self.persistent()
            .problems
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// `CREATE [OR REPLACE] [PERSISTENT] SECRET [IF NOT EXISTS] name (...)`.
    /// A credential_chain secret fetches credentials once first, unless it
    /// says `VALIDATION 'none'`.
    pub async fn create(
        &self,
        name: &str,
        parameters: Parameters,
        persistence: Persistence,
        on_conflict: OnConflict,
    ) -> Result<Created> {
        let secret = Secret::new(name, parameters)?;
        let conflict = |exists: bool| match (exists, on_conflict) {
            (true, OnConflict::Ignore) => Some(Ok(Created::Kept)),
            (true, OnConflict::Error) => Some(Err(SecretError::AlreadyExists {
                name: secret.name().to_owned(),
                storage: persistence.storage(),
            })),
            _ => None,
        };
        // Checked before validating (which may run a process or call STS)...
        let map = self.map(persistence, Some(secret.name()))?;
        if let Some(outcome) = conflict(read(map).contains_key(secret.name())) {
            return outcome;
        }
        secret.validate().await?;
        // ...and again under the lock, so two sessions racing on one name
        // cannot both win.
        let mut map = write(map);
        if let Some(outcome) = conflict(map.contains_key(secret.name())) {
            return outcome;
        }
        if persistence == Persistence::Persistent {
            self.store(&secret)?;
        }
        let previous = map.insert(secret.name().to_owned(), Arc::new(secret));
        Ok(if previous.is_some() {
            Created::Replaced
        } else {
            Created::New
        })
    }

    /// Writes a persistent secret's file. An unreadable file of that name
    /// never gets here: the storage is refused while it is there.
    fn store(&self, secret: &Secret) -> Result<()> {
        self.directory
            .as_ref()
            .ok_or(SecretError::NoSecretDirectory)?
            .write(secret)
    }

    /// `DROP [TEMPORARY|PERSISTENT] SECRET [IF EXISTS] name`. Without a
    /// persistence, the name must exist in exactly one storage. Returns
    /// whether a secret was dropped.
    pub fn drop_secret(
        &self,
        name: &str,
        persistence: Option<Persistence>,
        on_missing: OnMissing,
    ) -> Result<bool> {
        let name = name.to_ascii_lowercase();
        let mut holders = Vec::new();
        for p in [Persistence::Temporary, Persistence::Persistent] {
            if persistence.is_none_or(|want| want == p)
                && read(self.map(p, Some(&name))?).contains_key(&name)
            {
                holders.push(p);
            }
        }
        let target = match holders.as_slice() {
            [] if on_missing == OnMissing::Ignore => return Ok(false),
            [] => return Err(SecretError::NotFound(name)),
            [one] => *one,
            _ => return Err(SecretError::Ambiguous(name)),
        };
        if target == Persistence::Persistent
            && let Some(directory) = &self.directory
        {
            directory.remove(&name)?;
        }
        write(self.map(target, Some(&name))?).remove(&name);
        Ok(true)
    }

    /// The secret called `name`, temporary first; `None` also when the
    /// persistent storage holds an unreadable file.
    pub fn get(&self, name: &str) -> Option<Arc<Secret>> {
        let name = name.to_ascii_lowercase();
        [Persistence::Temporary, Persistence::Persistent]
            .into_iter()
            .find_map(|p| read(self.map(p, Some(&name)).ok()?).get(&name).cloned())
    }

    /// Every secret, as DuckDB's `duckdb_secrets()` lists them (values of
    /// SECRET and SESSION_TOKEN redacted), temporary first, by name. Fails
    /// while a persistent secret file cannot be read, naming it.
    pub fn list(&self) -> Result<Vec<SecretListing>> {
        let mut rows = Vec::new();
        for p in [Persistence::Temporary, Persistence::Persistent] {
            rows.extend(
                read(self.map(p, None)?)
                    .values()
                    .map(|s| SecretListing::of(s, p)),
            );
        }
        Ok(rows)
    }

    /// DuckDB's `which_secret(url, type)`: the secret of `secret_type` that
    /// would serve `url`, and why. Within the type the longest covering
    /// SCOPE wins; on a tie a temporary secret beats a persistent one, then
    /// the smaller name.
    pub fn which_secret(&self, url: &str, secret_type: SecretType) -> Result<Option<ScopeMatch>> {
        let location = ObjectUrl::parse(url)?;
        Ok(self.covering(&location, secret_type)?.map(|(m, _)| m))
    }

    fn covering(
        &self,
        location: &ObjectUrl,
        secret_type: SecretType,
    ) -> Result<Option<(ScopeMatch, Arc<Secret>)>> {
        let mut candidates: Vec<(usize, Persistence, Arc<Secret>, String)> = Vec::new();
        for persistence in [Persistence::Temporary, Persistence::Persistent] {
            for secret in read(self.map(persistence, None)?).values() {
                if secret.secret_type() != secret_type {
                    continue;
                }
                if let Some(scope) = secret
                    .scopes()
                    .iter()
                    .filter(|s| s.covers(location))
                    .max_by_key(|s| s.specificity())
                {
                    candidates.push((
                        scope.specificity(),
                        persistence,
                        Arc::clone(secret),
                        scope.to_string(),
                    ));
                }
            }
        }
        // Longest scope first, then temporary before persistent, then name.
        candidates.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.1.cmp(&b.1))
                .then_with(|| a.2.name().cmp(b.2.name()))
        });
        let Some((length, persistence, secret, scope)) = candidates.first().cloned() else {
            return Ok(None);
        };
        let ties = candidates.iter().filter(|c| c.0 == length).count();
        let reason = match (candidates.len(), ties) {
            (1, _) => format!("the only {secret_type} secret whose scope covers the URL"),
            (n, 1) => {
                format!("the longest covering scope ({length} characters) of {n} covering secrets")
            }
            (n, t) => format!(
                "{t} of {n} covering secrets tie on scope length {length}; {} secrets beat persistent ones, then the smaller name",
                Persistence::Temporary.storage()
            ),
        };
        Ok(Some((
            ScopeMatch {
                name: secret.name().to_owned(),
                persistence,
                scope,
                reason,
            },
            secret,
        )))
    }

    /// What requests for `url` use: the covering secret's endpoint and
    /// credentials, or anonymous requests with the type's defaults when no
    /// secret covers it (public buckets).
    pub async fn resolve(&self, url: &str) -> Result<ResolvedAccess> {
        self.resolve_with(url, &SettingDefaults::default()).await
    }

    /// [`Self::resolve`], with DuckDB's `s3_*` settings filling in what the
    /// covering secret does not say, or everything when no secret covers
    /// `url`. A value on the secret wins.
    pub async fn resolve_with(
        &self,
        url: &str,
        defaults: &SettingDefaults,
    ) -> Result<ResolvedAccess> {
        let location = ObjectUrl::parse(url)?;
        let secret_type = SecretType::for_url(&location);
        if let Some((matched, secret)) = self.covering(&location, secret_type)? {
            return Ok(ResolvedAccess {
                secret: Some(matched),
                access: secret.access_with(defaults).await?,
            });
        }
        let config = match secret_type {
            SecretType::S3 => ClientConfig::default(),
            SecretType::Gcs => ClientConfig::default()
                .with_endpoint(GCS_ENDPOINT)
                .with_url_style(SecretType::Gcs.default_url_style()),
            SecretType::R2 => return Err(SecretError::R2WithoutSecret(url.to_owned())),
        };
        let (config, url_compatibility_mode) = defaults.unsigned_config(config);
        Ok(ResolvedAccess {
            secret: None,
            access: SecretAccess {
                config,
                credentials: defaults.credentials(),
                url_compatibility_mode,
            },
        })
    }
}

/// The file an error of loading a persistent secret is about.
fn problem_path(problem: &SecretError) -> Option<&Path> {
    match problem {
        SecretError::CorruptFile { path, .. }
        | SecretError::OpenToOthers { path, .. }
        | SecretError::Storage { path, .. } => Some(path),
        _ => None,
    }
}
