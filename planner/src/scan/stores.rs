//! One object store per (bucket, secret), registered in DataFusion's
//! runtime under a synthetic URL (`s3sql://store-N`). DataFusion's registry
//! is keyed by scheme and authority only, so keying it by the bucket could
//! not keep two secrets scoped to two prefixes of one bucket apart; here
//! each file's store is chosen from its own URL at planning time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::path::Path;
use s3sql_s3_client::{ObjectUrl, S3Client, S3ObjectStore};
use s3sql_secrets::{Secret, SecretAccess, SecretManager, SecretType};

use crate::error::{PlannerError, Result};
use crate::mindsdb::Database;
use crate::scan::ScanMonitor;
use crate::scan::scan_store::{ReadStats, ScanStore, Versions};
use crate::scan::small_objects::SmallObjectCache;
use crate::settings::Settings;

/// Which store serves a file: its scheme and bucket, and the secret
/// signing it (`None`: unsigned requests).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StoreKey {
    scheme: String,
    bucket: String,
    secret: Option<String>,
}

/// The session's numbering of stores, so a (bucket, secret) keeps its
/// synthetic URL across statements.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    ids: Mutex<HashMap<StoreKey, usize>>,
    /// The versions of each store's files the running statement listed,
    /// shared by every scan registering it (the registration last made
    /// serves them all); emptied when a statement starts.
    versions: Mutex<HashMap<StoreKey, Arc<Versions>>>,
    /// What the running statement's scans read, for a progress bar.
    monitor: ScanMonitor,
    /// The small objects each store's scans listed in the running
    /// statement, and those kept; emptied when a statement starts.
    small: Mutex<HashMap<StoreKey, Arc<SmallObjectCache>>>,
}

impl Stores {
    /// The running statement's scans, as they read.
    pub(crate) fn monitor(&self) -> &ScanMonitor {
        &self.monitor
    }

    /// A statement starts: its progress from zero, no version pinned and
    /// no object read by an earlier one served from memory (it may have
    /// changed since). Each store gets new pins and a new cache; a stream
    /// of an earlier statement still being read keeps its own, and the
    /// stores registered for it let them go when registered again.
    pub(crate) fn statement_starts(&self) {
        self.monitor.restart();
        self.small.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn small_for(&self, key: &StoreKey) -> Arc<SmallObjectCache> {
        let mut all = self.small.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(all.entry(key.clone()).or_default())
    }

    fn versions_for(&self, key: &StoreKey) -> Arc<Versions> {
        let mut all = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(all.entry(key.clone()).or_default())
    }

    fn url_for(&self, key: &StoreKey) -> Result<ObjectStoreUrl> {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let next = ids.len();
        let id = *ids.entry(key.clone()).or_insert(next);
        Ok(ObjectStoreUrl::parse(format!("s3sql://store-{id}"))?)
    }
}

/// A client for requests about `url` (a file or a pattern): the covering
/// secret's, or unsigned. Also says whether keys are taken literally.
/// DuckDB's settings fill in what the secret does not say.
pub(crate) async fn client_for(
    secrets: &SecretManager,
    settings: &Settings,
    url: &str,
) -> Result<(S3Client, bool)> {
    let resolved = secrets.resolve_with(url, &settings.defaults()).await?;
    client_from(resolved.access, settings)
}

/// A client signing with `secret` whatever URL it asks about (a
/// database's own credentials), DuckDB's settings filling in the rest.
pub(crate) async fn client_with_secret(
    secret: &Secret,
    settings: &Settings,
) -> Result<(S3Client, bool)> {
    client_from(secret.access_with(&settings.defaults()).await?, settings)
}

fn client_from(access: SecretAccess, settings: &Settings) -> Result<(S3Client, bool)> {
    let mut config = access.config;
    settings.apply(&mut config);
    let client = S3Client::new(config, access.credentials)?;
    Ok((client, access.url_compatibility_mode))
}

/// Chooses stores for the files of one scan, building each (bucket,
/// secret) store once and registering it in the runtime.
pub(crate) struct StorePicker<'a> {
    secrets: &'a SecretManager,
    settings: &'a Settings,
    runtime: &'a RuntimeEnv,
    stores: &'a Stores,
    chosen: HashMap<StoreKey, (ObjectStoreUrl, Arc<Versions>, Arc<SmallObjectCache>)>,
    stats: Vec<ReadStats>,
    small: SmallFiles,
}

/// The small files a scan listed, to be read whole once marked
/// ([`Self::mark`]): planning that reads many files' footers marks them
/// after, so the scan, not planning, reads each whole (a bounded cache
/// filled by planning was emptied again by the scan: every file read
/// whole twice).
#[derive(Default)]
pub(crate) struct SmallFiles(Vec<(Arc<SmallObjectCache>, Path, u64)>);

impl SmallFiles {
    /// From now on each is read whole at its first read.
    pub(crate) fn mark(self) {
        for (cache, location, size) in self.0 {
            cache.listed(&location, size);
        }
    }
}

impl<'a> StorePicker<'a> {
    pub(crate) fn new(
        secrets: &'a SecretManager,
        settings: &'a Settings,
        runtime: &'a RuntimeEnv,
        stores: &'a Stores,
    ) -> Self {
        Self {
            secrets,
            settings,
            runtime,
            stores,
            chosen: HashMap::new(),
            stats: Vec::new(),
            small: SmallFiles::default(),
        }
    }

    /// The counters of every store picked, for `EXPLAIN ANALYZE`, and the
    /// small files listed, not yet marked to be read whole.
    pub(crate) fn into_parts(self) -> (Vec<ReadStats>, SmallFiles) {
        (self.stats, self.small)
    }

    /// The store for the object at `url`, signed by the covering secret,
    /// or by `database`'s credentials when given, reading it at the
    /// version the listing saw (`etag`; an error if the statement listed
    /// another before), whole at once when the listing says it is small
    /// (`size`) and [`SmallFiles::mark`] was called.
    pub(crate) async fn pick(
        &mut self,
        url: &ObjectUrl,
        database: Option<&Database>,
        etag: Option<&str>,
        size: u64,
    ) -> Result<ObjectStoreUrl> {
        let text = url.to_string();
        let secret = match database {
            Some(db) => Some(db.signer_id()),
            None => self
                .secrets
                .which_secret(&text, SecretType::for_url(url))?
                .map(|m| m.name),
        };
        let key = StoreKey {
            scheme: url.scheme().to_owned(),
            bucket: url.bucket().to_owned(),
            secret,
        };
        let (store_url, versions, small) = match self.chosen.get(&key) {
            Some(chosen) => chosen.clone(),
            None => {
                let (client, _) = match database {
                    Some(db) => db.client(self.settings).await?,
                    None => client_for(self.secrets, self.settings, &text).await?,
                };
                let store_url = self.stores.url_for(&key)?;
                let versions = self.stores.versions_for(&key);
                let store = S3ObjectStore::new(client.clone(), url.bucket().to_owned());
                let root = format!("{}://{}", url.scheme(), url.bucket());
                // A small file costs one GET: footer and data together.
                let small = self.stores.small_for(&key);
                let (store, stats) = ScanStore::new(
                    store,
                    client,
                    Arc::clone(&versions),
                    Arc::clone(&small),
                    root,
                );
                self.runtime
                    .register_object_store(store_url.as_ref(), Arc::new(store));
                self.stats.push(stats);
                self.chosen.insert(
                    key,
                    (store_url.clone(), Arc::clone(&versions), Arc::clone(&small)),
                );
                (store_url, versions, small)
            }
        };
        let location = S3ObjectStore::path_of(url.key());
        if let Some(etag) = etag {
            versions
                .pin(&location, etag)
                .map_err(|listed| PlannerError::ChangedWhileListed {
                    url: text.clone(),
                    listed,
                    now: etag.to_owned(),
                })?;
        }
        self.small.0.push((small, location, size));
        Ok(store_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::small_objects::WholeObject;
    use bytes::Bytes;
    use object_store::{Attributes, ObjectMeta};

    /// A statement starts with no version pinned and no bytes kept
    /// (review-8b #10: pins were never dropped).
    #[test]
    fn a_statement_starts_with_no_pins_and_no_kept_bytes() {
        let stores = Stores::default();
        let key = StoreKey {
            scheme: "s3".into(),
            bucket: "b".into(),
            secret: None,
        };
        let location = Path::from("x.parquet");
        let versions = stores.versions_for(&key);
        let small = stores.small_for(&key);
        versions.pin(&location, "\"v1\"").unwrap();
        assert_eq!(versions.pin(&location, "\"v2\""), Err("\"v1\"".to_owned()));
        small.listed(&location, 3);
        let object = WholeObject {
            meta: ObjectMeta {
                location: location.clone(),
                last_modified: chrono::Utc::now(),
                size: 3,
                e_tag: None,
                version: None,
            },
            attributes: Attributes::default(),
            bytes: Bytes::from_static(b"abc"),
        };
        small.keep(&location, object);
        stores.statement_starts();
        let (versions_now, small_now) = (stores.versions_for(&key), stores.small_for(&key));
        assert_eq!(versions_now.get(&location), None);
        assert!(small_now.find(&location).is_none());
        assert!(!small_now.is_small(&location));
        versions_now.pin(&location, "\"v2\"").unwrap();
        // A stream of the earlier statement still reads what it listed.
        assert_eq!(versions.get(&location).as_deref(), Some("\"v1\""));
    }
}
