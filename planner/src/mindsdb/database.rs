//! [`Database`]: one `CREATE DATABASE ... WITH ENGINE = 's3'`, resolved to
//! the same client configuration a secret gives (its parameters become a
//! secret through `s3sql_secrets::MindsDbConnection`), and [`Databases`],
//! the session's registry of them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use s3sql_s3_client::S3Client;
use s3sql_secrets::{
    DatabaseDirectory, MindsDbConnection, ParamValue, Parameters, Secret, StoredDatabase,
};

use super::error::DatabaseError;
use crate::error::Result;
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
        let pairs: Vec<String> = self
            .written
            .redacted()
            .into_iter()
            .map(|(name, value)| {
                let quoted = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
                format!("{}: {}", quoted(&name), quoted(&value))
            })
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

/// Whether `name` is written as a string parameter.
pub(crate) fn has_string(parameters: &Parameters, name: &str) -> bool {
    matches!(parameters.get(name), Some(ParamValue::Str(s)) if !s.is_empty())
}

/// The session's databases by name, and where they are stored.
#[derive(Debug, Default)]
pub(crate) struct Databases {
    by_name: RwLock<BTreeMap<String, Arc<Database>>>,
    directory: Option<DatabaseDirectory>,
}

impl Databases {
    /// The databases stored in `directory` (none without one). A file
    /// that cannot be read is reported in the log and skipped, never
    /// overwritten.
    pub(crate) fn open(directory: Option<DatabaseDirectory>) -> Self {
        let mut by_name = BTreeMap::new();
        if let Some(directory) = &directory {
            for stored in directory.load().databases {
                match Database::new(&stored.name, stored.parameters, stored.region) {
                    Ok(database) => {
                        by_name.insert(database.name().to_owned(), Arc::new(database));
                    }
                    Err(e) => tracing::warn!("stored database '{}' is skipped: {e}", stored.name),
                }
            }
        }
        Self {
            by_name: RwLock::new(by_name),
            directory,
        }
    }

    /// The database called `name` (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Database>> {
        self.read().get(&name.to_ascii_lowercase()).cloned()
    }

    /// The database called `name`, or an error saying there is none.
    pub(crate) fn require(&self, name: &str) -> Result<Arc<Database>> {
        self.get(name).ok_or_else(|| {
            DatabaseError::NotFound {
                name: name.to_ascii_lowercase(),
            }
            .into()
        })
    }

    /// Every database, by name.
    pub(crate) fn list(&self) -> Vec<Arc<Database>> {
        self.read().values().cloned().collect()
    }

    /// Whether `name` is taken: a database of this session, or a stored
    /// one it did not load (stored by another process since, or unreadable).
    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.get(name).is_some() || self.stored_elsewhere(name)
    }

    fn stored_elsewhere(&self, name: &str) -> bool {
        self.directory.as_ref().is_some_and(|d| d.holds(name))
    }

    /// Adds and stores `database`; a taken name is an error (a stored file
    /// this session did not load is never replaced), and so is a failed
    /// write (the database is not added then).
    pub(crate) fn insert(&self, database: Database) -> Result<()> {
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        if map.contains_key(database.name()) {
            return Err(DatabaseError::Exists {
                name: database.name().to_owned(),
            }
            .into());
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
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        if let Some(directory) = &self.directory {
            directory.write(&database.stored())?;
        }
        map.insert(database.name().to_owned(), Arc::new(database));
        Ok(())
    }

    /// Removes `name` and its stored file; whether it was there. A file
    /// another process stored anew since this session loaded it is kept,
    /// and the DROP refused.
    pub(crate) fn remove(&self, name: &str) -> Result<bool> {
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        let Some(database) = map.get(name) else {
            return Ok(false);
        };
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
}
