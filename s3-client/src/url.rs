//! [`ObjectUrl`]: `s3://bucket/key`, the one parsed form of an object URL
//! for the whole workspace (glob patterns, secret scopes, COPY targets),
//! with the schemes DuckDB accepts.

use std::fmt;
use std::str::FromStr;

/// A URL that cannot name an object, and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme://` in front.
    #[error(
        "'{url}' is not an object URL: it has no scheme; write s3://bucket/key, e.g. s3://bucket/path/*.parquet"
    )]
    NoScheme {
        /// The URL as given.
        url: String,
    },
    /// A scheme that names no S3-compatible storage.
    #[error(
        "'{url}' is not an object URL: unknown scheme '{scheme}'; use one of s3, s3a, s3n, r2, gcs or gs, e.g. s3://bucket/path/*.parquet"
    )]
    UnknownScheme {
        /// The URL as given.
        url: String,
        /// The scheme, lowercased.
        scheme: String,
    },
    /// Nothing between `://` and the next `/`.
    #[error(
        "'{url}' is not an object URL: the bucket name is empty; URLs look like s3://bucket/path/*.parquet"
    )]
    EmptyBucket {
        /// The URL as given.
        url: String,
    },
    /// DuckDB's `?s3_...=` URL parameters (credentials among them), which
    /// s3sql does not read; the values are never shown.
    #[error(
        "'{url}' carries DuckDB's S3 URL parameters ({names}), which s3sql does not read: use CREATE SECRET or SET {names} instead (a '?' of the key itself is written \\?)"
    )]
    UrlParameters {
        /// The URL with every parameter value replaced by `***`.
        url: String,
        /// The parameters' names, comma-separated.
        names: String,
    },
    /// A bucket name S3 could not have.
    #[error("'{url}' is not an object URL: '{bucket}' is not a valid bucket name: {why}")]
    InvalidBucket {
        /// The URL as given.
        url: String,
        /// The bucket, with control characters escaped.
        bucket: String,
        /// Which rule it breaks.
        why: &'static str,
    },
}

/// A parsed object URL, `scheme://bucket/key`; the key may be a glob
/// pattern or empty (`s3://bucket`, `s3://bucket/`: the bucket itself).
/// Whoever needs an object refuses an empty key: the client's object
/// operations do, glob expansion and COPY say what to write instead.
///
/// ```
/// use s3sql_s3_client::ObjectUrl;
/// let url: ObjectUrl = "S3://logs/2024/*.csv".parse()?;
/// assert_eq!((url.scheme(), url.bucket(), url.key()), ("s3", "logs", "2024/*.csv"));
/// assert_eq!(url.with_key("a.csv").to_string(), "s3://logs/a.csv");
/// # Ok::<(), s3sql_s3_client::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectUrl {
    scheme: String,
    bucket: String,
    key: String,
}

impl ObjectUrl {
    /// URL schemes that name an object in S3-compatible storage.
    pub const SCHEMES: [&'static str; 6] = ["s3", "s3a", "s3n", "r2", "gcs", "gs"];

    /// Parses `scheme://bucket[/key]`. The scheme is matched without
    /// regard to case and kept lowercase; the bucket must be a name S3
    /// allows (so `s3://bkt?/x.csv` cannot address bucket `bkt`); the key
    /// is everything after the `/` that ends the bucket.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| UrlError::NoScheme {
            url: url.to_owned(),
        })?;
        let scheme = scheme.to_ascii_lowercase();
        if !Self::SCHEMES.contains(&scheme.as_str()) {
            return Err(UrlError::UnknownScheme {
                url: url.to_owned(),
                scheme,
            });
        }
        // Looked for before the bucket is split off (they may follow it,
        // and a secret's own `/` would split them), in any case.
        if let Some((kept, query)) = duckdb_parameters(rest) {
            let pairs: Vec<(&str, bool)> = query
                .split('&')
                .map(|pair| {
                    pair.split_once('=')
                        .map_or((pair, false), |(n, _)| (n, true))
                })
                .collect();
            let redacted: Vec<String> = pairs
                .iter()
                .map(|&(n, valued)| {
                    if valued {
                        format!("{n}=***")
                    } else {
                        n.to_owned()
                    }
                })
                .collect();
            let names: Vec<&str> = pairs
                .iter()
                .filter(|&&(n, valued)| valued && is_duckdb_parameter(n))
                .map(|&(n, _)| n)
                .collect();
            return Err(UrlError::UrlParameters {
                url: format!("{scheme}://{kept}?{}", redacted.join("&")),
                names: names.join(", "),
            });
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(UrlError::EmptyBucket {
                url: url.to_owned(),
            });
        }
        if let Err(why) = bucket_characters(bucket) {
            return Err(UrlError::InvalidBucket {
                url: url.to_owned(),
                bucket: bucket.escape_debug().to_string(),
                why,
            });
        }
        Ok(Self {
            scheme,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// `s3`, `s3a`, `s3n`, `r2`, `gcs` or `gs`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key (or key pattern) without the `/` that ends the bucket;
    /// empty when the URL names the bucket.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The URL as messages show it: its key through [`ShownKey`], so a key
    /// holding a line end stays on one line (Display writes it raw, to
    /// parse back).
    pub fn shown(&self) -> impl fmt::Display + '_ {
        ShownUrl(self)
    }

    /// The URL of another key in the same bucket.
    pub fn with_key(&self, key: &str) -> Self {
        Self {
            scheme: self.scheme.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
        }
    }
}

/// The characters of S3's bucket naming rule (`a-z 0-9 . -`, and capitals
/// and `_` in legacy names; starting and ending with a letter or digit):
/// what keeps a bucket from changing what its URL addresses. The length is
/// checked where a request is made ([`crate::addressing::valid_bucket_name`]),
/// so a short name in a scope or a test still parses.
fn bucket_characters(bucket: &str) -> Result<(), &'static str> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    if !bucket.bytes().all(allowed) {
        return Err("bucket names hold only a-z, 0-9, '.' and '-'");
    }
    if !bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err("bucket names start and end with a letter or digit");
    }
    Ok(())
}

impl FromStr for ObjectUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::parse(s)
    }
}

impl fmt::Display for ObjectUrl {
    /// `scheme://bucket/key`, which parses back to the same URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}/{}", self.scheme, self.bucket, self.key)
    }
}

/// A key or prefix as messages show it: as it is, or, when it holds a
/// control character (CR, LF, tab, U+0000-U+001F, U+007F-U+009F, U+2028,
/// U+2029) or starts with `"`, quoted with Rust's escapes (`"a\r\nb"`):
/// a message stays on one line and names the key unambiguously (a key
/// `a\rb` with a real backslash shows as it is). The one place every
/// error of the workspace formats a key.
#[derive(Debug, Clone, Copy)]
pub struct ShownKey<'a>(pub &'a str);

impl fmt::Display for ShownKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = self.0.starts_with('"')
            || self
                .0
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
        if escaped {
            write!(f, "{:?}", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// [`ObjectUrl::shown`].
struct ShownUrl<'a>(&'a ObjectUrl);

impl fmt::Display for ShownUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "{}://{}/{}", url.scheme, url.bucket, ShownKey(&url.key))
    }
}

/// Whether a URL parameter's name is one of DuckDB's (`s3_region`,
/// `S3_SECRET_ACCESS_KEY`, ...).
fn is_duckdb_parameter(name: &str) -> bool {
    name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("s3_"))
}

/// Splits `bucket/key?query` at the first `?` that starts DuckDB's URL
/// parameters: a `?` not escaped by a backslash (`\?` is a literal `?` of
/// the key) whose query holds a `name=value` pair named `s3_...`, in any
/// place (`?versionId=1&s3_secret_access_key=...`). Returns what is before
/// it and the query after it.
fn duckdb_parameters(rest: &str) -> Option<(&str, &str)> {
    let mut backslashes = 0;
    for (at, c) in rest.char_indices() {
        if c == '?' && backslashes % 2 == 0 {
            let query = &rest[at + 1..];
            let named = query.split('&').any(|pair| {
                pair.split_once('=')
                    .is_some_and(|(name, _)| is_duckdb_parameter(name))
            });
            if named {
                return Some((&rest[..at], query));
            }
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_schemes_buckets_and_keys() {
        let u = ObjectUrl::parse("s3://bucket/a/b*.csv").unwrap();
        assert_eq!(
            (u.scheme(), u.bucket(), u.key()),
            ("s3", "bucket", "a/b*.csv")
        );
        assert_eq!(ObjectUrl::parse("GS://bkt").unwrap().key(), "");
        assert_eq!(ObjectUrl::parse("r2://bkt/").unwrap().key(), "");
        // Only the separator goes: a key may itself start with `/`.
        assert_eq!(ObjectUrl::parse("s3n://bkt//x").unwrap().key(), "/x");
        assert!(ObjectUrl::parse("s3://Legacy_Bucket/x").is_ok());
        assert_eq!(
            ObjectUrl::parse("s3://bkt")
                .unwrap()
                .with_key("k")
                .to_string(),
            "s3://bkt/k"
        );
    }

    #[test]
    fn errors_say_what_to_write() {
        let err = |u: &str| ObjectUrl::parse(u).unwrap_err().to_string();
        assert!(err("bucket/key").contains("no scheme; write s3://bucket/key"));
        assert!(err("ftp://b/k").contains("unknown scheme 'ftp'; use one of s3, s3a"));
        assert!(err("s3:///key").contains("bucket name is empty"));
        for bad in [
            "s3://bkt?/x.csv",
            "s3://a#b/x",
            "s3://my bucket/x",
            "s3://-bkt/x",
        ] {
            assert!(err(bad).contains("not a valid bucket name"), "{bad}");
        }
        assert!(
            err("s3://a\nb/x").contains(r"'a\nb'"),
            "control characters escaped"
        );
        // DuckDB's URL parameters are refused, their values never shown.
        let e = err("s3://b/k.csv?s3_access_key_id=AKIA&s3_secret_access_key=TopSecretXYZ");
        assert!(!e.contains("TopSecretXYZ") && !e.contains("AKIA"), "{e}");
        assert!(e.contains("s3_access_key_id, s3_secret_access_key"), "{e}");
        // Right after the bucket, split by the secret's own `/`, upper case.
        for url in [
            "s3://bkt?s3_secret_access_key=TopSecretXYZ",
            "s3://bkt?s3_secret_access_key=Top/SecretXYZ",
            "s3://bkt/k.csv?S3_SECRET_ACCESS_KEY=TopSecretXYZ",
            "s3://bkt/k.csv?s3_region=x&S3_SESSION_TOKEN=TopSecretXYZ",
        ] {
            let e = err(url);
            assert!(!e.contains("SecretXYZ"), "{url}: {e}");
            assert!(e.to_lowercase().contains("url parameters"), "{url}: {e}");
        }
        assert!(
            ObjectUrl::parse("s3://b/what?.csv").is_ok(),
            "a ? wildcard stays"
        );
        // After a first parameter of another name (a console URL with a
        // version id, then DuckDB's credential): every value hidden, and
        // only the `s3_` names are offered to SET.
        for url in [
            "s3://bkt/k.csv?versionId=1&s3_secret_access_key=TopSecretXYZ",
            "s3://bkt/k.csv?x=1&S3_SESSION_TOKEN=TopSecretXYZ",
            "s3://bkt/a?b/k.csv?x=TopSecretXYZ&s3_region=eu-west-1",
        ] {
            let e = err(url);
            assert!(!e.contains("SecretXYZ"), "{url}: {e}");
            assert!(e.to_lowercase().contains("url parameters"), "{url}: {e}");
            assert!(
                !e.contains("SET versionId") && !e.contains("SET x"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn a_question_mark_of_the_key_is_not_a_parameter() {
        // Escaped as the UrlParameters message advises, or with no `=`:
        // part of the key (the glob layer reads `\?` as a literal `?`).
        for (url, key) in [
            ("s3://bkt/logs\\?s3_region.csv", "logs\\?s3_region.csv"),
            ("s3://bkt/logs\\?s3_region=x.csv", "logs\\?s3_region=x.csv"),
            ("s3://bkt/logs?s3_region.csv", "logs?s3_region.csv"),
        ] {
            let parsed = ObjectUrl::parse(url).map_err(|e| e.to_string());
            assert_eq!(parsed.as_ref().map(ObjectUrl::key), Ok(key), "{url}");
        }
        // A backslash escaped itself leaves the `?` a parameter start.
        let e = ObjectUrl::parse("s3://bkt/k\\\\?s3_secret_access_key=TopSecretXYZ")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("TopSecretXYZ"), "{e}");
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_url(
            scheme in prop::sample::select(ObjectUrl::SCHEMES.to_vec()),
            bucket in "[a-z0-9][a-z0-9.-]{0,10}[a-z0-9]",
            key in "(/|[a-zA-Z0-9 ?*=%+._-]){0,20}",
        ) {
            let url = ObjectUrl::parse(&format!("{scheme}://{bucket}/{key}")).unwrap();
            prop_assert_eq!(url.key(), key.as_str());
            prop_assert_eq!(ObjectUrl::parse(&url.to_string()).unwrap(), url);
        }
    }
}
