//! Service- and bucket-level reads: ListBuckets and GetBucketLocation,
//! which a MindsDB-style database needs to check its connection and to
//! find its bucket's region before the first request.

use chrono::{DateTime, Utc};
use http::Method;
use serde::Deserialize;

use crate::client::{S3Client, S3Request};
use crate::error::{Operation, Result};
use crate::ops::object::check_bucket;
use crate::ops::paging::{PageKeys, Pager};
use crate::xml;

/// A bucket as ListBuckets reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSummary {
    /// The bucket's name.
    pub name: String,
    /// When it was created, when the server says.
    pub creation_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListedBucket {
    name: String,
    creation_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListedBuckets {
    bucket: Vec<ListedBucket>,
}

/// `<ListAllMyBucketsResult>`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListAllMyBucketsResult {
    buckets: ListedBuckets,
    continuation_token: Option<String>,
}

impl xml::Document for ListAllMyBucketsResult {
    const ROOT: &'static str = "ListAllMyBucketsResult";
}

/// `<LocationConstraint>`: empty for us-east-1.
#[derive(Debug, Default, Deserialize)]
struct LocationConstraint {
    #[serde(rename = "$text", default)]
    region: String,
}

impl xml::Document for LocationConstraint {
    const ROOT: &'static str = "LocationConstraint";
}

/// The region a GetBucketLocation answer names: an empty constraint is
/// us-east-1 and the legacy `EU` is eu-west-1, as S3 documents. Text that
/// is not a region name (it would go into host names and signatures) is
/// an error.
fn region_of(constraint: &str) -> std::result::Result<String, String> {
    let region = match constraint.trim() {
        "" => crate::config::DEFAULT_REGION,
        "EU" => "eu-west-1",
        other => other,
    };
    match crate::addressing::valid_region(region) {
        true => Ok(region.to_owned()),
        false => Err(format!(
            "the bucket's location {region:?} is not a region name; set REGION instead"
        )),
    }
}

impl S3Client {
    /// ListBuckets: every bucket these credentials own, following
    /// continuation tokens by the rules of every listing ([`Pager`]).
    pub async fn list_buckets(&self) -> Result<Vec<BucketSummary>> {
        let mut out = Vec::new();
        let mut pager = Pager::<String>::new();
        while !pager.is_done() {
            let mut req = S3Request::new(Operation::ListBuckets, Method::GET, "", None);
            if let Some(t) = pager.token() {
                req = req.query("continuation-token", t.clone());
            }
            let result: ListAllMyBucketsResult = self.read_xml(&req).await?;
            let page: Vec<BucketSummary> = result
                .buckets
                .bucket
                .into_iter()
                .map(|b| BucketSummary {
                    creation_date: b.creation_date.as_deref().and_then(xml::parse_timestamp),
                    name: b.name,
                })
                .collect();
            // A page is truncated by carrying a token.
            let next = result.continuation_token.filter(|t| !t.is_empty());
            let names = PageKeys::of(page.iter().map(|b| b.name.as_str()));
            pager
                .advance(next.is_some(), next, names)
                .map_err(|e| self.invalid_response(&req, e.to_string()))?;
            out.extend(page);
        }
        Ok(out)
    }

    /// GetBucketLocation: the region `bucket` lives in.
    pub async fn get_bucket_location(&self, bucket: &str) -> Result<String> {
        check_bucket(bucket)?;
        let req = S3Request::new(Operation::GetBucketLocation, Method::GET, bucket, None)
            .query("location", "");
        let result: LocationConstraint = self.read_xml(&req).await?;
        region_of(&result.region).map_err(|detail| self.invalid_response(&req, detail))
    }

    /// Sends `req` and parses its XML answer into `T`.
    async fn read_xml<T: for<'de> Deserialize<'de> + xml::Document>(
        &self,
        req: &S3Request<'_>,
    ) -> Result<T> {
        let (_, body) = self.send_collect(req).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| self.invalid_response(req, "the answer is not UTF-8"))?;
        xml::parse::<T>(text).map_err(|detail| self.invalid_response(req, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_name_regions() {
        let parse = |body: &str| {
            region_of(&xml::parse::<LocationConstraint>(body).unwrap().region).unwrap()
        };
        let refused =
            xml::parse::<LocationConstraint>("<LocationConstraint>evil.com/x</LocationConstraint>")
                .unwrap();
        assert!(
            region_of(&refused.region)
                .unwrap_err()
                .contains("not a region name")
        );
        assert_eq!(region_of("US-EAST1").unwrap(), "US-EAST1", "GCS's spelling");
        let ns = r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;
        assert_eq!(parse(&format!("<LocationConstraint {ns}/>")), "us-east-1");
        assert_eq!(
            parse(&format!(
                "<?xml version=\"1.0\"?><LocationConstraint {ns}>eu-west-3</LocationConstraint>"
            )),
            "eu-west-3"
        );
        assert_eq!(
            parse("<LocationConstraint>EU</LocationConstraint>"),
            "eu-west-1"
        );
    }

    #[test]
    fn bucket_listings_parse() {
        let body = "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets>\
            <Bucket><Name>a</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate></Bucket>\
            <Bucket><Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>";
        let r = xml::parse::<ListAllMyBucketsResult>(body).unwrap();
        let names: Vec<_> = r.buckets.bucket.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(r.continuation_token.is_none());
        let empty = xml::parse::<ListAllMyBucketsResult>(
            "<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>",
        )
        .unwrap();
        assert!(empty.buckets.bucket.is_empty());
    }
}
