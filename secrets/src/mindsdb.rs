//! MindsDB's `CREATE DATABASE ds WITH ENGINE = 's3', PARAMETERS = {...}`,
//! mapped onto the same secret model: a config secret scoped to the bucket
//! (to every bucket when the database names none).

use crate::error::{Result, SecretError};
use crate::params::{ParamValue, Parameters};
use crate::secret::Secret;

/// The parameters MindsDB's S3 integration takes.
pub const MINDSDB_PARAMETERS: [&str; 6] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region_name",
    "bucket",
    "endpoint_url",
];

/// A MindsDB S3 database: its bucket and the secret its queries use.
#[derive(Debug)]
pub struct MindsDbConnection {
    /// `bucket`: keys in ``ds.`folder/file.csv` `` are relative to it.
    /// Without one, a key's first segment is its bucket.
    pub bucket: Option<String>,
    /// A config secret named after the database, scoped to `s3://<bucket>`
    /// (or to all of `s3://`).
    pub secret: Secret,
    /// The parameters as written, for persistence; `Debug` redacts them.
    pub parameters: Parameters,
}

impl MindsDbConnection {
    /// Maps MindsDB's parameters: `aws_access_key_id` → KEY_ID,
    /// `aws_secret_access_key` → SECRET, `aws_session_token` →
    /// SESSION_TOKEN, `region_name` → REGION (default us-east-1), and
    /// `endpoint_url` (for non-AWS servers such as MinIO) → ENDPOINT, USE_SSL
    /// from its scheme, and path-style addressing.
    pub fn new(database: &str, parameters: &Parameters) -> Result<Self> {
        let mut mapped = Parameters::new().with("TYPE", "s3")?;
        let mut bucket = None;
        for (name, value) in parameters.iter() {
            let lower = name.to_ascii_lowercase();
            let target = match lower.as_str() {
                "aws_access_key_id" => "KEY_ID",
                "aws_secret_access_key" => "SECRET",
                "aws_session_token" => "SESSION_TOKEN",
                "region_name" => "REGION",
                "bucket" => {
                    bucket = Some(string(name, value)?);
                    continue;
                }
                "endpoint_url" => {
                    let url = string(name, value)?;
                    let (use_ssl, host) = match url.split_once("://") {
                        Some((scheme, host)) if scheme.eq_ignore_ascii_case("http") => {
                            (false, host)
                        }
                        Some((scheme, host)) if scheme.eq_ignore_ascii_case("https") => {
                            (true, host)
                        }
                        Some((scheme, _)) => {
                            return Err(SecretError::Invalid(format!(
                                "endpoint_url must start with http:// or https://, not {scheme}://"
                            )));
                        }
                        None => (true, url.as_str()),
                    };
                    mapped.insert("ENDPOINT", host.trim_end_matches('/'))?;
                    mapped.insert("USE_SSL", use_ssl)?;
                    mapped.insert("URL_STYLE", "path")?;
                    continue;
                }
                _ => {
                    return Err(SecretError::Invalid(format!(
                        "unknown parameter '{name}' for ENGINE 's3'; accepted: {}",
                        MINDSDB_PARAMETERS.join(", ")
                    )));
                }
            };
            mapped.insert(target, value.clone())?;
        }
        if let Some(bucket) = &bucket {
            if bucket.is_empty() || bucket.contains('/') {
                return Err(SecretError::Invalid(format!(
                    "\"bucket\" must be a bucket name, not '{bucket}'"
                )));
            }
            mapped.insert("SCOPE", format!("s3://{bucket}"))?;
        }
        let secret = Secret::new(database, mapped).map_err(|e| match e {
            // Speak MindsDB's names back to a MindsDB user.
            SecretError::Invalid(m) => SecretError::Invalid(
                m.replace("SESSION_TOKEN", "aws_session_token")
                    .replace("KEY_ID", "aws_access_key_id")
                    .replace("SECRET", "aws_secret_access_key"),
            ),
            other => other,
        })?;
        Ok(Self {
            bucket,
            secret,
            parameters: parameters.clone(),
        })
    }

    /// The `s3://` URL of a key in the database's bucket; without a bucket
    /// the key's first segment is the bucket.
    pub fn url(&self, key: &str) -> String {
        let key = key.trim_start_matches('/');
        match &self.bucket {
            Some(bucket) => format!("s3://{bucket}/{key}"),
            None => format!("s3://{key}"),
        }
    }
}

fn string(name: &str, value: &ParamValue) -> Result<String> {
    match value {
        ParamValue::Str(s) => Ok(s.clone()),
        other => Err(SecretError::WrongType {
            name: name.to_owned(),
            expected: "a string".into(),
            got: other.type_name().into(),
        }),
    }
}
