//! [`OpenUploads`]: the multipart uploads a running COPY or INSERT has
//! open, by bucket, key and upload id. A second Ctrl-C stops without
//! waiting for their aborts, so the message it prints
//! ([`super::CopyMonitor::interrupted_twice`]) names each one that may
//! stay open, for the user to abort. It also adds up the bytes the
//! statement's files stored, for the progress line.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use s3sql_s3_client::ShownKey;

/// The uploads of the running statement's S3 files; cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenUploads {
    registry: Arc<Mutex<Registry>>,
    /// Bytes stored so far: parts and PutObjects S3 acknowledged (each
    /// upload's writer adds them), writes to local files.
    stored: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    files: BTreeMap<u64, Upload>,
}

/// One S3 file being written.
#[derive(Debug)]
struct Upload {
    bucket: String,
    key: String,
    /// Known once its CreateMultipartUpload answered; a small file written
    /// by one PutObject never has one.
    id: Option<String>,
    /// Its CompleteMultipartUpload (or PutObject) was sent.
    completing: bool,
}

/// A file's entry in [`OpenUploads`], removed when dropped.
#[derive(Debug)]
pub(crate) struct OpenUpload {
    uploads: OpenUploads,
    n: u64,
}

impl OpenUploads {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // Nothing panics holding the lock; a poisoned one still holds data.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The counter of bytes stored, for an upload's writer to add to
    /// ([`s3sql_s3_client::MultipartWriterBuilder::count_uploaded`]).
    pub(crate) fn stored_counter(&self) -> Arc<AtomicU64> {
        self.stored.clone()
    }

    /// Bytes stored so far.
    pub(crate) fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Adds `bytes` written to a local file.
    pub(crate) fn add_stored(&self, bytes: u64) {
        self.stored.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Starts the count of bytes stored again, for a new statement.
    pub(crate) fn reset_stored(&self) {
        self.stored.store(0, Ordering::Relaxed);
    }

    /// Notes a file `key` of `bucket` being written.
    pub(crate) fn open(&self, bucket: &str, key: &str) -> OpenUpload {
        let mut registry = self.registry();
        let n = registry.next;
        registry.next += 1;
        registry.files.insert(
            n,
            Upload {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                id: None,
                completing: false,
            },
        );
        OpenUpload {
            uploads: self.clone(),
            n,
        }
    }

    /// Whether a file's completion (CompleteMultipartUpload or PutObject)
    /// was sent: its object may exist now.
    pub(crate) fn completing(&self) -> bool {
        self.registry().files.values().any(|u| u.completing)
    }

    /// What the files being written leave behind when nobody waits for
    /// their aborts: each upload that may stay open, named by its URL and
    /// upload id, and how to abort it; `None` when no file had started
    /// one (nothing stays open).
    pub(crate) fn left_behind(&self) -> Option<String> {
        let registry = self.registry();
        let mut said = Vec::new();
        let mut ids = Vec::new();
        let mut unknown = 0;
        for upload in registry.files.values() {
            let url = format!("s3://{}/{}", upload.bucket, ShownKey(&upload.key));
            match (&upload.id, upload.completing) {
                (Some(id), false) => {
                    said.push(format!("upload {id} of {url} may stay open"));
                    ids.push((upload, id));
                }
                (Some(id), true) => {
                    said.push(format!("upload {id} of {url} was being completed: the object may be complete, or the upload stay open"));
                    ids.push((upload, id));
                }
                (None, true) => said.push(format!(
                    "{url} was being written by one PutObject: the object may be complete"
                )),
                (None, false) => unknown += 1,
            }
        }
        if unknown > 0 && !said.is_empty() {
            said.push(format!(
                "{unknown} more file(s) had no upload yet, unless one was being started"
            ));
        } else if unknown > 0 {
            said.push(format!("{unknown} file(s) had no upload id yet: none stays open unless one was being started"));
        }
        if said.is_empty() {
            return None;
        }
        let how = match ids.as_slice() {
            [(upload, id)] if ShownKey(&upload.key).to_string() == upload.key => format!(
                "abort it with `aws s3api abort-multipart-upload --bucket {} --key {} --upload-id {id}`",
                shell_quoted(&upload.bucket),
                shell_quoted(&upload.key)
            ),
            _ => "abort an upload with AbortMultipartUpload (`aws s3api abort-multipart-upload`), list them with ListMultipartUploads, or let a lifecycle rule abort incomplete uploads".to_owned(),
        };
        Some(format!("{} ({how})", said.join("; ")))
    }
}

/// `text` as one shell word: as it is when it holds only characters no
/// shell treats specially, in single quotes otherwise.
fn shell_quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

impl OpenUpload {
    /// Records the file's upload id, once its writer has one.
    pub(crate) fn started(&self, id: Option<&str>) {
        let Some(id) = id else { return };
        let mut registry = self.uploads.registry();
        if let Some(upload) = registry.files.get_mut(&self.n)
            && upload.id.as_deref() != Some(id)
        {
            upload.id = Some(id.to_owned());
        }
    }

    /// Notes that the file's completion is being sent.
    pub(crate) fn completing(&self) {
        if let Some(upload) = self.uploads.registry().files.get_mut(&self.n) {
            upload.completing = true;
        }
    }
}

impl Drop for OpenUpload {
    fn drop(&mut self) {
        self.uploads.registry().files.remove(&self.n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each file is named while open, with its upload id once known and
    /// how to abort it, and forgotten once its entry drops.
    #[test]
    fn open_files_are_named_until_dropped() {
        let uploads = OpenUploads::default();
        let a = uploads.open("b", "dir/my file's.csv");
        a.started(None);
        assert!(
            uploads
                .left_behind()
                .unwrap()
                .starts_with("1 file(s) had no upload id yet"),
            "{:?}",
            uploads.left_behind()
        );
        a.started(Some("ID-A"));
        assert_eq!(
            uploads.left_behind().unwrap(),
            "upload ID-A of s3://b/dir/my file's.csv may stay open (abort it with `aws s3api abort-multipart-upload --bucket b --key 'dir/my file'\\''s.csv' --upload-id ID-A`)"
        );
        let c = uploads.open("b", "c\nd.csv");
        let e = uploads.open("b", "e.csv");
        let f = uploads.open("b", "f.csv");
        c.started(Some("ID-C"));
        c.completing();
        e.completing();
        let said = uploads.left_behind().unwrap();
        for part in [
            "upload ID-A of s3://b/dir/my file's.csv may stay open; ",
            "upload ID-C of s3://b/\"c\\nd.csv\" was being completed",
            "s3://b/e.csv was being written by one PutObject",
            "1 more file(s) had no upload yet",
            "list them with ListMultipartUploads",
        ] {
            assert!(said.contains(part), "{part}: {said}");
        }
        drop((a, c, e, f));
        assert_eq!(uploads.left_behind(), None);
    }
}
