//! [`TrackedFs`]: s3s-fs with its gaps closed where our tests look, so it
//! behaves like S3:
//! - ListMultipartUploads, from uploads tracked as they are created,
//!   completed and aborted;
//! - `encoding-type=url` listings, ListObjectsV2 and ListMultipartUploads
//!   (s3s-fs echoes the parameter but does not encode), and an ETag on
//!   every listed object (s3s-fs lists none);
//! - GetObject/HeadObject preconditions (`If-Match`, `If-None-Match`,
//!   `If-Modified-Since`, `If-Unmodified-Since`), which s3s-fs ignores;
//! - keys that are directories on disk: `a/` (a folder marker) reads as an
//!   empty object and `a` (a prefix of other keys) as NoSuchKey, where
//!   s3s-fs answers 500; a PutObject of `a/` answers the empty object's
//!   ETag, where s3s-fs answers none;
//! - a suffix range longer than the object reads the whole object;
//! - AbortMultipartUpload after a failed CompleteMultipartUpload (s3s-fs
//!   has already dropped the upload; S3 keeps it until aborted);
//! - conditional PutObject and CompleteMultipartUpload (`If-None-Match: *`,
//!   `If-Match`), answered 412 PreconditionFailed as S3 does since 2024
//!   (a refused Complete leaves the upload open); s3s-fs writes regardless;
//! - one version per read: a GetObject/HeadObject sees the bytes and the
//!   ETag of one version, and a write's condition check and its write are
//!   one step (s3s-fs opens the file and reads the ETag apart, so a PUT
//!   landing between them paired old bytes with the new ETag);
//! - CompleteMultipartUpload naming a part never uploaded is refused with
//!   InvalidPart and changes nothing; s3s-fs drops
//!   the upload and rewrites the existing object's metadata first;
//! - `NoSuchUpload` (404) for an upload id that is unknown or belongs to
//!   another bucket or key, where s3s-fs answers AccessDenied or
//!   InvalidRequest (or accepts a part for the wrong key);
//! - a region: CreateBucket's LocationConstraint must name it (none for
//!   us-east-1), else 400 IllegalLocationConstraintException as S3
//!   answers; GetBucketLocation answers it (no LocationConstraint for
//!   us-east-1) and HeadBucket names it in `x-amz-bucket-region`, where
//!   s3s-fs answers us-east-1 and no header. (Refusing requests signed for
//!   another region is [`crate::region::RegionGate`]'s.)

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;

/// Characters S3 leaves as they are in a URL-encoded listing.
const LISTING: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// S3's listing encoding: percent-encoding with a space as `+`.
fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, LISTING)
        .to_string()
        .replace("%20", "+")
}

/// S3's rule for a CreateBucket at a regional endpoint in `region`: its
/// LocationConstraint names that region, and none is sent to us-east-1.
fn check_location_constraint(constraint: Option<&str>, region: &str) -> S3Result<()> {
    let expected = (region != crate::region::DEFAULT_REGION).then_some(region);
    if constraint == expected {
        return Ok(());
    }
    let named = constraint.map_or("unspecified".to_owned(), |c| format!("'{c}'"));
    Err(s3s::s3_error!(
        IllegalLocationConstraintException,
        "The {named} location constraint (LocationConstraint) is incompatible for the region specific endpoint this request was sent to ({region})"
    ))
}

/// An open multipart upload: (bucket, key, upload id) → started.
type UploadKey = (String, String, String);

/// s3s-fs plus the operations our tests need that it lacks.
pub struct TrackedFs {
    fs: FileSystem,
    root: std::path::PathBuf,
    /// The server's region.
    region: String,
    uploads: Mutex<BTreeMap<UploadKey, SystemTime>>,
    /// Shared by reads of objects (GetObject, HeadObject), held alone by
    /// writes (PutObject, CompleteMultipartUpload, CopyObject, deletes)
    /// from their condition check to their last file: a read answers one
    /// version, and two writers racing on one key cannot both pass a
    /// condition, as on S3. A PUT's body is received before it is taken.
    objects: tokio::sync::RwLock<()>,
}

impl TrackedFs {
    pub fn new(fs: FileSystem, root: &std::path::Path, region: &str) -> Self {
        Self {
            fs,
            root: root.to_path_buf(),
            region: region.to_owned(),
            uploads: Mutex::new(BTreeMap::new()),
            objects: tokio::sync::RwLock::new(()),
        }
    }

    /// `NoSuchUpload` unless `upload_id` is an open upload of `bucket`/`key`.
    fn require_upload(&self, bucket: &str, key: &str, upload_id: &str) -> S3Result<()> {
        let id = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        if self.uploads.lock().unwrap().contains_key(&id) {
            Ok(())
        } else {
            Err(s3s::s3_error!(NoSuchUpload))
        }
    }

    fn forget(&self, bucket: &str, key: &str, upload_id: &str) {
        self.uploads.lock().unwrap().remove(&(
            bucket.to_owned(),
            key.to_owned(),
            upload_id.to_owned(),
        ));
    }
}

impl TrackedFs {
    /// How S3 sees a key that is a directory in s3s-fs's tree: `Some(true)`
    /// for a folder marker (`a/`), `Some(false)` for a bare prefix (`a`).
    fn directory_key(&self, bucket: &str, key: &str) -> Option<bool> {
        let path = self.root.join(bucket).join(key);
        path.is_dir().then(|| key.ends_with('/'))
    }

    /// The ETag s3s-fs reports on HeadObject (it saved it at PutObject).
    async fn etag_of(&self, template: &S3Request<()>, bucket: &str, key: &str) -> Option<ETag> {
        let input = HeadObjectInput::builder()
            .bucket(bucket.to_owned())
            .key(key.to_owned())
            .build()
            .ok()?;
        let mut req = template.clone().map_input(|()| input);
        req.method = http::Method::HEAD;
        self.fs.head_object(req).await.ok()?.output.e_tag
    }
}

impl TrackedFs {
    /// A write's `If-None-Match` / `If-Match` against the object now at
    /// `bucket`/`key`: 412 PreconditionFailed when they do not hold.
    async fn check_write_conditions(
        &self,
        template: &S3Request<()>,
        bucket: &str,
        key: &str,
        if_none_match: Option<&ETagCondition>,
        if_match: Option<&ETagCondition>,
    ) -> S3Result<()> {
        if if_none_match.is_none() && if_match.is_none() {
            return Ok(());
        }
        let current = self.etag_of(template, bucket, key).await;
        let matches = |cond: &ETagCondition| match cond {
            ETagCondition::Any => current.is_some(),
            ETagCondition::ETag(want) => current
                .as_ref()
                .is_some_and(|have| have.value() == want.value()),
        };
        if if_none_match.is_some_and(matches) || if_match.is_some_and(|c| !matches(c)) {
            return Err(s3s::s3_error!(PreconditionFailed));
        }
        Ok(())
    }
}

/// The ETag of an empty object (MD5 of nothing).
fn empty_etag() -> ETag {
    ETag::Strong("d41d8cd98f00b204e9800998ecf8427e".to_owned())
}

/// The preconditions of a GetObject or HeadObject input (the two types
/// share the field names but no trait).
macro_rules! conditions_of {
    ($input:expr) => {
        Conditions {
            if_match: $input.if_match.clone(),
            if_none_match: $input.if_none_match.clone(),
            if_modified_since: $input.if_modified_since.clone(),
            if_unmodified_since: $input.if_unmodified_since.clone(),
        }
    };
}

/// The preconditions of a GetObject or HeadObject, evaluated in RFC 9110's order.
struct Conditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

impl Conditions {
    fn check(&self, etag: Option<&ETag>, last_modified: Option<&Timestamp>) -> S3Result<()> {
        let matches = |cond: &ETagCondition| match cond {
            ETagCondition::Any => true,
            ETagCondition::ETag(want) => etag.is_some_and(|have| have.value() == want.value()),
        };
        // HTTP dates have whole seconds.
        let secs = |t: &Timestamp| time::OffsetDateTime::from(t.clone()).unix_timestamp();
        let modified = last_modified.map(secs);
        if let Some(cond) = &self.if_match {
            if !matches(cond) {
                return Err(s3s::s3_error!(PreconditionFailed));
            }
        } else if let (Some(t), Some(m)) = (&self.if_unmodified_since, modified)
            && m > secs(t)
        {
            return Err(s3s::s3_error!(PreconditionFailed));
        }
        if let Some(cond) = &self.if_none_match {
            if matches(cond) {
                return Err(s3s::s3_error!(NotModified));
            }
        } else if let (Some(t), Some(m)) = (&self.if_modified_since, modified)
            && m <= secs(t)
        {
            return Err(s3s::s3_error!(NotModified));
        }
        Ok(())
    }
}

/// s3s-fs's AccessDenied for an upload id it no longer has on disk (one a
/// failed CompleteMultipartUpload consumed) as S3 would say it. With one
/// credential per server, that is the only AccessDenied s3s-fs gives there.
fn upload_gone(err: s3s::S3Error) -> s3s::S3Error {
    if *err.code() == s3s::S3ErrorCode::AccessDenied {
        s3s::s3_error!(
            NoSuchUpload,
            "the upload was consumed by a failed CompleteMultipartUpload"
        )
    } else {
        err
    }
}

/// A request body received whole, so that a write holds
/// [`TrackedFs::objects`] for its files only, not for the network.
async fn received(body: StreamingBlob) -> S3Result<StreamingBlob> {
    let mut body = s3s::Body::from(body);
    let bytes = body
        .store_all_limited(usize::MAX)
        .await
        .map_err(|e| s3s::s3_error!(IncompleteBody, "the body was cut: {e}"))?;
    Ok(StreamingBlob::from(s3s::Body::from(bytes)))
}

/// Implements `S3` by handing the listed operations to s3s-fs unchanged;
/// those under `writes` change objects and hold [`TrackedFs::objects`].
macro_rules! delegate_to_fs {
    ({ $($op:ident($input:ident) -> $output:ident;)* } writes { $($wop:ident($winput:ident) -> $woutput:ident;)* }) => {
        #[async_trait::async_trait]
        impl S3 for TrackedFs {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.fs.$op(req).await
                }
            )*
            $(
                async fn $wop(&self, req: S3Request<$winput>) -> S3Result<S3Response<$woutput>> {
                    let _write = self.objects.write().await;
                    self.fs.$wop(req).await
                }
            )*

            async fn get_bucket_location(
                &self,
                req: S3Request<GetBucketLocationInput>,
            ) -> S3Result<S3Response<GetBucketLocationOutput>> {
                let mut resp = self.fs.get_bucket_location(req).await?;
                resp.output.location_constraint = (self.region != crate::region::DEFAULT_REGION)
                    .then(|| BucketLocationConstraint::from(self.region.clone()));
                Ok(resp)
            }

            async fn head_bucket(
                &self,
                req: S3Request<HeadBucketInput>,
            ) -> S3Result<S3Response<HeadBucketOutput>> {
                let mut resp = self.fs.head_bucket(req).await?;
                resp.output.bucket_region = Some(self.region.clone());
                Ok(resp)
            }

            async fn create_multipart_upload(
                &self,
                req: S3Request<CreateMultipartUploadInput>,
            ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
                let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
                let resp = self.fs.create_multipart_upload(req).await?;
                if let Some(id) = &resp.output.upload_id {
                    self.uploads.lock().unwrap().insert((bucket, key, id.clone()), SystemTime::now());
                }
                Ok(resp)
            }

            async fn complete_multipart_upload(
                &self,
                req: S3Request<CompleteMultipartUploadInput>,
            ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
                let id = (req.input.bucket.clone(), req.input.key.clone(), req.input.upload_id.clone());
                self.require_upload(&id.0, &id.1, &id.2)?;
                let _write = self.objects.write().await;
                self.check_write_conditions(
                    &req.clone().map_input(|_| ()),
                    &id.0,
                    &id.1,
                    req.input.if_none_match.as_ref(),
                    req.input.if_match.as_ref(),
                )
                .await?;
                // A part never uploaded is refused
                // before s3s-fs sees it: s3s-fs drops the upload and puts the
                // upload's metadata on the existing object before it finds
                // the part missing; S3 changes nothing.
                let listed = self
                    .fs
                    .list_parts(req.clone().map_input(|input| ListPartsInput {
                        bucket: input.bucket,
                        key: input.key,
                        upload_id: input.upload_id,
                        ..ListPartsInput::default()
                    }))
                    .await
                    .map_err(upload_gone)?
                    .output
                    .parts
                    .unwrap_or_default();
                let asked = req.input.multipart_upload.as_ref().and_then(|u| u.parts.as_ref());
                for part in asked.into_iter().flatten() {
                    if !listed.iter().any(|l| l.part_number == part.part_number) {
                        return Err(s3s::s3_error!(InvalidPart, "a listed part was never uploaded"));
                    }
                }
                // On failure the upload stays listed (and abortable), as on S3.
                let resp = self.fs.complete_multipart_upload(req).await.map_err(upload_gone)?;
                self.forget(&id.0, &id.1, &id.2);
                Ok(resp)
            }

            async fn upload_part(
                &self,
                req: S3Request<UploadPartInput>,
            ) -> S3Result<S3Response<UploadPartOutput>> {
                self.require_upload(&req.input.bucket, &req.input.key, &req.input.upload_id)?;
                self.fs.upload_part(req).await.map_err(upload_gone)
            }

            async fn upload_part_copy(
                &self,
                req: S3Request<UploadPartCopyInput>,
            ) -> S3Result<S3Response<UploadPartCopyOutput>> {
                self.require_upload(&req.input.bucket, &req.input.key, &req.input.upload_id)?;
                self.fs.upload_part_copy(req).await.map_err(upload_gone)
            }

            async fn list_parts(
                &self,
                req: S3Request<ListPartsInput>,
            ) -> S3Result<S3Response<ListPartsOutput>> {
                self.require_upload(&req.input.bucket, &req.input.key, &req.input.upload_id)?;
                self.fs.list_parts(req).await
            }

            async fn abort_multipart_upload(
                &self,
                req: S3Request<AbortMultipartUploadInput>,
            ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
                let id = (req.input.bucket.clone(), req.input.key.clone(), req.input.upload_id.clone());
                self.require_upload(&id.0, &id.1, &id.2)?;
                let result = self.fs.abort_multipart_upload(req).await;
                self.forget(&id.0, &id.1, &id.2);
                // A tracked upload s3s-fs no longer knows was consumed by a
                // failed Complete: aborting it has nothing left to do.
                Ok(result.unwrap_or_else(|_| S3Response::new(AbortMultipartUploadOutput::default())))
            }

            async fn create_bucket(
                &self,
                req: S3Request<CreateBucketInput>,
            ) -> S3Result<S3Response<CreateBucketOutput>> {
                let constraint = req
                    .input
                    .create_bucket_configuration
                    .as_ref()
                    .and_then(|c| c.location_constraint.as_ref())
                    .map(|c| c.as_str().to_owned())
                    .filter(|c| !c.is_empty());
                check_location_constraint(constraint.as_deref(), &self.region)?;
                self.fs.create_bucket(req).await
            }

            async fn list_multipart_uploads(
                &self,
                req: S3Request<ListMultipartUploadsInput>,
            ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
                let bucket = req.input.bucket;
                if !self.root.join(&bucket).is_dir() {
                    return Err(s3s::s3_error!(NoSuchBucket));
                }
                let encoding_type = req.input.encoding_type.filter(|e| e.as_str() == EncodingType::URL);
                let key_of = |key: &str| match encoding_type {
                    Some(_) => url_encode(key),
                    None => key.to_owned(),
                };
                let prefix = req.input.prefix.unwrap_or_default();
                let uploads: Vec<MultipartUpload> = self
                    .uploads
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|((b, k, _), _)| *b == bucket && k.starts_with(&prefix))
                    .map(|((_, key, id), started)| MultipartUpload {
                        key: Some(key_of(key)),
                        upload_id: Some(id.clone()),
                        initiated: Some(Timestamp::from(*started)),
                        ..MultipartUpload::default()
                    })
                    .collect();
                Ok(S3Response::new(ListMultipartUploadsOutput {
                    bucket: Some(bucket),
                    prefix: Some(key_of(&prefix)),
                    is_truncated: Some(false),
                    uploads: Some(uploads),
                    encoding_type,
                    ..ListMultipartUploadsOutput::default()
                }))
            }

            async fn put_object(&self, mut req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
                if let Some(body) = req.input.body.take() {
                    req.input.body = Some(received(body).await?);
                }
                let conditional = req.input.if_none_match.is_some() || req.input.if_match.is_some();
                let _write = self.objects.write().await;
                if conditional {
                    let template = S3Request {
                        input: (),
                        method: req.method.clone(),
                        uri: req.uri.clone(),
                        headers: req.headers.clone(),
                        extensions: http::Extensions::new(),
                        credentials: req.credentials.clone(),
                        region: req.region.clone(),
                        service: req.service.clone(),
                        trailing_headers: None,
                    };
                    self.check_write_conditions(
                        &template,
                        &req.input.bucket,
                        &req.input.key,
                        req.input.if_none_match.as_ref(),
                        req.input.if_match.as_ref(),
                    )
                    .await?;
                }
                let marker = req.input.key.ends_with('/');
                let mut resp = self.fs.put_object(req).await?;
                if marker && resp.output.e_tag.is_none() {
                    resp.output.e_tag = Some(empty_etag());
                }
                Ok(resp)
            }

            async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
                let conditions = conditions_of!(req.input);
                // A suffix longer than the object means the whole object
                // (RFC 9110); s3s-fs answers 500.
                if let Some(Range::Suffix { length }) = req.input.range {
                    let path = self.root.join(&req.input.bucket).join(&req.input.key);
                    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= length) {
                        req.input.range = None;
                    }
                }
                match self.directory_key(&req.input.bucket, &req.input.key) {
                    Some(true) => {
                        conditions.check(Some(&empty_etag()), None)?;
                        return Ok(S3Response::new(GetObjectOutput {
                            body: Some(StreamingBlob::from(s3s::Body::from(bytes::Bytes::new()))),
                            content_length: Some(0),
                            e_tag: Some(empty_etag()),
                            ..GetObjectOutput::default()
                        }));
                    }
                    Some(false) => return Err(s3s::s3_error!(NoSuchKey)),
                    None => {}
                }
                let path = self.root.join(&req.input.bucket).join(&req.input.key);
                let resp = {
                    let _read = self.objects.read().await;
                    let mut resp = self.fs.get_object(req).await?;
                    // The same version s3s-fs opened, read in large pieces.
                    let start = crate::file_body::first_byte(resp.output.content_range.as_deref());
                    let length = resp.output.content_length.and_then(|n| u64::try_from(n).ok());
                    if let (Some(start), Some(length), Ok(file)) = (start, length, std::fs::File::open(&path)) {
                        resp.output.body = Some(crate::file_body::file_body(file, start, length));
                    }
                    resp
                };
                conditions.check(resp.output.e_tag.as_ref(), resp.output.last_modified.as_ref())?;
                Ok(resp)
            }

            async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
                let conditions = conditions_of!(req.input);
                match self.directory_key(&req.input.bucket, &req.input.key) {
                    Some(true) => {
                        conditions.check(Some(&empty_etag()), None)?;
                        return Ok(S3Response::new(HeadObjectOutput {
                            content_length: Some(0),
                            e_tag: Some(empty_etag()),
                            ..HeadObjectOutput::default()
                        }));
                    }
                    Some(false) => return Err(s3s::s3_error!(NoSuchKey)),
                    None => {}
                }
                let resp = {
                    let _read = self.objects.read().await;
                    self.fs.head_object(req).await?
                };
                conditions.check(resp.output.e_tag.as_ref(), resp.output.last_modified.as_ref())?;
                Ok(resp)
            }

            async fn list_objects_v2(
                &self,
                req: S3Request<ListObjectsV2Input>,
            ) -> S3Result<S3Response<ListObjectsV2Output>> {
                let encode = req
                    .input
                    .encoding_type
                    .as_ref()
                    .is_some_and(|e| e.as_str() == EncodingType::URL);
                let template = req.clone().map_input(|_| ());
                let bucket = req.input.bucket.clone();
                let mut resp = self.fs.list_objects_v2(req).await?;
                for object in resp.output.contents.iter_mut().flatten() {
                    if object.e_tag.is_none() {
                        let key = object.key.clone().unwrap_or_default();
                        object.e_tag = self.etag_of(&template, &bucket, &key).await;
                    }
                }
                if encode {
                    for object in resp.output.contents.iter_mut().flatten() {
                        object.key = object.key.as_deref().map(url_encode);
                    }
                    for prefix in resp.output.common_prefixes.iter_mut().flatten() {
                        prefix.prefix = prefix.prefix.as_deref().map(url_encode);
                    }
                }
                Ok(resp)
            }
        }
    };
}

delegate_to_fs! {
    {
        delete_bucket(DeleteBucketInput) -> DeleteBucketOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
        list_objects(ListObjectsInput) -> ListObjectsOutput;
    }
    writes {
        copy_object(CopyObjectInput) -> CopyObjectOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
    }
}
