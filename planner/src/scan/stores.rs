//! One object store per (bucket, secret) and statement, registered in
//! DataFusion's runtime under a synthetic URL (`s3sql://store-S-N`).
//! DataFusion's registry is keyed by scheme and authority only, so keying
//! it by the bucket could not keep two secrets scoped to two prefixes of
//! one bucket apart; here each file's store is chosen from its own URL at
//! planning time.
//!
//! What a statement's reads hold — the versions it listed, the small
//! objects it keeps, the stores serving them — is one [`StatementReads`],
//! owned by the statement: made when it starts, held by its rows' stream,
//! and gone with it (its stores taken out of the runtime), so nothing one
//! statement read stays in memory for the next.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
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

/// The session's side of reading: which statement reads now, and its
/// progress.
#[derive(Debug, Default)]
pub(crate) struct Stores {
    /// Numbers statements, so each registers its stores under URLs of its
    /// own (a stream of an earlier one still being read keeps its stores).
    statements: AtomicU64,
    /// The running statement's reads, which the statement itself holds.
    running: Mutex<Weak<StatementReads>>,
    /// Reads of scans planned outside a statement of the session (through
    /// `Session::context()`), kept until the next statement starts.
    detached: Mutex<Option<Arc<StatementReads>>>,
    /// What the running statement's scans read, for a progress bar.
    monitor: ScanMonitor,
}

impl Stores {
    /// The running statement's scans, as they read.
    pub(crate) fn monitor(&self) -> &ScanMonitor {
        &self.monitor
    }

    /// A statement starts, in `runtime`: its progress from zero, and its
    /// reads, which it holds until its last row is read
    /// ([`StatementReads::hold`]): no version pinned, no object served
    /// from memory that an earlier statement read (it may have changed
    /// since).
    pub(crate) fn statement_starts(&self, runtime: &Arc<RuntimeEnv>) -> Arc<StatementReads> {
        self.monitor.restart();
        let reads = self.new_reads(runtime);
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Arc::downgrade(&reads);
        self.detached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        reads
    }

    fn new_reads(&self, runtime: &Arc<RuntimeEnv>) -> Arc<StatementReads> {
        Arc::new(StatementReads {
            runtime: Arc::clone(runtime),
            statement: self.statements.fetch_add(1, Ordering::Relaxed),
            stores: Mutex::default(),
        })
    }

    /// The running statement's reads; outside one, reads kept until the
    /// next statement starts.
    fn running(&self, runtime: &Arc<RuntimeEnv>) -> Arc<StatementReads> {
        if let Some(reads) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .upgrade()
        {
            return reads;
        }
        let mut detached = self.detached.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(detached.get_or_insert_with(|| self.new_reads(runtime)))
    }
}

/// What one statement's scans read with: for each (bucket, secret) the
/// versions of its files listed, the small objects kept, and the URL its
/// store is registered under. Dropped with the statement's stream, it
/// takes those stores out of the runtime: their pins and kept bytes go.
#[derive(Debug)]
pub(crate) struct StatementReads {
    runtime: Arc<RuntimeEnv>,
    statement: u64,
    stores: Mutex<HashMap<StoreKey, StatementStore>>,
}

/// One (bucket, secret)'s part of a statement's reads.
#[derive(Debug, Clone)]
struct StatementStore {
    url: ObjectStoreUrl,
    versions: Arc<Versions>,
    small: Arc<SmallObjectCache>,
}

impl StatementReads {
    /// `rows`, holding these reads until the stream is dropped.
    pub(crate) fn hold(
        self: Arc<Self>,
        rows: SendableRecordBatchStream,
    ) -> SendableRecordBatchStream {
        let schema = rows.schema();
        let rows = rows.map(move |batch| {
            let _held = &self;
            batch
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, rows))
    }

    /// The statement's store for `key`, made on first use.
    fn store(&self, key: &StoreKey) -> Result<StatementStore> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = stores.get(key) {
            return Ok(store.clone());
        }
        let url = format!("s3sql://store-{}-{}", self.statement, stores.len());
        let store = StatementStore {
            url: ObjectStoreUrl::parse(url)?,
            versions: Arc::default(),
            small: Arc::default(),
        };
        stores.insert(key.clone(), store.clone());
        Ok(store)
    }
}

impl Drop for StatementReads {
    fn drop(&mut self) {
        let stores = self.stores.get_mut().unwrap_or_else(|p| p.into_inner());
        for store in stores.values() {
            // Absent only if never registered (planning failed first).
            let _ = self.runtime.deregister_object_store(store.url.as_ref());
        }
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

/// Chooses stores for the files of one scan from the running statement's,
/// registering each (bucket, secret) store in the runtime once.
pub(crate) struct StorePicker<'a> {
    secrets: &'a SecretManager,
    settings: &'a Settings,
    reads: Arc<StatementReads>,
    chosen: HashMap<StoreKey, StatementStore>,
    stats: Vec<ReadStats>,
    small: SmallFiles,
}

/// The small files a scan listed, to be read whole once marked
/// ([`Self::mark`]). Planning that reads every file for its schema keeps
/// what it reads for the scan ([`Self::keep_for_statement`]): a bounded
/// cache filled by planning was emptied again by the scan, every file
/// read whole twice.
#[derive(Default)]
pub(crate) struct SmallFiles(Vec<(Arc<SmallObjectCache>, Path, u64)>);

impl SmallFiles {
    /// From now on each is read whole at its first read.
    pub(crate) fn mark(self) {
        for (cache, location, size) in self.0 {
            cache.listed(&location, size);
        }
    }

    /// While planning reads each file for its schema, each is read whole
    /// and kept for the scan until the statement ends, room allowing; the
    /// others are read as planning asks ([`Self::mark`] after).
    pub(crate) fn keep_for_statement(&self) {
        for (cache, location, size) in &self.0 {
            cache.listed_for_statement(location, *size);
        }
    }
}

impl<'a> StorePicker<'a> {
    /// A picker for a scan planned in `runtime` by the running statement.
    pub(crate) fn new(
        secrets: &'a SecretManager,
        settings: &'a Settings,
        runtime: &Arc<RuntimeEnv>,
        stores: &Stores,
    ) -> Self {
        Self {
            secrets,
            settings,
            reads: stores.running(runtime),
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
        let chosen = match self.chosen.get(&key) {
            Some(chosen) => chosen.clone(),
            None => {
                let (client, _) = match database {
                    Some(db) => db.client(self.settings).await?,
                    None => client_for(self.secrets, self.settings, &text).await?,
                };
                let chosen = self.reads.store(&key)?;
                let store = S3ObjectStore::new(client.clone(), url.bucket().to_owned());
                let root = format!("{}://{}", url.scheme(), url.bucket());
                // A small file costs one GET: footer and data together.
                let (store, stats) = ScanStore::new(
                    store,
                    client,
                    Arc::clone(&chosen.versions),
                    Arc::clone(&chosen.small),
                    root,
                );
                // The statement's registration last made serves every scan
                // of it: they share its pins and kept bytes.
                self.reads
                    .runtime
                    .register_object_store(chosen.url.as_ref(), Arc::new(store));
                self.stats.push(stats);
                self.chosen.insert(key, chosen.clone());
                chosen
            }
        };
        let location = S3ObjectStore::path_of(url.key());
        chosen
            .versions
            .pin(&location, etag, size)
            .map_err(|listed| PlannerError::ChangedWhileListed {
                url: text.clone(),
                listed,
                now: etag.unwrap_or_default().to_owned(),
            })?;
        self.small.0.push((chosen.small, location, size));
        Ok(chosen.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::small_objects::{Keep, WholeObject};
    use bytes::Bytes;
    use object_store::{Attributes, ObjectMeta};

    fn key() -> StoreKey {
        StoreKey {
            scheme: "s3".into(),
            bucket: "b".into(),
            secret: None,
        }
    }

    fn three_bytes(location: &Path) -> WholeObject {
        WholeObject {
            meta: ObjectMeta {
                location: location.clone(),
                last_modified: chrono::Utc::now(),
                size: 3,
                e_tag: None,
                version: None,
            },
            attributes: Attributes::default(),
            bytes: Bytes::from_static(b"abc"),
        }
    }

    /// A statement starts with no version pinned and no bytes kept
    /// (review-8b #10: pins were never dropped), under store URLs of its
    /// own: a stream of the earlier one still reads what it listed.
    #[test]
    fn a_statement_starts_with_no_pins_and_no_kept_bytes() {
        let runtime = Arc::new(RuntimeEnv::default());
        let stores = Stores::default();
        let location = Path::from("x.parquet");
        let first = stores.statement_starts(&runtime);
        let earlier = first.store(&key()).unwrap();
        earlier.versions.pin(&location, Some("\"v1\""), 3).unwrap();
        assert_eq!(
            earlier.versions.pin(&location, Some("\"v2\""), 3),
            Err("\"v1\"".to_owned())
        );
        earlier.small.listed(&location, 3);
        earlier
            .small
            .keep(&location, three_bytes(&location), Keep::ForScan);
        let second = stores.statement_starts(&runtime);
        let now = second.store(&key()).unwrap();
        assert_ne!(now.url, earlier.url);
        assert_eq!(now.versions.get(&location), None);
        assert!(now.small.find(&location).is_none());
        assert!(!now.small.is_small(&location));
        now.versions.pin(&location, Some("\"v2\""), 3).unwrap();
        assert_eq!(
            earlier
                .versions
                .get(&location)
                .and_then(|v| v.etag)
                .as_deref(),
            Some("\"v1\"")
        );
    }

    /// What a statement kept goes when it ends: the store it registered in
    /// the runtime does not hold it for a later one (review-8b #10: up to
    /// 4 MiB per bucket and secret stayed until registered again).
    #[tokio::test]
    async fn what_a_statement_kept_goes_when_it_ends() {
        let runtime = Arc::new(RuntimeEnv::default());
        let (secrets, settings) = (SecretManager::new(None), Settings::default());
        let stores = Stores::default();
        let reads = stores.statement_starts(&runtime);
        let url = ObjectUrl::parse("s3://b/x.parquet").unwrap();
        let location = Path::from("x.parquet");
        let mut picker = StorePicker::new(&secrets, &settings, &runtime, &stores);
        let store_url = picker.pick(&url, None, Some("\"v1\""), 3).await.unwrap();
        let small = reads.store(&key()).unwrap().small;
        small.keep(&location, three_bytes(&location), Keep::ForScan);
        let kept = Arc::downgrade(&small);
        drop((small, picker));
        assert!(runtime.object_store(&store_url).is_ok());
        drop(reads);
        assert!(
            kept.upgrade().is_none(),
            "the bytes outlived their statement"
        );
        assert!(runtime.object_store(&store_url).is_err());
        // A scan planned outside a statement keeps its store until the
        // next statement starts.
        let mut picker = StorePicker::new(&secrets, &settings, &runtime, &stores);
        let outside = picker.pick(&url, None, Some("\"v2\""), 3).await.unwrap();
        drop(picker);
        assert!(runtime.object_store(&outside).is_ok());
        drop(stores.statement_starts(&runtime));
        assert!(runtime.object_store(&outside).is_err());
    }
}
