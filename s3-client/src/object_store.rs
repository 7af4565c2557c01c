//! [`S3ObjectStore`]: this client behind `object_store::ObjectStore`, so
//! DataFusion's readers and writers move every byte through our client
//! (coalesced ranged GETs, footers by suffix range, multipart writes).
//!
//! Every key is mapped to and from its `Path` by [`S3ObjectStore::path_of`]
//! and [`S3ObjectStore::key_of`] (lossless: `a//b`, `/a`, `x/./y` and keys
//! with control characters included), so whatever a listing returns reads
//! back exactly that object. What S3 cannot be asked through this store is
//! refused, never dropped: a versioned read (`GetOptions::version`), tags,
//! and attributes other than Content-Type. A caller that knows the size
//! an object was listed with puts its [`ObjectVersion`] in
//! `GetOptions::extensions`, and an answer of another size is an error.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, CopyMode, CopyOptions, GetOptions, GetRange, GetResult,
    GetResultPayload, ListResult, MultipartId, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};

use crate::client::S3Client;
use crate::error::Error;
use crate::model::{
    ByteRange, CompletedPart, CopyObjectRequest, GetObjectRequest, ListObjectsV2Request,
    ObjectVersion, PutObjectRequest,
};
use crate::object_path;
use crate::url::ShownKey;

const STORE: &str = "S3";

/// One bucket of an [`S3Client`] as an `ObjectStore`.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: S3Client,
    bucket: String,
}

impl S3ObjectStore {
    /// The store for `bucket`.
    pub fn new(client: S3Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &S3Client {
        &self.client
    }

    /// The `Path` of the object at `key`: the key itself when a `Path` can
    /// hold it, else its segments that cannot (empty, `.`, `..`, control
    /// characters, or starting `%%`) escaped as `%%` + percent-encoding,
    /// e.g. `a//b.csv` is `a/%%/b.csv`. The inverse of [`Self::key_of`].
    pub fn path_of(key: &str) -> Path {
        object_path::path_of(key)
    }

    /// The key `path` names (the inverse of [`Self::path_of`]); a path
    /// with a `%%` segment `path_of` would not make names no key and is
    /// an error.
    pub fn key_of(path: &Path) -> object_store::Result<String> {
        key(path).map(Cow::into_owned)
    }

    /// Several ranges of the object at `location`, as
    /// `ObjectStore::get_ranges` (the client's coalescing, `read.coalesce_gap`
    /// and `read.concurrency`), every GET pinned to the listed `version`
    /// when given: an object replaced since it was listed is
    /// `Error::Precondition`, never bytes of two versions, and an answer
    /// giving another size than the listing's is an error, never a read
    /// that ends early.
    pub async fn get_ranges_if_match(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
        version: Option<&ObjectVersion>,
    ) -> object_store::Result<Vec<Bytes>> {
        self.client
            .get_ranges_if_match(&self.bucket, &key(location)?, ranges, version)
            .await
            .map_err(|e| map_error(location, e))
    }
}

/// The key `location` names, or object_store's error saying why none.
fn key(location: &Path) -> object_store::Result<Cow<'_, str>> {
    object_path::key_of(location).map_err(|e| object_store::Error::Generic {
        store: STORE,
        source: Box::new(e),
    })
}

/// What this store cannot do, said instead of silently doing less.
fn not_implemented(operation: String) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation,
        implementer: "S3ObjectStore".into(),
    }
}

/// The Content-Type among `attributes`: S3 writes take no other attribute
/// here, so any other (or a tag) is refused rather than lost.
fn content_type(
    operation: &str,
    attributes: &Attributes,
    tags: &object_store::TagSet,
) -> object_store::Result<Option<String>> {
    if !tags.encoded().is_empty() {
        return Err(not_implemented(format!(
            "{operation} with tags (object tagging is not written by this store)"
        )));
    }
    let mut content_type = None;
    for (attribute, value) in attributes {
        match attribute {
            Attribute::ContentType => content_type = Some(value.to_string()),
            other => {
                return Err(not_implemented(format!(
                    "{operation} with attribute {other:?} (only ContentType is written by this store)"
                )));
            }
        }
    }
    Ok(content_type)
}

/// The attributes an answer carries that object_store knows.
fn attributes(meta: &crate::model::ObjectMeta) -> Attributes {
    let mut attributes = Attributes::new();
    if let Some(content_type) = &meta.content_type {
        attributes.insert(Attribute::ContentType, content_type.clone().into());
    }
    attributes
}

impl fmt::Display for S3ObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3ObjectStore(s3://{})", self.bucket)
    }
}

/// Maps our error onto object_store's, keeping ours as the source.
fn map_error(path: &Path, e: Error) -> object_store::Error {
    let path = path.to_string();
    if e.is_precondition_failed() {
        return object_store::Error::Precondition {
            path,
            source: Box::new(e),
        };
    }
    match e.status() {
        Some(404) => object_store::Error::NotFound {
            path,
            source: Box::new(e),
        },
        Some(304) => object_store::Error::NotModified {
            path,
            source: Box::new(e),
        },
        // An archived object is no permission problem: keep our words.
        Some(403) if e.code() == Some("InvalidObjectState") => object_store::Error::Generic {
            store: STORE,
            source: Box::new(e),
        },
        Some(403) => object_store::Error::PermissionDenied {
            path,
            source: Box::new(e),
        },
        _ => object_store::Error::Generic {
            store: STORE,
            source: Box::new(e),
        },
    }
}

/// A listed object in object_store's shape, at its key's `Path`.
fn object_meta(meta: crate::model::ObjectMeta) -> ObjectMeta {
    store_meta(object_path::path_of(&meta.key), meta)
}

/// Our metadata of the object at `location` in object_store's shape.
fn store_meta(location: Path, meta: crate::model::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        location,
        last_modified: meta.last_modified.unwrap_or_default(),
        size: meta.size,
        e_tag: meta.etag,
        version: meta.version_id,
    }
}

/// object_store prefixes are whole segments: `a/b` lists `a/b/...`.
fn list_prefix(prefix: Option<&Path>) -> object_store::Result<Option<String>> {
    prefix
        .filter(|p| !p.as_ref().is_empty())
        .map(|p| Ok(format!("{}/", key(p)?)))
        .transpose()
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let mut put = PutObjectRequest {
            content_type: content_type("put_opts", &opts.attributes, &opts.tags)?,
            ..PutObjectRequest::default()
        };
        match opts.mode {
            PutMode::Overwrite => {}
            PutMode::Create => put.if_none_match = true,
            PutMode::Update(version) => {
                put.if_match = Some(version.e_tag.ok_or_else(|| object_store::Error::Generic {
                    store: STORE,
                    source: "an update needs the ETag of the version it replaces".into(),
                })?);
            }
        }
        let create = put.if_none_match;
        let update = put.if_match.is_some();
        let output = self
            .client
            .put_object(&self.bucket, &key(location)?, Bytes::from(payload), &put)
            .await
            .map_err(|e| match (create, update, e.status()) {
                (true, _, _) if e.is_precondition_failed() => object_store::Error::AlreadyExists {
                    path: location.to_string(),
                    source: Box::new(e),
                },
                // An update of an object that does not exist: AWS answers
                // 412, moto and some other servers 404. Either way the
                // version to replace is not there.
                (_, true, Some(404)) => object_store::Error::Precondition {
                    path: location.to_string(),
                    source: Box::new(e),
                },
                _ => map_error(location, e),
            })?;
        Ok(PutResult {
            e_tag: output.etag,
            version: output.version_id,
        })
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let put = PutObjectRequest {
            content_type: content_type("put_multipart_opts", &opts.attributes, &opts.tags)?,
            ..PutObjectRequest::default()
        };
        let key = key(location)?.into_owned();
        let upload_id = self
            .client
            .create_multipart_upload(&self.bucket, &key, &put)
            .await
            .map_err(|e| map_error(location, e))?;
        Ok(Box::new(S3MultipartUpload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key,
            upload_id,
            next_part: 1,
            parts: Arc::new(Mutex::new(Vec::new())),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if let Some(version) = &options.version {
            return Err(not_implemented(format!(
                "get_opts of version {version:?} of {location} (versioned reads are not sent by this store; without the version it would read the latest)"
            )));
        }
        // An empty or inverted range is refused, as object_store's own
        // stores refuse it (it was answered Ok with no bytes, unchecked).
        if let Some(range) = &options.range {
            range.is_valid().map_err(|e| object_store::Error::Generic {
                store: STORE,
                source: Box::new(e),
            })?;
        }
        let key = &*key(location)?;
        let range = options.range.as_ref().map(|r| match r {
            GetRange::Bounded(r) => ByteRange::Bounded {
                start: r.start,
                end: r.end,
            },
            GetRange::Offset(o) => ByteRange::From(*o),
            GetRange::Suffix(n) => ByteRange::Suffix(*n),
        });
        let req = GetObjectRequest {
            range,
            if_match: options.if_match.clone(),
            if_none_match: options.if_none_match.clone(),
            if_modified_since: options.if_modified_since,
            if_unmodified_since: options.if_unmodified_since,
            size: options.extensions.get::<ObjectVersion>().map(|v| v.size),
        };
        let into_meta = |meta| store_meta(location.clone(), meta);
        if options.head {
            let meta = self
                .client
                .head_object_if(&self.bucket, key, &req)
                .await
                .map_err(|e| map_error(location, e))?;
            let size = meta.size;
            return Ok(GetResult {
                payload: GetResultPayload::Stream(futures::stream::empty().boxed()),
                attributes: attributes(&meta),
                meta: into_meta(meta),
                range: 0..size,
            });
        }
        let output = self
            .client
            .get_object(&self.bucket, key, &req)
            .await
            .map_err(|e| map_error(location, e))?;
        let path = location.clone();
        let stream = output.body.map_err(move |e| map_error(&path, e)).boxed();
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream),
            attributes: attributes(&output.meta),
            meta: into_meta(output.meta),
            range: output.range,
        })
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        self.get_ranges_if_match(location, ranges, None).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        locations
            .chunks(crate::DELETE_OBJECTS_BATCH)
            .then(move |batch| {
                let client = client.clone();
                let bucket = bucket.clone();
                async move {
                    // Each path with the key it names (or why none).
                    let paths: Vec<object_store::Result<(Path, String)>> = batch
                        .into_iter()
                        .map(|p| p.and_then(|p| Ok((p.clone(), key(&p)?.into_owned()))))
                        .collect();
                    let keys: Vec<String> = paths
                        .iter()
                        .filter_map(|p| p.as_ref().ok().map(|(_, key)| key.clone()))
                        .collect();
                    let failed = match client.delete_objects(&bucket, &keys).await {
                        Ok(failed) => failed,
                        Err(e) => {
                            let err = object_store::Error::Generic {
                                store: STORE,
                                source: Box::new(e),
                            };
                            return futures::stream::iter(vec![Err(err)]);
                        }
                    };
                    let results: Vec<_> = paths
                        .into_iter()
                        .map(|p| {
                            let (p, key) = p?;
                            match failed.iter().find(|f| f.key == key) {
                                Some(f) => Err(object_store::Error::Generic {
                                    store: STORE,
                                    source: format!(
                                        "could not delete s3://{bucket}/{}: {} {}",
                                        ShownKey(&f.key),
                                        f.code,
                                        f.message
                                    )
                                    .into(),
                                }),
                                None => Ok(p),
                            }
                        })
                        .collect();
                    futures::stream::iter(results)
                }
            })
            .flatten()
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.list_from(prefix, None)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        // Keys sort as their paths do except where a segment is escaped:
        // the server lists from where no later path can be missed, and
        // the stream keeps only paths after `offset`.
        let start_after = match object_path::start_after(offset) {
            Ok(start) => start,
            Err(e) => {
                let e = object_store::Error::Generic {
                    store: STORE,
                    source: Box::new(e),
                };
                return futures::stream::once(async { Err(e) }).boxed();
            }
        };
        let offset = offset.clone();
        self.list_from(prefix, start_after)
            .try_filter(move |meta| futures::future::ready(meta.location > offset))
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let request = ListObjectsV2Request {
            prefix: list_prefix(prefix)?,
            delimiter: Some("/".into()),
            ..ListObjectsV2Request::default()
        };
        let mut pages = self.client.list_objects_v2(&self.bucket, request);
        let mut result = ListResult {
            common_prefixes: Vec::new(),
            objects: Vec::new(),
        };
        let here = prefix.cloned().unwrap_or_default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map_error(&here, e))?;
            // A common prefix ends in the one `/` delimiter; what is before
            // it may end in `/` too (`a//`: segments `a` and ``).
            for p in page.common_prefixes {
                let prefix = p.strip_suffix('/').unwrap_or(&p);
                result.common_prefixes.push(object_path::path_of(prefix));
            }
            result
                .objects
                .extend(page.objects.into_iter().map(object_meta));
        }
        Ok(result)
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        match options.mode {
            CopyMode::Overwrite => self
                .client
                .copy_object(
                    &self.bucket,
                    &key(from)?,
                    &key(to)?,
                    &CopyObjectRequest::default(),
                )
                .await
                .map_err(|e| map_error(from, e)),
            // S3 has no conditional copy; object_store's own S3 store also
            // refuses without extra configuration. A missing source is
            // still reported as such.
            CopyMode::Create => {
                self.client
                    .head_object(&self.bucket, &key(from)?)
                    .await
                    .map_err(|e| map_error(from, e))?;
                Err(object_store::Error::NotSupported {
                    source: "S3 cannot copy only-if-absent; copy with overwrite instead".into(),
                })
            }
        }
    }
}

impl S3ObjectStore {
    fn list_from(
        &self,
        prefix: Option<&Path>,
        start_after: Option<String>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let prefix_key = match list_prefix(prefix) {
            Ok(prefix) => prefix,
            Err(e) => return futures::stream::once(async { Err(e) }).boxed(),
        };
        let request = ListObjectsV2Request {
            prefix: prefix_key,
            start_after,
            ..ListObjectsV2Request::default()
        };
        let here = prefix.cloned().unwrap_or_default();
        self.client
            .list_objects_v2(&self.bucket, request)
            .map_err(move |e| map_error(&here, e))
            .map_ok(|page| {
                futures::stream::iter(page.objects.into_iter().map(|o| Ok(object_meta(o))))
            })
            .try_flatten()
            .boxed()
    }
}

/// Completes `upload_id` with `parts` (sorted, numbered from 1); S3 rejects
/// an upload with no parts, so an empty object is one empty part.
async fn complete_parts(
    client: &S3Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: Vec<CompletedPart>,
) -> object_store::Result<PutResult> {
    let path = object_path::path_of(key);
    let parts = if parts.is_empty() {
        vec![
            client
                .upload_part(bucket, key, upload_id, 1, Bytes::new())
                .await
                .map_err(|e| map_error(&path, e))?,
        ]
    } else {
        parts
    };
    let output = client
        .complete_multipart_upload(bucket, key, upload_id, &parts)
        .await
        .map_err(|e| map_error(&path, e))?;
    Ok(PutResult {
        e_tag: output.etag,
        version: output.version_id,
    })
}

/// The low-level multipart interface (object_store's `MultipartStore`):
/// the caller numbers the parts and hands them back to complete.
#[async_trait]
impl MultipartStore for S3ObjectStore {
    async fn create_multipart(&self, path: &Path) -> object_store::Result<MultipartId> {
        self.client
            .create_multipart_upload(&self.bucket, &key(path)?, &PutObjectRequest::default())
            .await
            .map_err(|e| map_error(path, e))
    }

    async fn put_part(
        &self,
        path: &Path,
        id: &MultipartId,
        part_idx: usize,
        data: PutPayload,
    ) -> object_store::Result<PartId> {
        let number = u32::try_from(part_idx + 1).map_err(|_| object_store::Error::Generic {
            store: STORE,
            source: format!("part index {part_idx} is beyond S3's 10000 parts").into(),
        })?;
        let part = self
            .client
            .upload_part(&self.bucket, &key(path)?, id, number, Bytes::from(data))
            .await
            .map_err(|e| map_error(path, e))?;
        Ok(PartId {
            content_id: part.etag,
        })
    }

    async fn complete_multipart(
        &self,
        path: &Path,
        id: &MultipartId,
        parts: Vec<PartId>,
    ) -> object_store::Result<PutResult> {
        let parts = parts
            .into_iter()
            .zip(1u32..)
            .map(|(part, part_number)| CompletedPart {
                part_number,
                etag: part.content_id,
            })
            .collect();
        complete_parts(&self.client, &self.bucket, &key(path)?, id, parts).await
    }

    async fn abort_multipart(&self, path: &Path, id: &MultipartId) -> object_store::Result<()> {
        self.client
            .abort_multipart_upload(&self.bucket, &key(path)?, id)
            .await
            .map_err(|e| map_error(path, e))
    }
}

/// An object_store multipart upload over CreateMultipartUpload / UploadPart.
#[derive(Debug)]
struct S3MultipartUpload {
    client: S3Client,
    bucket: String,
    key: String,
    upload_id: String,
    next_part: u32,
    parts: Arc<Mutex<Vec<CompletedPart>>>,
}

#[async_trait]
impl MultipartUpload for S3MultipartUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let part_number = self.next_part;
        self.next_part += 1;
        let client = self.client.clone();
        let bucket = self.bucket.clone();
        let key = self.key.clone();
        let upload_id = self.upload_id.clone();
        let parts = Arc::clone(&self.parts);
        Box::pin(async move {
            let part = client
                .upload_part(&bucket, &key, &upload_id, part_number, Bytes::from(data))
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: STORE,
                    source: Box::new(e),
                })?;
            if let Ok(mut parts) = parts.lock() {
                parts.push(part);
            }
            Ok(())
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let mut parts = self.parts.lock().map(|p| p.clone()).unwrap_or_default();
        parts.sort_by_key(|p| p.part_number);
        // A part whose put_part failed or whose future was dropped leaves a
        // gap; completing without it would write an object missing bytes.
        let started = self.next_part - 1;
        if let Some(missing) = (1..=started).find(|n| {
            parts
                .get(*n as usize - 1)
                .is_none_or(|p| p.part_number != *n)
        }) {
            return Err(object_store::Error::Generic {
                store: STORE,
                source: format!(
                    "missing part {missing} of {started} of s3://{}/{}: its put_part did not finish (it failed or its future was dropped), so the object is not completed; abort the upload and write it again",
                    self.bucket,
                    ShownKey(&self.key)
                )
                .into(),
            });
        }
        complete_parts(
            &self.client,
            &self.bucket,
            &self.key,
            &self.upload_id,
            parts,
        )
        .await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.client
            .abort_multipart_upload(&self.bucket, &self.key, &self.upload_id)
            .await
            .map_err(|e| map_error(&object_path::path_of(&self.key), e))
    }
}
