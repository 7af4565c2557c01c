//! [`Target`]: where a COPY writes, an S3 prefix or a local path, and the
//! layout of a partitioned COPY under it (`root/k1=v1/k2=v2/data_0.ext`,
//! keys and values URL-encoded as DuckDB's `HivePartitioning::Escape`,
//! NULL as `__HIVE_DEFAULT_PARTITION__`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use s3sql_s3_client::{ListObjectsV2Request, MultipartWriter, ObjectUrl, S3Client, UploadBudget};
use s3sql_secrets::SecretManager;

use super::error::CopyError;
use super::monitor::CopyMonitor;
use super::options::{CopyFormat, Existing};
use super::sink::Sink;
use crate::error::Result;
use crate::scan::stores::client_for;
use crate::settings::Settings;

/// The directory name DuckDB (and Hive) give a NULL partition value.
pub(crate) const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Local files finished (flushed, fsynced and renamed) at once.
const LOCAL_FINISHING: usize = 16;

/// A COPY's destination.
#[derive(Debug)]
pub(crate) enum Target {
    /// An object, or the prefix of a partitioned COPY; the client is the
    /// one the covering secret gives, the budget the bytes of parts every
    /// file of the COPY has uploading at once, together.
    S3 {
        url: ObjectUrl,
        client: S3Client,
        budget: UploadBudget,
    },
    /// A local file, or the directory of a partitioned COPY.
    Local { path: PathBuf },
}

impl Target {
    /// Resolves `url`: an S3 URL gets the client of the secret covering it.
    pub(crate) async fn resolve(
        url: &str,
        secrets: &SecretManager,
        settings: &Settings,
    ) -> Result<Self> {
        if crate::scan::local::is_local(url) {
            let path = url.strip_prefix("file://").unwrap_or(url);
            // `~` is the home directory, as the scans and DuckDB read it.
            let path = crate::scan::local::expand_home(path, std::env::home_dir().as_deref());
            return Ok(Target::Local {
                path: PathBuf::from(path.as_ref()),
            });
        }
        let parsed = ObjectUrl::parse(url)?;
        if parsed.key().trim_end_matches('/').is_empty() {
            return Err(CopyError::NoKey {
                url: url.to_owned(),
            }
            .into());
        }
        let (client, _) = client_for(secrets, settings, url).await?;
        Ok(Target::S3 {
            url: parsed,
            budget: upload_budget(&client),
            client,
        })
    }

    /// Opens the target itself as one file; an upload is one of the
    /// `monitor`'s uploads until it ends, and the wait for a FIFO's reader
    /// stops at its interrupt.
    pub(crate) async fn open_file(
        &self,
        format: CopyFormat,
        monitor: &CopyMonitor,
    ) -> Result<Sink> {
        match self {
            Target::S3 {
                url,
                client,
                budget,
            } => Ok(Sink::s3(
                client,
                url.bucket(),
                url.key(),
                content_type(format),
                budget,
                monitor.uploads(),
                (false, false),
            )),
            Target::Local { path } => {
                let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Sink::local(path.clone(), root, monitor).await
            }
        }
    }

    /// Opens `relative` (a `k=v/.../data_0.ext` path) under the target;
    /// one that `replaces` a file there is completed only when asked,
    /// however small (see [`Sink::s3`]); as [`Target::open_file`] for the
    /// `monitor`.
    pub(crate) async fn open_under(
        &self,
        relative: &str,
        format: CopyFormat,
        replaces: bool,
        monitor: &CopyMonitor,
    ) -> Result<Sink> {
        match self {
            Target::S3 {
                url,
                client,
                budget,
            } => {
                let key = format!("{}/{relative}", url.key().trim_end_matches('/'));
                Ok(Sink::s3(
                    client,
                    url.bucket(),
                    &key,
                    content_type(format),
                    budget,
                    monitor.uploads(),
                    (true, replaces),
                ))
            }
            Target::Local { path } => Sink::local(path.join(relative), path.clone(), monitor).await,
        }
    }

    /// How many files of a partitioned COPY finish at once: on S3 as many
    /// as `s3_uploader_thread_limit` (each completion one request, their
    /// last parts drawing on the COPY's budget), locally
    /// [`LOCAL_FINISHING`].
    pub(crate) fn finish_concurrency(&self) -> usize {
        match self {
            Target::S3 { client, .. } => client.config().upload.max_in_flight.max(1),
            Target::Local { .. } => LOCAL_FINISHING,
        }
    }

    /// Whether the target is the process's standard output
    /// (`/dev/stdout`), where the rows go to the shell's own output.
    pub(crate) fn is_standard_output(&self) -> bool {
        matches!(self, Target::Local { path } if super::sink::standard_stream(path) == Some(1))
    }

    /// The topmost directory a local COPY is about to create: the first
    /// ancestor of its own directory (the target for a `directory` of
    /// files, else its parent), itself included, that does not exist yet.
    /// None on S3 and when it exists.
    pub(crate) fn missing_directory(&self, directory: bool) -> Option<PathBuf> {
        let Target::Local { path } = self else {
            return None;
        };
        let own = if directory {
            Some(path.as_path())
        } else {
            path.parent()
        };
        own?.ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .last()
            .map(Path::to_path_buf)
    }

    /// After a failed local COPY: removes the directories it created
    /// ([`Target::missing_directory`] before it ran, `made`, and those
    /// below it on the way to its own directory) that it left empty.
    /// A directory holding anything (a file complete before the failure)
    /// stays, and so do those above it.
    pub(crate) async fn remove_made_directories(&self, directory: bool, made: &Path) {
        let Target::Local { path } = self else {
            return;
        };
        let own = if directory {
            Some(path.as_path())
        } else {
            path.parent()
        };
        let Some(own) = own else {
            return;
        };
        for dir in own.ancestors() {
            if !dir.starts_with(made) || tokio::fs::remove_dir(dir).await.is_err() {
                break;
            }
        }
    }

    /// The URL (or path) of `relative` under the target, for messages.
    pub(crate) fn url_of(&self, relative: &str) -> String {
        match self {
            Target::S3 { url, .. } => format!(
                "{}://{}/{}/{relative}",
                url.scheme(),
                url.bucket(),
                url.key().trim_end_matches('/')
            ),
            Target::Local { path } => path.join(relative).display().to_string(),
        }
    }

    /// Applies `existing` before a partitioned COPY: an error when the
    /// target holds anything (one listing of at most one key), nothing, or
    /// (OVERWRITE) the list of what is there, relative to the target, for
    /// [`Target::remove_stale`] once the COPY succeeded. Nothing is deleted
    /// here: a COPY that reads its own target, or fails, loses nothing.
    pub(crate) async fn prepare_directory(&self, existing: Existing) -> Result<Vec<String>> {
        match (self, existing) {
            (_, Existing::Ignore | Existing::Append) => Ok(Vec::new()),
            (Target::S3 { url, client, .. }, Existing::Error) => {
                let request = ListObjectsV2Request {
                    prefix: Some(directory_prefix(url)),
                    max_keys: Some(1),
                    ..ListObjectsV2Request::default()
                };
                let page = client
                    .list_objects_v2_page(url.bucket(), &request, None)
                    .await?;
                if page.objects.is_empty() && page.common_prefixes.is_empty() {
                    Ok(Vec::new())
                } else {
                    Err(CopyError::NotEmpty {
                        url: url.to_string(),
                    }
                    .into())
                }
            }
            (Target::S3 { url, client, .. }, Existing::Delete) => {
                let prefix = directory_prefix(url);
                let request = ListObjectsV2Request {
                    prefix: Some(prefix.clone()),
                    ..ListObjectsV2Request::default()
                };
                let mut pages = client.list_objects_v2(url.bucket(), request);
                let mut old = Vec::new();
                while let Some(page) = pages.try_next().await? {
                    old.extend(
                        page.objects
                            .into_iter()
                            .filter_map(|o| o.key.strip_prefix(prefix.as_str()).map(str::to_owned)),
                    );
                }
                Ok(old)
            }
            (Target::Local { path }, Existing::Error) => {
                let not_empty = match std::fs::read_dir(path) {
                    Ok(mut entries) => entries.next().is_some(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                    // A file of that name: not a directory one can write into.
                    Err(_) => path.exists(),
                };
                if not_empty {
                    return Err(CopyError::NotEmpty {
                        url: path.display().to_string(),
                    }
                    .into());
                }
                Ok(Vec::new())
            }
            (Target::Local { path }, Existing::Delete) => {
                let cwd = std::env::current_dir().and_then(|d| d.canonicalize());
                if let (Ok(target), Ok(cwd)) = (path.canonicalize(), cwd)
                    && let Some(reason) = unsafe_to_overwrite(&target, &cwd)
                {
                    return Err(CopyError::UnsafeOverwrite {
                        path: path.display().to_string(),
                        reason,
                    }
                    .into());
                }
                let mut old = Vec::new();
                local_files(path, "", &mut old).map_err(|e| CopyError::Local {
                    path: path.display().to_string(),
                    source: e,
                })?;
                Ok(old)
            }
        }
    }

    /// Deletes the files of `old` not in `written` (OVERWRITE's last step,
    /// once every new file is complete; or a failed OVERWRITE's new files),
    /// and on a local target the directories that leaves empty.
    pub(crate) async fn remove_stale(
        &self,
        old: Vec<String>,
        written: &HashSet<String>,
    ) -> Result<()> {
        let stale: Vec<String> = old.into_iter().filter(|f| !written.contains(f)).collect();
        if stale.is_empty() {
            return Ok(());
        }
        match self {
            Target::S3 { url, client, .. } => {
                let prefix = directory_prefix(url);
                let keys: Vec<String> = stale.iter().map(|f| format!("{prefix}{f}")).collect();
                let failed = client.delete_objects(url.bucket(), &keys).await?;
                if let Some(first) = failed.first() {
                    return Err(CopyError::NotDeleted {
                        url: url.with_key(&first.key).shown().to_string(),
                        failed: failed.len(),
                        message: first.message.clone(),
                    }
                    .into());
                }
            }
            Target::Local { path } => {
                for file in &stale {
                    let full = path.join(file);
                    match tokio::fs::remove_file(&full).await {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(CopyError::Local {
                                path: full.display().to_string(),
                                source: e,
                            }
                            .into());
                        }
                        _ => {}
                    }
                    remove_empty_parents(path, &full).await;
                }
            }
        }
        Ok(())
    }
}

/// One COPY's budget for parts uploading, over all its files: as many
/// parts as `s3_uploader_thread_limit` lets one file upload, within the
/// writer's default in-flight bytes (256 MiB, three of DuckDB's 80 MB
/// parts) and at least one part. A COPY of 200 partitions has no more in
/// flight than a COPY of one file.
pub(crate) fn upload_budget(client: &S3Client) -> UploadBudget {
    let upload = &client.config().upload;
    let part = upload.part_size();
    let threads = u64::try_from(upload.max_in_flight.max(1)).unwrap_or(u64::MAX);
    UploadBudget::new(
        part.saturating_mul(threads)
            .min(MultipartWriter::DEFAULT_IN_FLIGHT_BYTES)
            .max(part),
    )
}

/// Why OVERWRITE must not write into `target` (both canonical): it would
/// delete the current directory's files, or everything.
fn unsafe_to_overwrite(target: &Path, cwd: &Path) -> Option<&'static str> {
    if target.parent().is_none() {
        Some("the filesystem root")
    } else if cwd == target {
        Some("the current directory")
    } else if cwd.starts_with(target) {
        Some("an ancestor of the current directory")
    } else {
        None
    }
}

/// Every file under `dir` (recursively), as `/`-joined paths after `relative`.
fn local_files(dir: &Path, relative: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        if entry.file_type()?.is_dir() {
            local_files(&entry.path(), &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Removes the directories between `file` and `root` that are now empty
/// (a stale partition's), never `root` itself.
pub(crate) async fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || tokio::fs::remove_dir(d).await.is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// `key/`: what a partitioned COPY writes under.
fn directory_prefix(url: &ObjectUrl) -> String {
    format!("{}/", url.key().trim_end_matches('/'))
}

/// The Content-Type of a file COPY writes in `format`.
pub(crate) fn content_type(format: CopyFormat) -> &'static str {
    match format {
        CopyFormat::Parquet => "application/vnd.apache.parquet",
        CopyFormat::Csv => "text/csv",
        CopyFormat::Json => "application/x-ndjson",
    }
}

/// One `key=value` directory name, encoded as DuckDB encodes it: every
/// byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (upper-case hex), `/` included;
/// `None` (NULL) as [`NULL_PARTITION`].
pub(crate) fn partition_segment(column: &str, value: Option<&str>) -> String {
    let value = match value {
        Some(v) => url_encode(v),
        None => NULL_PARTITION.to_owned(),
    };
    format!("{}={value}", url_encode(column))
}

fn url_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `~` in a local target is the home directory, as in the scans and
    /// DuckDB: COPY TO '~/out.csv' wrote `./~/out.csv`, which
    /// `SELECT * FROM '~/out.csv'` did not find (review-9d #9).
    #[tokio::test]
    async fn a_local_target_under_tilde_is_in_the_home_directory() {
        let Some(home) = std::env::home_dir() else {
            return;
        };
        let secrets = SecretManager::new(None);
        let settings = Settings::default();
        for (written, expected) in [
            ("~/out.csv", home.join("out.csv")),
            ("file://~/d/x.csv", home.join("d/x.csv")),
            ("~user/x.csv", PathBuf::from("~user/x.csv")),
        ] {
            let target = Target::resolve(written, &secrets, &settings).await;
            let Ok(Target::Local { path }) = target else {
                panic!("{written}: not a local target");
            };
            assert_eq!(path, expected, "{written}");
        }
    }

    #[test]
    fn partition_names_are_encoded_as_duckdb_does() {
        assert_eq!(partition_segment("year", Some("2024")), "year=2024");
        assert_eq!(
            partition_segment("city", Some("New York/NY")),
            "city=New%20York%2FNY"
        );
        assert_eq!(partition_segment("k", Some("a=b")), "k=a%3Db");
        assert_eq!(partition_segment("k", Some("🦆")), "k=%F0%9F%A6%86");
        assert_eq!(partition_segment("k", Some("a-b_c.d~")), "k=a-b_c.d~");
        assert_eq!(partition_segment("k", None), "k=__HIVE_DEFAULT_PARTITION__");
        assert_eq!(partition_segment("my col", Some("")), "my%20col=");
    }

    #[test]
    fn overwrite_refuses_the_root_the_cwd_and_its_ancestors() {
        let cwd = Path::new("/home/me/work");
        assert_eq!(
            unsafe_to_overwrite(Path::new("/"), cwd),
            Some("the filesystem root")
        );
        assert_eq!(unsafe_to_overwrite(cwd, cwd), Some("the current directory"));
        assert_eq!(
            unsafe_to_overwrite(Path::new("/home"), cwd),
            Some("an ancestor of the current directory")
        );
        assert_eq!(
            unsafe_to_overwrite(Path::new("/home/me/work/out"), cwd),
            None
        );
        assert_eq!(
            unsafe_to_overwrite(Path::new("/home/me/workshop"), cwd),
            None
        );
    }
}
