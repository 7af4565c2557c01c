//! Where a request goes: endpoint parsing, virtual-hosted vs path style, and
//! the exact percent-encoding of keys and query values that SigV4 signs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::{ClientConfig, UrlStyle};
use crate::error::{Error, Result};

/// Everything but RFC 3986's unreserved characters is encoded in a query
/// value (SigV4's canonical form, so the signed and the sent URL agree).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A key keeps its `/` separators; everything else is encoded as in a query
/// value, so `+`, `%`, `?`, `#`, `=`, spaces and unicode survive exactly.
const KEY_PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// Percent-encodes an object key for the request path.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_PATH).to_string()
}

/// Percent-encodes a query parameter name or value.
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Decodes a key or prefix from a listing sent with `encoding-type=url`
/// (S3 encodes a space as `+`, a literal `+` as `%2B`).
pub fn decode_url_encoded(value: &str) -> Result<String, std::str::Utf8Error> {
    let plus_as_space = value.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|s| s.into_owned())
}

/// Whether `bucket` is a name S3 allows (see [`check_bucket`]): `Err`
/// says what is wrong with it.
///
/// [`check_bucket`]: crate::ops::object::check_bucket
pub fn valid_bucket_name(bucket: &str) -> std::result::Result<(), &'static str> {
    let legacy_chars = |b: u8| b.is_ascii_uppercase() || b == b'_';
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    if !bucket.bytes().all(|b| allowed(b) || legacy_chars(b)) {
        return Err("bucket names hold only a-z, 0-9, '.' and '-'");
    }
    let max = if bucket.bytes().any(legacy_chars) {
        255
    } else {
        63
    };
    if !(3..=max).contains(&bucket.len()) {
        return Err("bucket names are 3 to 63 characters long");
    }
    if !bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err("bucket names start and end with a letter or digit");
    }
    Ok(())
}

/// Whether a region, configured or named by a server (a redirect's
/// `x-amz-bucket-region`, GetBucketLocation), can go into a host name and a
/// signing scope: 1 to 64 letters, digits, `-` and `_` (AWS's `eu-west-3`,
/// and other servers' `US-EAST1` or `my_region`). The one check for all.
pub(crate) fn valid_region(region: &str) -> bool {
    (1..=64).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `raw` with any `user:password@` before its host replaced by `***@`.
fn redact_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let end = raw[start..].find('/').map_or(raw.len(), |i| start + i);
    match raw[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..start], &raw[start + at..]),
        None => raw.to_owned(),
    }
}

/// A parsed endpoint: scheme, `host[:port]` and an optional path prefix
/// (some gateways serve S3 below a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host[:port]`.
    pub authority: String,
    /// Path prefix without trailing slash; empty for none.
    pub path_prefix: String,
    /// Whether the endpoint is AWS's own (derived from the region).
    pub is_aws: bool,
}

impl Endpoint {
    /// Parses the configured endpoint (or AWS's, for the region).
    pub fn from_config(config: &ClientConfig, region: &str) -> Result<Self> {
        let default_scheme = if config.use_ssl { "https" } else { "http" };
        let Some(raw) = config
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            // The region goes into the host name: `x@host/r` would send the
            // signed request to `host`.
            if !valid_region(region) {
                return Err(Error::Config(format!(
                    "REGION '{}' is not a region name (letters, digits, '-' and '_', e.g. 'eu-west-1'); set REGION to the bucket's region",
                    region.escape_debug()
                )));
            }
            return Ok(Self {
                scheme: default_scheme,
                authority: format!("s3.{region}.amazonaws.com"),
                path_prefix: String::new(),
                is_aws: true,
            });
        };
        // Messages show the endpoint without any `user:password@`.
        let shown = redact_userinfo(raw);
        let (scheme, rest) = if let Some(rest) = raw.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = raw.strip_prefix("http://") {
            ("http", rest)
        } else if raw.contains("://") {
            return Err(Error::Config(format!(
                "endpoint '{shown}' has an unsupported scheme; use host[:port], http://host[:port] or https://host[:port]"
            )));
        } else {
            (default_scheme, raw)
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(Error::Config(format!(
                "endpoint '{shown}' carries a user name or password; give credentials as KEY_ID and SECRET, and ENDPOINT as host[:port][/path]"
            )));
        }
        if authority.is_empty()
            || authority.contains(['?', '#', ' '])
            || authority.parse::<http::uri::Authority>().is_err()
        {
            return Err(Error::Config(format!(
                "endpoint '{shown}' is not host[:port][/path]; check ENDPOINT"
            )));
        }
        Ok(Self {
            scheme,
            authority: authority.to_owned(),
            path_prefix: path.to_owned(),
            is_aws: authority.ends_with(".amazonaws.com"),
        })
    }

    /// `scheme://authority`, for messages (never with a path or query).
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    /// Whether the endpoint's host is an IP address, under which no
    /// bucket host name (`bucket.127.0.0.1`) can resolve.
    fn host_is_ip(&self) -> bool {
        self.authority
            .parse::<http::uri::Authority>()
            .ok()
            .is_some_and(|a| {
                a.host()
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok()
            })
    }

    /// Whether `bucket` can go in the host name: DNS-compatible, and under
    /// TLS without dots (a dotted bucket breaks the wildcard certificate).
    /// Never under an IP-address endpoint: it is addressed by path there,
    /// as botocore does (DuckDB dials `bucket.127.0.0.1` and fails).
    pub fn vhost_compatible(&self, bucket: &str) -> bool {
        if self.host_is_ip() {
            return false;
        }
        let dns_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        dns_ok && !(self.scheme == "https" && bucket.contains('.'))
    }

    /// The request URL (as a string, already percent-encoded) and the Host
    /// header value for an operation on `bucket` / `key` with `query`.
    pub fn request_url(
        &self,
        style: UrlStyle,
        bucket: &str,
        key: Option<&str>,
        query: &[(&str, String)],
    ) -> (String, String) {
        let vhost =
            style == UrlStyle::VirtualHosted && !bucket.is_empty() && self.vhost_compatible(bucket);
        let host = if vhost {
            format!("{bucket}.{}", self.authority)
        } else {
            self.authority.clone()
        };
        let mut url = format!("{}://{}{}", self.scheme, host, self.path_prefix);
        if !vhost && !bucket.is_empty() {
            url.push('/');
            url.push_str(bucket);
        }
        url.push('/');
        if let Some(key) = key {
            url.push_str(&encode_key(key));
        }
        let mut sep = '?';
        for (name, value) in query {
            url.push(sep);
            sep = '&';
            url.push_str(&encode_query_value(name));
            // Sub-resources such as `uploads` go out as `uploads=`: the
            // canonical form SigV4 signs either way.
            url.push('=');
            url.push_str(&encode_query_value(value));
        }
        (url, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(raw: &str) -> Endpoint {
        let config = ClientConfig::default().with_endpoint(raw).with_ssl(false);
        Endpoint::from_config(&config, "us-east-1").unwrap()
    }

    #[test]
    fn a_region_that_is_not_a_region_name_never_reaches_a_host_name() {
        // `x@host:port/r` would make `s3.x@host:port/r.amazonaws.com`: the
        // signed request would go to `host:port`.
        for region in ["x@127.0.0.1:1/r", "eu-west-1/", "a#b", "eu west", "a?b", ""] {
            let err = Endpoint::from_config(&ClientConfig::default(), region).unwrap_err();
            assert!(
                matches!(&err, Error::Config(m) if m.contains("REGION")),
                "{region:?}: {err}"
            );
        }
        for region in ["eu-west-3", "us-gov-west-1", "my_region", "US-EAST1"] {
            assert!(valid_region(region), "{region}");
            let e = Endpoint::from_config(&ClientConfig::default(), region).unwrap();
            assert_eq!(e.authority, format!("s3.{region}.amazonaws.com"));
        }
    }

    #[test]
    fn legacy_bucket_names_stay_usable() {
        // Path-style names from before the DNS rule: capitals, underscores.
        assert!(valid_bucket_name("Legacy_Bucket").is_ok());
        assert!(valid_bucket_name("ab").is_err());
    }

    #[test]
    fn parses_endpoints() {
        let e = endpoint("127.0.0.1:9000");
        assert_eq!(
            (e.scheme, e.authority.as_str(), e.path_prefix.as_str()),
            ("http", "127.0.0.1:9000", "")
        );
        let e = endpoint("https://gw.example.com/s3/");
        assert_eq!(
            (e.scheme, e.authority.as_str(), e.path_prefix.as_str()),
            ("https", "gw.example.com", "/s3")
        );
        let aws = Endpoint::from_config(&ClientConfig::default(), "eu-west-1").unwrap();
        assert_eq!(aws.origin(), "https://s3.eu-west-1.amazonaws.com");
        assert!(aws.is_aws);
        let bad = ClientConfig::default().with_endpoint("ftp://x");
        assert!(Endpoint::from_config(&bad, "us-east-1").is_err());
    }

    #[test]
    fn an_ip_address_endpoint_is_addressed_by_path() {
        let style = UrlStyle::VirtualHosted;
        for raw in ["127.0.0.1:9000", "http://[::1]:9000", "10.0.0.5"] {
            let (url, host) = endpoint(raw).request_url(style, "rbk", Some("k"), &[]);
            assert!(!host.starts_with("rbk."), "{raw}: {host}");
            assert!(url.ends_with("/rbk/k"), "{raw}: {url}");
        }
        let (_, host) = endpoint("minio.local:9000").request_url(style, "rbk", Some("k"), &[]);
        assert_eq!(host, "rbk.minio.local:9000");
    }

    #[test]
    fn endpoint_errors_never_show_userinfo() {
        for raw in [
            "http://admin:hunter2@minio.local:9000",
            "ftp://admin:hunter2@minio.local",
            "admin:hunter2@minio.local:9000/path",
        ] {
            let config = ClientConfig::default().with_endpoint(raw);
            let err = Endpoint::from_config(&config, "us-east-1")
                .unwrap_err()
                .to_string();
            assert!(!err.contains("hunter2") && !err.contains("admin"), "{err}");
            assert!(err.contains("minio.local"), "{err}");
        }
    }

    #[test]
    fn builds_path_and_vhost_urls() {
        let e = endpoint("localhost:9000");
        let (url, host) = e.request_url(UrlStyle::Path, "data", Some("a b/c+d%.csv"), &[]);
        assert_eq!(url, "http://localhost:9000/data/a%20b/c%2Bd%25.csv");
        assert_eq!(host, "localhost:9000");
        let (url, host) = e.request_url(
            UrlStyle::VirtualHosted,
            "data",
            None,
            &[("list-type", "2".into()), ("prefix", "x/y z".into())],
        );
        assert_eq!(
            url,
            "http://data.localhost:9000/?list-type=2&prefix=x%2Fy%20z"
        );
        assert_eq!(host, "data.localhost:9000");
        // Not DNS-compatible: falls back to path style.
        let (url, _) = e.request_url(UrlStyle::VirtualHosted, "Data_1", Some("k"), &[]);
        assert_eq!(url, "http://localhost:9000/Data_1/k");
    }

    #[test]
    fn decodes_listing_encoding() {
        assert_eq!(decode_url_encoded("a+b%2Bc%20d%C3%A9").unwrap(), "a b+c dé");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn key_encoding_round_trips(key in "\\PC{0,64}") {
            let encoded = encode_key(&key);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~/%".contains(&b)));
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decoded, key.as_str());
        }

        #[test]
        fn listing_decoding_inverts_s3_encoding(key in "\\PC{0,64}") {
            let s3_encoded = encode_query_value(&key).replace("%20", "+");
            prop_assert_eq!(decode_url_encoded(&s3_encoded).map_err(|e| TestCaseError::fail(e.to_string()))?, key);
        }
    }
}
