//! [`Sink`]: where one file's bytes go. An S3 object goes through the
//! client's [`MultipartWriter`] (one PutObject when small, a multipart
//! upload otherwise); a local file is written beside its final name as
//! `tmp_<name>` and renamed when complete, as DuckDB does, its directories
//! fsynced after so the rename outlives a crash. Either way a
//! file appears whole or not at all: [`Sink::abort`] drops what was started.
//! A FIFO, a device or the process's standard output is written in place.

use std::path::{Path, PathBuf};
use std::time::Duration;

use s3sql_s3_client::{
    MultipartWriter, MultipartWriterBuilder, PutObjectRequest, S3Client, ShownKey, UploadBudget,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::unix::pipe;

use super::error::CopyError;
use super::monitor::CopyMonitor;
use super::open_uploads::{OpenUpload, OpenUploads};
use super::target::remove_empty_parents;
use crate::error::{PlannerError, Result};

/// One file being written.
#[derive(Debug)]
pub(crate) enum Sink {
    S3 {
        writer: MultipartWriter,
        /// The writer's client, bucket and key, to check after a failed
        /// completion that no upload stays open.
        client: S3Client,
        bucket: String,
        key: String,
        /// The file's entry among the statement's open uploads.
        open: OpenUpload,
    },
    Local {
        /// Open until [`Sink::upload_parts`] syncs and closes it.
        file: Option<tokio::fs::File>,
        temp: PathBuf,
        path: PathBuf,
        /// The COPY's directory: directories between it and the file that
        /// a failed file leaves empty are removed, so a retry finds none.
        root: PathBuf,
        /// Where the bytes written are added up (the progress's).
        stored: OpenUploads,
    },
    /// A target that is no regular file (a FIFO, a terminal, a socket) or
    /// is the process's own standard output or error: written in place,
    /// as DuckDB does, with no temporary file and no rename, which
    /// replaced it with a regular file (review-9d #12). What was written
    /// cannot be taken back.
    InPlace {
        file: InPlaceFile,
        path: PathBuf,
        stored: OpenUploads,
    },
}

/// What a [`Sink::InPlace`] writes to.
#[derive(Debug)]
pub(crate) enum InPlaceFile {
    /// A device, or the process's standard stream.
    File(tokio::fs::File),
    /// A FIFO, written without blocking a thread: a reader that stops
    /// reading leaves the COPY waiting where Ctrl-C reaches it.
    Fifo(pipe::Sender),
}

impl InPlaceFile {
    fn writer(&mut self) -> &mut (dyn AsyncWrite + Unpin + Send) {
        match self {
            InPlaceFile::File(file) => file,
            InPlaceFile::Fifo(fifo) => fifo,
        }
    }
}

/// How often the open of a FIFO nobody reads yet is tried again.
const READER_POLL: Duration = Duration::from_millis(50);

/// The process's standard output (1) or error (2) when `path` names it:
/// `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, and 2 alike.
pub(crate) fn standard_stream(path: &Path) -> Option<u8> {
    match path.to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(2),
        _ => None,
    }
}

/// Whether `path` is written in place ([`Sink::InPlace`]): the process's
/// standard output or error, or a file there that is neither a regular
/// file nor a directory (a FIFO, a device). A regular file anywhere, under
/// `/dev/shm` too, is replaced through a temporary file (review-s22 F7:
/// every path under /dev was appended to, and never made).
async fn in_place(path: &Path) -> bool {
    standard_stream(path).is_some()
        || tokio::fs::metadata(path)
            .await
            .is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The file `path` names written in place: the process's standard
/// stream through a duplicate of its descriptor, which shares its offset,
/// so what the shell prints after comes after the rows (opened again,
/// `/dev/stdout` sent to a file started at offset 0 and the shell's
/// output overwrote the first rows: review-s22 F21); a FIFO once a
/// program reads it ([`open_fifo`]); anything else opened for writing.
async fn open_in_place(path: &Path, monitor: &CopyMonitor) -> Result<InPlaceFile> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let duplicate = match standard_stream(path) {
        Some(1) => Some(std::io::stdout().as_fd().try_clone_to_owned()),
        Some(_) => Some(std::io::stderr().as_fd().try_clone_to_owned()),
        None => None,
    };
    let opened = match duplicate {
        Some(fd) => fd.map(|fd| tokio::fs::File::from_std(std::fs::File::from(fd))),
        None if tokio::fs::metadata(path)
            .await
            .is_ok_and(|m| m.file_type().is_fifo()) =>
        {
            return open_fifo(path, monitor).await.map(InPlaceFile::Fifo);
        }
        None => tokio::fs::OpenOptions::new().write(true).open(path).await,
    };
    opened
        .map(InPlaceFile::File)
        .map_err(|e| local_error(path, e).into())
}

/// The FIFO `path` opened for writing once a program reads it. A blocking
/// open waited for the reader on a thread nothing could stop: Ctrl-C, even
/// twice, left the process hanging until a reader came (review-s22 F10).
/// Opened without blocking, it fails (ENXIO) while nobody reads, so it is
/// tried again every [`READER_POLL`] until a reader comes or the
/// `monitor`'s interrupt, which fails the COPY naming the FIFO.
async fn open_fifo(path: &Path, monitor: &CopyMonitor) -> Result<pipe::Sender> {
    // ENXIO on Linux, macOS and the BSDs.
    const NO_READER: i32 = 6;
    let waiting = async {
        loop {
            match pipe::OpenOptions::new().open_sender(path) {
                Err(e) if e.raw_os_error() == Some(NO_READER) => {
                    tokio::time::sleep(READER_POLL).await;
                }
                opened => return Ok(opened),
            }
        }
    };
    match monitor.unless_interrupted(waiting).await {
        Ok(opened) => opened.map_err(|e| local_error(path, e).into()),
        Err(_) => Err(CopyError::InterruptedWaitingForReader {
            path: path.display().to_string(),
        }
        .into()),
    }
}

/// `source`, what the file system said about `path`, as a COPY error; too
/// many open files (EMFILE, ENFILE) names the setting that caps them and
/// the OS's limit.
fn local_error(path: &Path, source: std::io::Error) -> CopyError {
    if source.kind() == std::io::ErrorKind::BrokenPipe {
        return CopyError::ReaderClosed {
            path: path.display().to_string(),
        };
    }
    // EMFILE and ENFILE on Linux, macOS and the BSDs.
    const TOO_MANY_OPEN_FILES: [i32; 2] = [24, 23];
    if source
        .raw_os_error()
        .is_some_and(|code| TOO_MANY_OPEN_FILES.contains(&code))
    {
        return CopyError::TooManyOpenFiles {
            path: path.display().to_string(),
            limit: open_file_limit(),
            source,
        };
    }
    CopyError::Local {
        path: path.display().to_string(),
        source,
    }
}

/// The OS's limit on this process's open files, in words: its soft limit
/// from `/proc/self/limits` where there is one.
fn open_file_limit() -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_owned));
    match soft {
        Some(soft) => format!("the OS allows this process {soft} open files (ulimit -n)"),
        None => "the OS's limit on open files was reached (ulimit -n shows it)".to_owned(),
    }
}

impl Sink {
    /// An object `key` in `bucket`, uploaded with `client`'s sizing, its
    /// parts in flight drawing on the COPY's `budget`; one of many files
    /// open at once (`many`) keeps no spare part buffer, and one that
    /// `replaces` an object is a multipart upload however small, so that
    /// [`Sink::upload_parts`] leaves only its completion. So is every file
    /// under a KMS key (KMS_KEY_ID): a server ignoring SSE-KMS is then
    /// caught by CreateMultipartUpload's answer, before any byte is sent,
    /// where a PutObject would have stored its bytes unencrypted. Its upload is
    /// one of `uploads` until it ends.
    pub(crate) fn s3(
        client: &S3Client,
        bucket: &str,
        key: &str,
        content_type: &str,
        budget: &UploadBudget,
        uploads: &OpenUploads,
        (many, replaces): (bool, bool),
    ) -> Self {
        let put = PutObjectRequest {
            content_type: Some(content_type.to_owned()),
            ..PutObjectRequest::default()
        };
        Self::s3_writer(client, bucket, key, put, budget, uploads, |b| {
            b.keep_spare(!many)
                .always_multipart(replaces || client.config().sse_kms_key_id.is_some())
        })
    }

    /// An object `key` in `bucket` written with `put`'s options, e.g. its
    /// `If-Match`: the upload then replaces only that version of the object.
    pub(crate) fn s3_with(
        client: &S3Client,
        bucket: &str,
        key: &str,
        put: PutObjectRequest,
        budget: &UploadBudget,
        uploads: &OpenUploads,
    ) -> Self {
        Self::s3_writer(client, bucket, key, put, budget, uploads, |b| b)
    }

    /// An S3 sink whose writer has `put`, `budget` and what `options` sets.
    fn s3_writer(
        client: &S3Client,
        bucket: &str,
        key: &str,
        put: PutObjectRequest,
        budget: &UploadBudget,
        uploads: &OpenUploads,
        options: impl FnOnce(MultipartWriterBuilder) -> MultipartWriterBuilder,
    ) -> Self {
        let builder = MultipartWriter::builder(client, bucket, key)
            .put(put)
            .budget(budget.clone())
            .count_uploaded(uploads.stored_counter());
        Sink::S3 {
            writer: options(builder).build(),
            client: client.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            open: uploads.open(bucket, key),
        }
    }

    /// A local file at `path` under `root`, its directory created if
    /// missing; a FIFO is waited on until a program reads it, or the
    /// `monitor`'s interrupt.
    pub(crate) async fn local(path: PathBuf, root: PathBuf, monitor: &CopyMonitor) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if in_place(&path).await {
            let file = open_in_place(&path, monitor).await?;
            return Ok(Sink::InPlace {
                file,
                path,
                stored: monitor.uploads().clone(),
            });
        }
        let temp = path.with_file_name(format!("tmp_{name}"));
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| local_error(dir, e))?;
        }
        let file = match tokio::fs::File::create(&temp).await {
            Ok(file) => file,
            Err(e) => {
                remove_empty_parents(&root, &temp).await;
                return Err(local_error(&temp, e).into());
            }
        };
        Ok(Sink::Local {
            file: Some(file),
            temp,
            path,
            root,
            stored: monitor.uploads().clone(),
        })
    }

    /// Appends bytes.
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<()> {
        match self {
            Sink::S3 { writer, open, .. } => {
                let written = writer.write(data).await;
                open.started(writer.upload_id());
                written?;
            }
            Sink::Local {
                file: Some(file),
                temp,
                stored,
                ..
            } => {
                file.write_all(data)
                    .await
                    .map_err(|e| local_error(temp, e))?;
                stored.add_stored(data.len() as u64);
            }
            Sink::Local { temp, .. } => {
                let closed = std::io::Error::other("the file was already closed");
                return Err(local_error(temp, closed).into());
            }
            Sink::InPlace { file, path, stored } => {
                file.writer()
                    .write_all(data)
                    .await
                    .map_err(|e| local_error(path, e))?;
                stored.add_stored(data.len() as u64);
            }
        }
        Ok(())
    }

    /// The path written in place ([`Sink::InPlace`]), when it is one.
    pub(crate) fn in_place_path(&self) -> Option<&Path> {
        match self {
            Sink::InPlace { path, .. } => Some(path),
            Sink::S3 { .. } | Sink::Local { .. } => None,
        }
    }

    /// Bytes of the upload's part being filled (a local file holds none).
    pub(crate) fn filling(&self) -> usize {
        match self {
            Sink::S3 { writer, .. } => writer.filling(),
            Sink::Local { .. } | Sink::InPlace { .. } => 0,
        }
    }

    /// Sends the upload's part being filled now when S3 takes it (5 MiB
    /// or more); whether it did.
    pub(crate) async fn send_part(&mut self) -> Result<bool> {
        match self {
            Sink::S3 { writer, open, .. } => {
                let sent = writer.send_part().await;
                open.started(writer.upload_id());
                Ok(sent?)
            }
            Sink::Local { .. } | Sink::InPlace { .. } => Ok(false),
        }
    }

    /// Uploads the last part and waits for every part of the upload, or
    /// syncs and closes the local file: all that is left to
    /// [`Sink::finish`] is the completion, one request (or rename). May
    /// be stopped anywhere (Ctrl-C): [`Sink::abort`] then ends the
    /// upload, and no object is made.
    pub(crate) async fn upload_parts(&mut self) -> Result<()> {
        match self {
            Sink::S3 { writer, open, .. } => {
                let uploaded = writer.upload_parts().await;
                open.started(writer.upload_id());
                uploaded?;
            }
            Sink::Local { file, temp, .. } => {
                if let Some(mut open) = file.take() {
                    let synced = async {
                        open.flush().await?;
                        open.sync_all().await
                    }
                    .await;
                    synced.map_err(|e| local_error(temp, e))?;
                }
            }
            Sink::InPlace { file, path, .. } => file
                .writer()
                .flush()
                .await
                .map_err(|e| local_error(path, e))?,
        }
        Ok(())
    }

    /// Completes the file; the ETag the server answered the completion
    /// (or the one PutObject) with, when it gave one (a local file has
    /// none). On failure nothing is left behind, or the error comes with
    /// the upload that may stay open, described.
    pub(crate) async fn finish(
        self,
    ) -> std::result::Result<Option<String>, (PlannerError, Option<String>)> {
        let mut etag = None;
        match self {
            // The writer aborts its upload itself when completing fails;
            // when that abort failed too, its upload is aborted once more.
            Sink::S3 {
                mut writer,
                client,
                bucket,
                key,
                open,
            } => {
                let uploaded = writer.upload_parts().await;
                open.started(writer.upload_id());
                if let Err(e) = uploaded {
                    return Err((e.into(), left_open(&client, &bucket, &key, &writer).await));
                }
                let upload_id = writer.upload_id().map(str::to_owned);
                open.completing();
                match writer.finish().await {
                    Ok(written) => etag = written.etag,
                    Err(e) => {
                        let left = match upload_id {
                            Some(id) => abort_again(&client, &bucket, &key, &id).await,
                            None => None,
                        };
                        return Err((e.into(), left));
                    }
                }
            }
            Sink::Local {
                file,
                temp,
                path,
                root,
                ..
            } => {
                let done = async {
                    if let Some(mut file) = file {
                        file.flush().await?;
                        file.sync_all().await?;
                    }
                    tokio::fs::rename(&temp, &path).await
                }
                .await;
                if let Err(e) = done {
                    let _ = tokio::fs::remove_file(&temp).await;
                    remove_empty_parents(&root, &temp).await;
                    return Err((local_error(&path, e).into(), None));
                }
                sync_directories(&path, &root).await;
            }
            Sink::InPlace { mut file, path, .. } => {
                if let Err(e) = file.writer().flush().await {
                    return Err((local_error(&path, e).into(), None));
                }
            }
        }
        Ok(etag)
    }

    /// Drops the file: aborts the upload (awaited) or deletes the
    /// temporary file. A cleanup that failed is returned, described, for
    /// the COPY's error to name (it is logged too).
    pub(crate) async fn abort(self) -> Option<String> {
        match self {
            Sink::S3 { writer, open, .. } => {
                // A write dropped mid-way (Ctrl-C) may have started it.
                open.started(writer.upload_id());
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "could not abort the upload of a failed COPY");
                    return Some(e.to_string());
                }
            }
            Sink::Local {
                file, temp, root, ..
            } => {
                drop(file);
                if let Err(e) = tokio::fs::remove_file(&temp).await {
                    tracing::warn!(path = %temp.display(), error = %e, "could not remove the temporary file of a failed COPY");
                    return Some(format!("{}: {e}", temp.display()));
                }
                remove_empty_parents(&root, &temp).await;
            }
            Sink::InPlace { .. } => {}
        }
        None
    }
}

/// Makes the rename of the file at `path` durable, and the directories
/// made for it: fsyncs its directory and each one above it up to `root`'s
/// parent (a crash after the COPY answered no longer loses them). The
/// file is in place already, so a failure is logged, not returned. The
/// directories synced are returned.
async fn sync_directories(path: &Path, root: &Path) -> Vec<PathBuf> {
    let mut synced_dirs = Vec::new();
    let top = root.parent().unwrap_or(root);
    for dir in path.ancestors().skip(1) {
        // A relative path's last ancestor is "": the working directory.
        let (dir, last) = if dir.as_os_str().is_empty() {
            (Path::new("."), true)
        } else {
            (dir, dir == top || !dir.starts_with(top))
        };
        let synced = async { tokio::fs::File::open(dir).await?.sync_all().await }.await;
        if let Err(e) = synced {
            tracing::warn!(path = %dir.display(), error = %e, "could not fsync a directory of a COPY");
        } else {
            synced_dirs.push(dir.to_path_buf());
        }
        if last {
            break;
        }
    }
    synced_dirs
}

/// After `writer` failed before its completion: its upload, aborted once
/// more when the writer's own abort failed; described when it stays.
async fn left_open(
    client: &S3Client,
    bucket: &str,
    key: &str,
    writer: &MultipartWriter,
) -> Option<String> {
    let id = writer.upload_id()?;
    abort_again(client, bucket, key, id).await
}

/// After a failed completion: aborts this file's own upload `upload_id`
/// once more (the writer's abort failed, or it was never sent), and only
/// that one: another writer's upload of the same key (a second COPY or
/// INSERT of it) is none of ours. Aborting an upload already gone
/// succeeds. The upload when it stays, described. (A
/// CreateMultipartUpload whose answer was lost is the one case where an
/// upload id is not known; the client looks for that upload itself, by
/// its key and its start time.)
async fn abort_again(
    client: &S3Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Option<String> {
    let aborted = client.abort_multipart_upload(bucket, key, upload_id).await;
    let e = aborted.err()?;
    tracing::warn!(%bucket, key = %ShownKey(key), error = %e, "could not abort the upload of a COPY file that failed to complete");
    Some(format!(
        "s3://{bucket}/{} (upload id {upload_id}: {e})",
        ShownKey(key)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// EMFILE names partitioned_write_max_open_files and the OS's limit
    /// (review-9c #8: it was `cannot write ...: Too many open files (os
    /// error 24)`).
    #[test]
    fn too_many_open_files_names_the_setting_and_the_os_limit() {
        let path = Path::new("out/k=1/tmp_data_0.csv");
        let e = local_error(path, std::io::Error::from_raw_os_error(24)).to_string();
        assert!(
            e.contains("SET partitioned_write_max_open_files") && e.contains("ulimit -n"),
            "{e}"
        );
        assert!(e.contains("out/k=1/tmp_data_0.csv"), "{e}");
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
            let line = limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .unwrap();
            let soft = line.split_whitespace().nth(3).unwrap();
            assert!(e.contains(&format!("{soft} open files")), "{e}");
        }
        let other = local_error(path, std::io::Error::from_raw_os_error(13)).to_string();
        assert!(
            !other.contains("partitioned_write_max_open_files"),
            "{other}"
        );
    }

    /// A partition's file: its directory, the COPY's and the one above
    /// (where the COPY's was made) are synced; a relative file's, the
    /// working directory.
    #[tokio::test]
    async fn a_renamed_file_has_its_directories_synced_up_to_the_copys_parent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let path = root.join("k=1/data_0.csv");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "x").unwrap();
        assert_eq!(
            sync_directories(&path, &root).await,
            [root.join("k=1"), root.clone(), dir.path().to_path_buf()]
        );
        assert_eq!(
            sync_directories(Path::new("x.csv"), Path::new("")).await,
            [PathBuf::from(".")]
        );
    }
}
