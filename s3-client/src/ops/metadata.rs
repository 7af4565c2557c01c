//! An object's metadata as a write sets it ([`ObjectMetadata`]): read from
//! one object (HeadObject, then GetObjectTagging) and sent with a write
//! (PutObject, CreateMultipartUpload), so a new version of an object keeps
//! what the old one had. What a HEAD shows that no write can give the next
//! version (SSE-C, object lock, a legal hold, metadata S3 could not send as
//! headers) is named in [`StoredObject::not_carried`], for the caller to
//! refuse before writing.

use std::collections::BTreeMap;

use http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, EXPIRES,
};
use http::{HeaderMap, HeaderName, Method, StatusCode};
use serde::Deserialize;

use crate::addressing::encode_query_value;
use crate::client::{S3Client, S3Request};
use crate::error::{Error, Operation, Result};
use crate::model::{GetObjectRequest, ObjectMeta, ObjectMetadata, ServerSideEncryption};
use crate::ops::lost::WRITE_TOKEN;
use crate::ops::object::{check_object, header_str};
use crate::xml;

const META: &str = "x-amz-meta-";
const STORAGE_CLASS: &str = "x-amz-storage-class";
const REDIRECT: &str = "x-amz-website-redirect-location";
const SSE: &str = "x-amz-server-side-encryption";
const SSE_KMS_KEY: &str = "x-amz-server-side-encryption-aws-kms-key-id";
const SSE_BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";
const TAGGING: &str = "x-amz-tagging";

/// One object as HeadObject and GetObjectTagging describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredObject {
    /// Size, ETag, Content-Type...
    pub meta: ObjectMeta,
    /// What a write must send for the next version to keep it.
    pub metadata: ObjectMetadata,
    /// What the object has that no write can give a new version, each
    /// named with its header (`SSE-C encryption
    /// (x-amz-server-side-encryption-customer-algorithm)`); empty when a
    /// write with `metadata` keeps everything a HEAD shows.
    pub not_carried: Vec<String>,
}

/// `<Tagging>`: GetObjectTagging's answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Tagging {
    tag_set: TagSet,
}

impl xml::Document for Tagging {
    const ROOT: &'static str = "Tagging";
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagSet {
    #[serde(rename = "Tag")]
    tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Tag {
    key: String,
    value: String,
}

impl S3Client {
    /// HeadObject (with `req`'s preconditions, e.g. `If-Match` to pin the
    /// version) and GetObjectTagging: everything a write must send again
    /// for a new version of the object to keep its metadata. A server that
    /// does not implement tagging (501 NotImplemented) keeps no tags.
    pub async fn head_object_metadata(
        &self,
        bucket: &str,
        key: &str,
        req: &GetObjectRequest,
    ) -> Result<StoredObject> {
        check_object(bucket, key)?;
        let (meta, headers) = self.head_object_headers(bucket, key, req).await?;
        let (mut metadata, not_carried) = metadata_of(&headers);
        metadata.tags = self.get_object_tagging(bucket, key).await?;
        Ok(StoredObject {
            meta,
            metadata,
            not_carried,
        })
    }

    /// GetObjectTagging: the object's tags; none when the server does not
    /// implement tagging (501 NotImplemented, as s3s-fs).
    pub async fn get_object_tagging(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>> {
        check_object(bucket, key)?;
        let req = S3Request::new(Operation::GetObjectTagging, Method::GET, bucket, Some(key))
            .query("tagging", "");
        let body = match self.send_collect(&req).await {
            Ok((_, body)) => body,
            Err(Error::Service(e)) if e.status == StatusCode::NOT_IMPLEMENTED.as_u16() => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let text = std::str::from_utf8(&body)
            .map_err(|_| self.invalid_response(&req, "the answer is not UTF-8"))?;
        let tagging = xml::parse::<Tagging>(text).map_err(|d| self.invalid_response(&req, d))?;
        Ok(tagging
            .tag_set
            .tags
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect())
    }
}

/// The metadata a write can set again from a HEAD's headers, and what it
/// cannot (named).
pub(crate) fn metadata_of(headers: &HeaderMap) -> (ObjectMetadata, Vec<String>) {
    let text = |name: &str| header_str(headers, name).map(str::to_owned);
    let mut not_carried = Vec::new();
    let mut user = BTreeMap::new();
    for (name, value) in headers {
        let Some(short) = name.as_str().strip_prefix(META) else {
            continue;
        };
        if name.as_str() == WRITE_TOKEN {
            // A write's own token: the next write sets its own.
            continue;
        }
        match value.to_str() {
            Ok(value) => {
                user.insert(short.to_owned(), value.to_owned());
            }
            Err(_) => not_carried.push(format!(
                "user metadata {name} (its value is not ASCII text)"
            )),
        }
    }
    if let Some(algorithm) = text("x-amz-server-side-encryption-customer-algorithm") {
        not_carried.push(format!(
            "SSE-C encryption with a key of the client's (x-amz-server-side-encryption-customer-algorithm {algorithm})"
        ));
    }
    if let Some(mode) = text("x-amz-object-lock-mode") {
        let until = text("x-amz-object-lock-retain-until-date").unwrap_or_default();
        not_carried.push(format!(
            "object lock retention (x-amz-object-lock-mode {mode} until {until})"
        ));
    }
    if text("x-amz-object-lock-legal-hold").is_some_and(|h| h.eq_ignore_ascii_case("ON")) {
        not_carried.push("a legal hold (x-amz-object-lock-legal-hold ON)".to_owned());
    }
    if let Some(missing) = text("x-amz-missing-meta") {
        not_carried.push(format!(
            "user metadata HTTP headers cannot carry (x-amz-missing-meta {missing})"
        ));
    }
    // A carried header that is there but not text would be dropped.
    for name in [
        CONTENT_TYPE.as_str(),
        CONTENT_ENCODING.as_str(),
        CONTENT_LANGUAGE.as_str(),
        CONTENT_DISPOSITION.as_str(),
        CACHE_CONTROL.as_str(),
        EXPIRES.as_str(),
        REDIRECT,
        STORAGE_CLASS,
        SSE,
        SSE_KMS_KEY,
        SSE_BUCKET_KEY,
    ] {
        if headers.get(name).is_some() && text(name).is_none() {
            not_carried.push(format!("{name} (its value is not ASCII text)"));
        }
    }
    let encryption = text(SSE).map(|algorithm| ServerSideEncryption {
        algorithm,
        kms_key_id: text(SSE_KMS_KEY),
        bucket_key_enabled: text(SSE_BUCKET_KEY).map(|b| b.eq_ignore_ascii_case("true")),
    });
    let metadata = ObjectMetadata {
        content_encoding: text(CONTENT_ENCODING.as_str()),
        content_language: text(CONTENT_LANGUAGE.as_str()),
        content_disposition: text(CONTENT_DISPOSITION.as_str()),
        cache_control: text(CACHE_CONTROL.as_str()),
        expires: text(EXPIRES.as_str()),
        website_redirect_location: text(REDIRECT),
        user,
        storage_class: text(STORAGE_CLASS),
        encryption,
        tags: Vec::new(),
    };
    (metadata, not_carried)
}

/// `request` with the headers that give a new object `metadata`.
pub(crate) fn with_metadata<'a>(
    mut request: S3Request<'a>,
    metadata: &ObjectMetadata,
) -> Result<S3Request<'a>> {
    let plain = [
        (CONTENT_ENCODING, &metadata.content_encoding),
        (CONTENT_LANGUAGE, &metadata.content_language),
        (CONTENT_DISPOSITION, &metadata.content_disposition),
        (CACHE_CONTROL, &metadata.cache_control),
        (EXPIRES, &metadata.expires),
        (
            HeaderName::from_static(REDIRECT),
            &metadata.website_redirect_location,
        ),
        (
            HeaderName::from_static(STORAGE_CLASS),
            &metadata.storage_class,
        ),
    ];
    for (name, value) in plain {
        if let Some(value) = value {
            request = request.header(name, value.clone());
        }
    }
    for (name, value) in &metadata.user {
        let header = HeaderName::from_bytes(format!("{META}{name}").as_bytes()).map_err(|_| {
            Error::InvalidArgument(format!(
                "user metadata name '{}' cannot be an HTTP header name; use letters, digits and '-'",
                name.escape_debug()
            ))
        })?;
        request = request.header(header, value.clone());
    }
    if let Some(sse) = &metadata.encryption {
        request = request.header(HeaderName::from_static(SSE), sse.algorithm.clone());
        if let Some(key) = &sse.kms_key_id {
            request = request.header(HeaderName::from_static(SSE_KMS_KEY), key.clone());
        }
        if let Some(enabled) = sse.bucket_key_enabled {
            request = request.header(HeaderName::from_static(SSE_BUCKET_KEY), enabled.to_string());
        }
    }
    if !metadata.tags.is_empty() {
        request = request.header(
            HeaderName::from_static(TAGGING),
            tagging_header(&metadata.tags),
        );
    }
    Ok(request)
}

/// `x-amz-tagging`: the tags as a URL query (`k1=v1&k2=v2`, each part
/// percent-encoded).
fn tagging_header(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    /// A carried header whose value is not ASCII text (a raw UTF-8 file
    /// name in Content-Disposition, as boto3 sends and moto keeps) cannot
    /// be read as text, so it is named, not silently dropped.
    #[test]
    fn a_carried_header_that_is_not_text_is_named() {
        for name in [
            "content-disposition",
            "content-type",
            "cache-control",
            "content-language",
            "expires",
        ] {
            let mut h = HeaderMap::new();
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(b"attachment; filename=\"K\xc3\xb6ln.csv\"").unwrap(),
            );
            let (_, not_carried) = metadata_of(&h);
            assert!(
                not_carried
                    .iter()
                    .any(|n| n.contains(name) && n.contains("not ASCII")),
                "{name}: {not_carried:?}"
            );
        }
    }

    #[test]
    fn a_heads_headers_become_metadata_and_what_cannot_be_written_is_named() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("content-type", "text/csv; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("content-disposition", "attachment"),
            ("x-amz-meta-owner", "finance"),
            ("x-amz-meta-s3sql-write", "0123"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "arn:k"),
            ("x-amz-object-lock-legal-hold", "OFF"),
        ] {
            h.insert(HeaderName::from_static(name), value.parse().unwrap());
        }
        let (m, not_carried) = metadata_of(&h);
        assert!(not_carried.is_empty(), "{not_carried:?}");
        assert_eq!(m.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(m.content_disposition.as_deref(), Some("attachment"));
        assert_eq!(m.storage_class.as_deref(), Some("STANDARD_IA"));
        assert_eq!(
            m.user.iter().collect::<Vec<_>>(),
            [(&"owner".to_owned(), &"finance".to_owned())],
            "the write token is not carried"
        );
        let sse = m.encryption.unwrap();
        assert_eq!(
            (sse.algorithm.as_str(), sse.kms_key_id.as_deref()),
            ("aws:kms", Some("arn:k"))
        );

        h.insert(
            HeaderName::from_static("x-amz-server-side-encryption-customer-algorithm"),
            "AES256".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("x-amz-object-lock-legal-hold"),
            "ON".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("x-amz-meta-city"),
            http::HeaderValue::from_bytes(b"K\xc3\xb6ln").unwrap(),
        );
        let (_, not_carried) = metadata_of(&h);
        let all = not_carried.join("; ");
        assert!(all.contains("SSE-C"), "{all}");
        assert!(all.contains("legal hold"), "{all}");
        assert!(all.contains("x-amz-meta-city"), "{all}");
    }

    #[test]
    fn tags_are_sent_as_an_encoded_query() {
        let tags = [
            ("classification".to_owned(), "confidential".to_owned()),
            ("a b&c".to_owned(), "x=y/z".to_owned()),
        ];
        assert_eq!(
            tagging_header(&tags),
            "classification=confidential&a%20b%26c=x%3Dy%2Fz"
        );
    }
}
