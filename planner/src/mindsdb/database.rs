//! [`Database`]: one `CREATE DATABASE ... WITH ENGINE = 's3'`, resolved to
//! the same client configuration a secret gives (its parameters become a
//! secret through `s3sql_secrets::MindsDbConnection`), and [`Databases`],
//! the session's registry of them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use datafusion::catalog::CatalogProvider;
use s3sql_s3_client::S3Client;
use s3sql_secrets::{
    DatabaseDirectory, MindsDbConnection, ParamValue, Parameters, Secret, SecretError,
    StoredDatabase,
};

use super::error::DatabaseError;
use crate::error::{PlannerError, Result};
use crate::settings::Settings;

/// A MindsDB-style S3 database.
#[derive(Debug)]
pub(crate) struct Database {
    name: String,
    /// The parameters as written (what is stored and listed, redacted).
    written: Parameters,
    /// The bucket's region when GetBucketLocation found it (no
    /// `region_name` given).
    found_region: Option<String>,
    /// The secret its requests are signed with, the found region applied.
    connection: MindsDbConnection,
}

impl Database {
    /// A database from its parameters and the region found for its bucket.
    pub(crate) fn new(
        name: &str,
        written: Parameters,
        found_region: Option<String>,
    ) -> Result<Self> {
        let mut effective = written.clone();
        if let Some(region) = &found_region
            && effective.get("region_name").is_none()
        {
            effective.insert("region_name", region.clone())?;
        }
        let connection = MindsDbConnection::new(name, &effective)?;
        Ok(Self {
            name: name.to_owned(),
            written,
            found_region,
            connection,
        })
    }

    /// The database as stored.
    fn stored(&self) -> StoredDatabase {
        StoredDatabase {
            name: self.name.clone(),
            parameters: self.written.clone(),
            region: self.found_region.clone(),
        }
    }

    /// The database's name (lower case).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Its bucket, when it names one.
    pub(crate) fn bucket(&self) -> Option<&str> {
        self.connection.bucket.as_deref()
    }

    /// The region GetBucketLocation found, if it was asked.
    pub(crate) fn found_region(&self) -> Option<&str> {
        self.found_region.as_deref()
    }

    /// The secret its requests are signed with.
    pub(crate) fn secret(&self) -> &Secret {
        &self.connection.secret
    }

    /// The `s3://` URL of `key` (the key's first segment is the bucket
    /// when the database names none).
    pub(crate) fn url(&self, key: &str) -> String {
        self.connection.url(key)
    }

    /// The store identity of its requests, distinct from every secret's
    /// (secret names cannot hold ':').
    pub(crate) fn signer_id(&self) -> String {
        format!("database:{}", self.name)
    }

    /// A client for its requests, DuckDB's settings filling in what the
    /// parameters do not say; also whether keys are taken literally.
    pub(crate) async fn client(&self, settings: &Settings) -> Result<(S3Client, bool)> {
        crate::scan::stores::client_with_secret(self.secret(), settings).await
    }

    /// The parameters as `{"name": "value", ...}`, sensitive values shown
    /// as `redacted`.
    pub(crate) fn redacted_parameters(&self) -> String {
        redacted(&self.written)
    }
}

/// Whether `name` is written as a string parameter.
pub(crate) fn has_string(parameters: &Parameters, name: &str) -> bool {
    matches!(parameters.get(name), Some(ParamValue::Str(s)) if !s.is_empty())
}

/// A stored database this session could not load: its file and why. It
/// stays listed, so the user sees it and can DROP it (the file is never
/// replaced behind the user's back).
#[derive(Debug, Clone)]
pub(crate) struct Unloadable {
    /// The stored file.
    pub(crate) file: PathBuf,
    /// Why it does not load; it quotes no secret.
    pub(crate) reason: String,
    /// Its parameters, redacted, when the file could be read.
    pub(crate) parameters: Option<String>,
}

impl Unloadable {
    fn error(&self, name: &str) -> PlannerError {
        DatabaseError::Unloadable {
            name: name.to_owned(),
            file: self.file.clone(),
            reason: self.reason.clone(),
        }
        .into()
    }

    /// What SHOW DATABASES says about it.
    pub(crate) fn problem(&self, name: &str) -> String {
        self.error(name).to_string()
    }
}

/// The session's databases by name, and where they are stored.
#[derive(Debug, Default)]
pub(crate) struct Databases {
    /// The session's catalog: a name that is one of its schemas is never
    /// a missing database.
    catalog: Option<Arc<dyn CatalogProvider>>,
    by_name: RwLock<BTreeMap<String, Arc<Database>>>,
    /// Stored databases that do not load, by name.
    unloadable: RwLock<BTreeMap<String, Unloadable>>,
    directory: Option<DatabaseDirectory>,
    /// Databases must be stored, and there is no directory: CREATE
    /// DATABASE is refused.
    unstorable: bool,
}

impl Databases {
    /// The databases stored in `directory` (none without one). A file
    /// that cannot be loaded is kept as [`Unloadable`]: listed with its
    /// problem, refused by name, never overwritten.
    pub(crate) fn open(directory: Option<DatabaseDirectory>) -> Self {
        let databases = Self {
            directory,
            ..Self::default()
        };
        if let Some(directory) = &databases.directory {
            let loaded = directory.load();
            for problem in loaded.problems {
                tracing::warn!("stored databases cannot be listed: {problem}");
            }
            for stored in loaded.databases {
                if let Err(e) = databases.add_stored(stored) {
                    tracing::warn!("{e}");
                }
            }
            for unreadable in loaded.unreadable {
                databases.write_unloadable().insert(
                    unreadable.name.to_ascii_lowercase(),
                    Unloadable {
                        file: unreadable.path,
                        reason: reason(unreadable.problem),
                        parameters: None,
                    },
                );
            }
        }
        databases
    }

    /// These databases beside the session's `catalog`.
    pub(crate) fn with_catalog(mut self, catalog: Option<Arc<dyn CatalogProvider>>) -> Self {
        self.catalog = catalog;
        self
    }

    /// These databases, refusing to create one they cannot store when
    /// `stored` (a CLI session without a config directory), where a
    /// session built to keep them in memory keeps them there.
    pub(crate) fn stored_only(mut self, stored: bool) -> Self {
        self.unstorable = stored && self.directory.is_none();
        self
    }

    /// Refuses to create database `name` when it could not be stored.
    pub(crate) fn can_store(&self, name: &str) -> Result<()> {
        if self.unstorable {
            return Err(DatabaseError::NoStorage {
                name: name.to_owned(),
            }
            .into());
        }
        Ok(())
    }

    /// Whether `name` is a schema of the session's catalog (`public`, or
    /// one CREATE SCHEMA made): then `name.table` is DataFusion's.
    pub(crate) fn is_schema(&self, name: &str) -> bool {
        self.catalog.as_ref().is_some_and(|catalog| {
            catalog
                .schema_names()
                .iter()
                .any(|s| s == name || s.eq_ignore_ascii_case(name))
        })
    }

    /// Whether `name` is the session's own: its catalog, `public`,
    /// `information_schema` or a schema CREATE SCHEMA made. `name.t` is
    /// then DataFusion's table, whatever database files exist.
    pub(crate) fn is_session_name(&self, name: &str) -> bool {
        super::RESERVED.contains(&name.to_ascii_lowercase().as_str()) || self.is_schema(name)
    }

    /// Adds a database read from its file, or records why it does not load.
    fn add_stored(&self, stored: StoredDatabase) -> Result<Option<Arc<Database>>> {
        let name = stored.name.clone();
        let parameters = redacted_unless_known(&stored.parameters);
        let database = if super::RESERVED.contains(&name.as_str()) {
            // Stored before CREATE refused the name: it would take over
            // the session's own `public.t` / `information_schema.tables`.
            Err(PlannerError::from(DatabaseError::Reserved {
                name: name.clone(),
            }))
        } else {
            Database::new(&name, stored.parameters, stored.region)
        };
        match database {
            Ok(database) => {
                let database = Arc::new(database);
                self.write().insert(name, Arc::clone(&database));
                Ok(Some(database))
            }
            Err(e) => {
                let unloadable = Unloadable {
                    file: self.file_for(&name),
                    reason: e.to_string(),
                    parameters: Some(parameters),
                };
                let error = unloadable.error(&name);
                self.write_unloadable().insert(name, unloadable);
                Err(error)
            }
        }
    }

    fn file_for(&self, name: &str) -> PathBuf {
        match &self.directory {
            Some(d) => d.file_for(name),
            None => PathBuf::from("memory"),
        }
    }

    /// The database called `name` (case-insensitive) among those loaded.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Database>> {
        self.read().get(&name.to_ascii_lowercase()).cloned()
    }

    /// The database called `name` (case-insensitive) as it is stored now:
    /// its file is read at each use, so one another process stored since
    /// this session started is loaded, one it replaced (CREATE OR REPLACE,
    /// or DROP then CREATE) is used as replaced, and one it dropped is
    /// gone, as every client of MindsDB's one server sees it (review-10g
    /// #5: a session went on reading and writing the old bucket). A stored
    /// database that does not load is an error naming its file and the
    /// problem.
    pub(crate) fn find(&self, name: &str) -> Result<Option<Arc<Database>>> {
        let name = name.to_ascii_lowercase();
        let loaded = self.get(&name);
        // Only a name a database can have reaches the file system.
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let directory = self.directory.as_ref().filter(|_| plain);
        let unloadable = match loaded {
            Some(_) => None,
            None => self.read_unloadable().get(&name).cloned(),
        };
        if let Some(unloadable) = unloadable {
            // Mended since (stored anew by another process): loaded below.
            let mended = directory.is_some_and(|d| matches!(d.read(&name), Ok(Some(_))));
            if !mended {
                return Err(unloadable.error(&name));
            }
            self.write_unloadable().remove(&name);
        }
        let Some(directory) = directory else {
            return Ok(loaded);
        };
        match directory.read(&name) {
            Ok(None) => {
                if loaded.is_some() {
                    self.write().remove(&name);
                }
                Ok(None)
            }
            Ok(Some(stored)) => match loaded {
                Some(database) if database.stored() == stored => Ok(Some(database)),
                _ => self.add_stored(stored),
            },
            Err(problem) => {
                self.write().remove(&name);
                let unloadable = Unloadable {
                    file: directory.file_for(&name),
                    reason: reason(problem),
                    parameters: None,
                };
                let error = unloadable.error(&name);
                self.write_unloadable().insert(name, unloadable);
                Err(error)
            }
        }
    }

    /// The database called `name`, or an error saying there is none.
    pub(crate) fn require(&self, name: &str) -> Result<Arc<Database>> {
        self.find(name)?.ok_or_else(|| {
            DatabaseError::NotFound {
                name: name.to_ascii_lowercase(),
            }
            .into()
        })
    }

    /// Reads again every database stored now or known to this session,
    /// as [`Self::find`] reads one: a listing after it names what another
    /// process stored since and no longer what it dropped, as every client
    /// of MindsDB's one server sees them (review-10h #7: a running session
    /// listed only what it had loaded, though it used the others by name).
    pub(crate) fn refresh(&self) {
        let Some(directory) = &self.directory else {
            return;
        };
        let mut names: std::collections::BTreeSet<String> = match directory.names() {
            Ok(names) => names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            Err(problem) => {
                tracing::warn!("stored databases cannot be listed: {problem}");
                return;
            }
        };
        // One that did not load and whose file is gone is gone.
        self.write_unloadable()
            .retain(|name, _| names.contains(name));
        names.extend(self.read().keys().cloned());
        for name in names {
            // One that does not load is kept as unloadable, and listed so.
            let _ = self.find(&name);
        }
    }

    /// Every database, by name.
    pub(crate) fn list(&self) -> Vec<Arc<Database>> {
        self.read().values().cloned().collect()
    }

    /// Every stored database that does not load, by name.
    pub(crate) fn unloadable(&self) -> Vec<(String, Unloadable)> {
        self.read_unloadable()
            .iter()
            .map(|(name, u)| (name.clone(), u.clone()))
            .collect()
    }

    /// Whether `name` is taken: a database of this session, a stored one
    /// that does not load, or one stored by another process since.
    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.get(name).is_some()
            || self.read_unloadable().contains_key(name)
            || self.stored_elsewhere(name)
    }

    fn stored_elsewhere(&self, name: &str) -> bool {
        self.directory.as_ref().is_some_and(|d| d.holds(name))
    }

    /// Adds and stores `database`; a taken name is an error (a stored file
    /// this session did not load is never replaced), and so is a failed
    /// write (the database is not added then).
    pub(crate) fn insert(&self, database: Database) -> Result<()> {
        let mut map = self.write();
        if map.contains_key(database.name()) {
            return Err(DatabaseError::Exists {
                name: database.name().to_owned(),
            }
            .into());
        }
        if let Some(unloadable) = self.read_unloadable().get(database.name()) {
            return Err(unloadable.error(database.name()));
        }
        if self.stored_elsewhere(database.name()) {
            return Err(DatabaseError::StoredElsewhere {
                name: database.name().to_owned(),
                storage: self.storage(),
            }
            .into());
        }
        // No-clobber: another process may store the name in this instant.
        if let Some(directory) = &self.directory
            && !directory.create(&database.stored())?
        {
            return Err(DatabaseError::StoredElsewhere {
                name: database.name().to_owned(),
                storage: self.storage(),
            }
            .into());
        }
        map.insert(database.name().to_owned(), Arc::new(database));
        Ok(())
    }

    /// Adds and stores `database`, replacing one of its name (stored or
    /// not) with the stored file replaced atomically.
    pub(crate) fn replace(&self, database: Database) -> Result<()> {
        let mut map = self.write();
        if let Some(directory) = &self.directory {
            directory.write(&database.stored())?;
        }
        self.write_unloadable().remove(database.name());
        map.insert(database.name().to_owned(), Arc::new(database));
        Ok(())
    }

    /// Removes `name` and its stored file; whether it was there. A stored
    /// database that does not load is removed with its file; one another
    /// process stored anew since this session last used it is kept, and the
    /// DROP refused (the session uses the new one from then on).
    pub(crate) fn remove(&self, name: &str) -> Result<bool> {
        let used = self.get(name);
        // Loads the one stored now, or records that it does not load.
        let found = self.find(name);
        let unloadable = self.write_unloadable().remove(name);
        if let Some(unloadable) = unloadable {
            // The file it listed, whatever case its name is in.
            if self.directory.is_some()
                && let Err(e) = std::fs::remove_file(&unloadable.file)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                let error = DatabaseError::Unloadable {
                    name: name.to_owned(),
                    file: unloadable.file.clone(),
                    reason: format!("{} (and deleting it failed: {e})", unloadable.reason),
                };
                self.write_unloadable().insert(name.to_owned(), unloadable);
                return Err(error.into());
            }
            return Ok(true);
        }
        found?;
        let mut map = self.write();
        // Dropped by another process since: not here either.
        let Some(now) = map.get(name) else {
            return Ok(false);
        };
        let database = used.as_ref().unwrap_or(now);
        if let Some(directory) = &self.directory
            && !directory.remove_if_unchanged(&database.stored())?
        {
            return Err(DatabaseError::ChangedElsewhere {
                name: name.to_owned(),
                storage: self.storage(),
            }
            .into());
        }
        map.remove(name);
        Ok(true)
    }

    /// Where databases are stored, if anywhere.
    pub(crate) fn storage(&self) -> String {
        match &self.directory {
            Some(d) => d.path().display().to_string(),
            None => "memory".to_owned(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Database>>> {
        self.by_name.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Database>>> {
        self.by_name.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_unloadable(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Unloadable>> {
        self.unloadable.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_unloadable(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Unloadable>> {
        self.unloadable.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a stored file does not load, without the words for secret files.
fn reason(problem: SecretError) -> String {
    match problem {
        SecretError::CorruptFile { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// `parameters` as `{"name": "value", ...}`, sensitive values shown as
/// `redacted`.
/// The parameters of a stored database that does not load: only the
/// values of names known to hold no secret are shown (a file that does not
/// load may well misspell a secret's name, which `redacted` would show).
fn redacted_unless_known(parameters: &Parameters) -> String {
    const SHOWN: [&str; 3] = ["bucket", "region_name", "aws_access_key_id"];
    let pairs: Vec<String> = parameters
        .redacted()
        .into_iter()
        .map(|(name, value)| {
            let shown = if SHOWN.contains(&name.as_str())
                || (name == "endpoint_url" && !value.contains('@'))
            {
                value
            } else {
                "redacted".to_owned()
            };
            let quoted = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
            format!("{}: {}", quoted(&name), quoted(&shown))
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

fn redacted(parameters: &Parameters) -> String {
    let pairs: Vec<String> = parameters
        .redacted()
        .into_iter()
        .map(|(name, value)| {
            let quoted = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
            format!("{}: {}", quoted(&name), quoted(&value))
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}
