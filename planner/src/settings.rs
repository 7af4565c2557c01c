//! DuckDB's `s3_*` and `http_*` settings: their names, types and defaults,
//! and the values a session has SET. A value on the covering secret beats
//! a SET value (DuckDB reads each parameter "from the secret, else from
//! the setting"); a SET value beats the built-in default.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;
use std::time::Duration;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use s3sql_formats::parse_bool;
use s3sql_s3_client::{ClientConfig, Credentials, UrlStyle};
use s3sql_secrets::{S3Settings, SettingDefaults, refuse_endpoint_user_info};

use crate::error::{PlannerError, Result};

/// The type of a setting's value, which decides how SET parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Free text.
    Text,
    /// Text never shown back (`redacted` in SHOW and `current_setting`).
    Sensitive,
    /// An endpoint: text without `user:password@`, refused as CREATE
    /// SECRET's ENDPOINT refuses it.
    Endpoint,
    /// `true`/`false` (also `1`/`0`, `on`/`off`).
    Bool,
    /// A non-negative integer.
    Count,
    /// An integer of 1 or more: 0 would make every request time out at
    /// once, or every upload fail or wait forever.
    Positive,
    /// A non-negative number, fractions allowed.
    Number,
    /// A byte size: `800GB`, `10MiB`, or a number of bytes.
    Size,
    /// `vhost` or `path`.
    UrlStyle,
}

/// One setting: DuckDB's name, what its value is, the default DuckDB shows.
#[derive(Debug)]
struct Definition {
    name: &'static str,
    kind: Kind,
    /// `None`: NULL, as DuckDB shows an unset text setting.
    default: Option<&'static str>,
    /// For a DuckDB setting s3sql cannot honour: why any value but the
    /// default (what s3sql does) is refused.
    only_default: Option<&'static str>,
}

const fn def(name: &'static str, kind: Kind, default: Option<&'static str>) -> Definition {
    Definition {
        name,
        kind,
        default,
        only_default: None,
    }
}

impl Definition {
    /// Takes only its default, refusing any other value with `why`.
    const fn only_default(self, why: &'static str) -> Self {
        Self {
            only_default: Some(why),
            ..self
        }
    }
}

/// Every setting s3sql takes, in DuckDB's names and with DuckDB 1.5.5's
/// defaults (an unset region is NULL there too; requests then use
/// us-east-1). Anything else named `s3_*` or `http_*` is an error listing
/// these, never silently accepted.
const DEFINITIONS: &[Definition] = &[
    def("s3_access_key_id", Kind::Text, None),
    def("s3_secret_access_key", Kind::Sensitive, None),
    def("s3_session_token", Kind::Sensitive, None),
    def("s3_endpoint", Kind::Endpoint, None),
    def("s3_region", Kind::Text, None),
    def("s3_url_style", Kind::UrlStyle, Some("vhost")),
    def("s3_use_ssl", Kind::Bool, Some("true")),
    def("s3_url_compatibility_mode", Kind::Bool, Some("false")),
    def("s3_kms_key_id", Kind::Text, None),
    def("s3_requester_pays", Kind::Bool, Some("false")),
    def("s3_uploader_max_filesize", Kind::Size, Some("800GB")),
    def(
        "s3_uploader_max_parts_per_file",
        Kind::Positive,
        Some("10000"),
    ),
    def("s3_uploader_thread_limit", Kind::Positive, Some("50")),
    def("http_retries", Kind::Count, Some("3")),
    def(
        "partitioned_write_max_open_files",
        Kind::Positive,
        Some("100"),
    ),
    def(
        "partitioned_write_flush_threshold",
        Kind::Positive,
        Some("524288"),
    ),
    def("http_retry_wait_ms", Kind::Count, Some("100")),
    def("http_retry_backoff", Kind::Number, Some("4")),
    def("http_timeout", Kind::Positive, Some("30")),
    def("http_keep_alive", Kind::Bool, Some("true")),
    // DuckDB lists keys flat or folder by folder as it finds them; s3sql
    // always chooses its own way (glob-list). The files found are the same.
    def("s3_allow_recursive_globbing", Kind::Bool, Some("true")),
    def("s3_version_id_pinning", Kind::Bool, Some("false")).only_default(
        "s3sql does not pin reads to an object's version id; it reads the current version, and a read \
         whose object is replaced midway fails ('changed during the read') rather than mixing versions: \
         leave s3_version_id_pinning false",
    ),
    def("http_proxy", Kind::Text, Some("")).only_default(NO_PROXY),
    def("http_proxy_username", Kind::Text, Some("")).only_default(NO_PROXY),
    def("http_proxy_password", Kind::Sensitive, Some("")).only_default(NO_PROXY),
];

/// Why a proxy setting can only be empty.
const NO_PROXY: &str = "s3sql does not send requests through an HTTP proxy: \
    it connects to the endpoint directly, so the http_proxy settings can only be '' (no proxy)";

/// Whether `name` is a setting this module owns: one of [`DEFINITIONS`],
/// or any `s3_*` / `http_*` name (so a misspelt one gets our error, which
/// lists the accepted names, rather than DataFusion's).
pub(crate) fn is_ours(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("s3_") || lower.starts_with("http_") || definition(&lower).is_ok()
}

/// Whether `name` holds a credential (`s3_secret_access_key`,
/// `s3_session_token`), never shown back or echoed in errors.
pub(crate) fn is_sensitive(name: &str) -> bool {
    definition(name).is_ok_and(|d| d.kind == Kind::Sensitive)
}

fn definition(name: &str) -> Result<&'static Definition> {
    DEFINITIONS
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let accepted: Vec<&str> = DEFINITIONS.iter().map(|d| d.name).collect();
            PlannerError::Setting {
                name: name.to_ascii_lowercase(),
                message: format!(
                    "unknown setting; the s3, http and COPY settings are: {}",
                    accepted.join(", ")
                ),
            }
        })
}

/// The values SET in one session, by setting name; unset names have
/// their default.
#[derive(Default)]
pub(crate) struct Settings {
    values: RwLock<BTreeMap<&'static str, String>>,
}

impl fmt::Debug for Settings {
    /// Names with the values SHOW gives, so sensitive ones read `redacted`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&'static str> = self.read().keys().copied().collect();
        let mut map = f.debug_map();
        for name in names {
            if let Ok((name, value)) = self.show(name) {
                map.entry(&name, &value);
            }
        }
        map.finish()
    }
}

impl Settings {
    /// `SET name = value`: checked against the setting's type and kept in
    /// its canonical text.
    pub(crate) fn set(&self, name: &str, value: &str) -> Result<()> {
        let def = definition(name)?;
        let text = canonical(def, value)?;
        if let Some(why) = def.only_default
            && def.default != Some(text.as_str())
        {
            return Err(PlannerError::Setting {
                name: def.name.to_owned(),
                message: why.to_owned(),
            });
        }
        self.write().insert(def.name, text);
        Ok(())
    }

    /// `RESET name`: back to the default.
    pub(crate) fn reset(&self, name: &str) -> Result<()> {
        let def = definition(name)?;
        self.write().remove(def.name);
        Ok(())
    }

    /// The value as `SHOW` gives it: the SET value or the default (`None`
    /// for NULL); sensitive values read `redacted` once set.
    pub(crate) fn show(&self, name: &str) -> Result<(&'static str, Option<String>)> {
        let def = definition(name)?;
        let value = match self.read().get(def.name) {
            Some(v) if def.kind == Kind::Sensitive && !v.is_empty() => Some("redacted".to_owned()),
            Some(v) => Some(v.clone()),
            None => def.default.map(str::to_owned),
        };
        Ok((def.name, value))
    }

    /// The value as `current_setting()` gives it, typed as in DuckDB
    /// (BOOLEAN, UBIGINT, FLOAT or VARCHAR).
    pub(crate) fn typed(&self, name: &str) -> Result<ScalarValue> {
        let def = definition(name)?;
        let (_, text) = self.show(def.name)?;
        Ok(match def.kind {
            Kind::Bool => ScalarValue::Boolean(text.map(|t| t == "true")),
            Kind::Count | Kind::Positive => ScalarValue::UInt64(text.and_then(|t| t.parse().ok())),
            Kind::Number => ScalarValue::Float32(text.and_then(|t| t.parse().ok())),
            Kind::Text | Kind::Sensitive | Kind::Endpoint | Kind::Size | Kind::UrlStyle => {
                ScalarValue::Utf8(text)
            }
        })
    }

    /// The type [`Self::typed`] gives `name`.
    pub(crate) fn data_type(name: &str) -> Result<DataType> {
        Ok(match definition(name)?.kind {
            Kind::Bool => DataType::Boolean,
            Kind::Count | Kind::Positive => DataType::UInt64,
            Kind::Number => DataType::Float32,
            Kind::Text | Kind::Sensitive | Kind::Endpoint | Kind::Size | Kind::UrlStyle => {
                DataType::Utf8
            }
        })
    }

    /// What requests use where the covering secret says nothing, from the
    /// `s3_*` values SET in this session (unset ones stay `None`, so the
    /// secret's and the client's own defaults apply).
    pub(crate) fn defaults(&self) -> SettingDefaults {
        let values = self.read();
        let text = |name: &str| values.get(name).filter(|v| !v.is_empty()).cloned();
        let flag = |name: &str| values.get(name).map(|v| v == "true");
        let settings = S3Settings {
            endpoint: text("s3_endpoint"),
            region: text("s3_region"),
            url_style: text("s3_url_style").and_then(|s| UrlStyle::parse(&s)),
            use_ssl: flag("s3_use_ssl"),
            url_compatibility_mode: flag("s3_url_compatibility_mode"),
            kms_key_id: text("s3_kms_key_id"),
            requester_pays: flag("s3_requester_pays"),
        };
        let credentials = text("s3_access_key_id").map(|id| {
            let mut c = Credentials::new(id, text("s3_secret_access_key").unwrap_or_default());
            c.session_token = text("s3_session_token").map(Into::into);
            c
        });
        SettingDefaults {
            settings,
            credentials,
        }
    }

    /// `partitioned_write_max_open_files`: how many files a partitioned
    /// COPY keeps open at once (DuckDB's default 100).
    pub(crate) fn max_open_files(&self) -> usize {
        self.read()
            .get("partitioned_write_max_open_files")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100)
    }

    /// `partitioned_write_flush_threshold`: how many rows a partitioned
    /// COPY keeps in memory, over the partitions without an open file,
    /// before writing them (DuckDB's default 524,288).
    pub(crate) fn flush_threshold(&self) -> usize {
        self.read()
            .get("partitioned_write_flush_threshold")
            .and_then(|v| v.parse().ok())
            .unwrap_or(524_288)
    }

    /// Applies the `http_*` and `s3_uploader_*` values SET in this session
    /// to a client's configuration (these are never on a secret):
    /// retries, timeouts, upload sizes and keep-alive.
    pub(crate) fn apply(&self, config: &mut ClientConfig) {
        let values = self.read();
        let number = |name: &str| values.get(name).and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = number("http_retries") {
            config.retry.max_retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(ms) = number("http_retry_wait_ms") {
            config.retry.initial_backoff = Duration::from_millis(ms);
        }
        if let Some(f) = values
            .get("http_retry_backoff")
            .and_then(|v| v.parse::<f64>().ok())
        {
            config.retry.backoff_multiplier = f;
        }
        if let Some(secs) = number("http_timeout") {
            config.connect_timeout = Duration::from_secs(secs);
            config.request_timeout = Duration::from_secs(secs);
        }
        if let Some(bytes) = values
            .get("s3_uploader_max_filesize")
            .and_then(|v| parse_size(v))
        {
            config.upload.max_file_size = bytes;
        }
        if let Some(n) = number("s3_uploader_max_parts_per_file") {
            config.upload.max_parts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = number("s3_uploader_thread_limit") {
            config.upload.max_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(keep_alive) = values.get("http_keep_alive") {
            config.keep_alive = keep_alive == "true";
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<&'static str, String>> {
        self.values.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<&'static str, String>> {
        self.values.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// `value` checked against the setting's kind, as the text SHOW gives back.
fn canonical(def: &Definition, value: &str) -> Result<String> {
    let wrong = |expected: &str| PlannerError::Setting {
        name: def.name.to_owned(),
        message: format!("expected {expected}, got '{value}'"),
    };
    let trimmed = value.trim();
    match def.kind {
        Kind::Text | Kind::Sensitive => Ok(value.to_owned()),
        Kind::Endpoint => refuse_endpoint_user_info(value)
            .map(|()| value.to_owned())
            .map_err(|e| PlannerError::Setting {
                name: def.name.to_owned(),
                message: e.to_string(),
            }),
        Kind::Bool => parse_bool(trimmed)
            .map(|b| b.to_string())
            .ok_or_else(|| wrong("true or false")),
        Kind::Count => trimmed
            .parse::<u64>()
            .map(|n| n.to_string())
            .map_err(|_| wrong("a whole number, 0 or more")),
        Kind::Positive => match trimmed.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n.to_string()),
            _ => Err(wrong("a whole number, 1 or more")),
        },
        // A FLOAT, as DuckDB's: past f32's range is refused, not infinite.
        Kind::Number => match trimmed.parse::<f32>() {
            Ok(f) if f.is_finite() && f >= 0.0 => Ok(f.to_string()),
            _ => Err(wrong("a number from 0 to 3.4e38")),
        },
        Kind::Size => parse_size(trimmed)
            .map(|_| trimmed.to_owned())
            .ok_or_else(|| wrong("a size such as 800GB, 64MiB or a number of bytes")),
        Kind::UrlStyle => match trimmed.to_ascii_lowercase().as_str() {
            s @ ("vhost" | "path") => Ok(s.to_owned()),
            _ => Err(wrong("'vhost' or 'path'")),
        },
    }
}

/// A byte size as DuckDB writes them: a number, then optionally a unit;
/// `KB`/`MB`/`GB`/`TB` count in thousands, `KiB`/`MiB`/`GiB`/`TiB` in 1024s.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "byte" | "bytes" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    // Refuse what a u64 cannot hold rather than saturate silently.
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_duckdb_units() {
        assert_eq!(parse_size("800GB"), Some(800_000_000_000));
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size(" 1.5 kb"), Some(1500));
        assert_eq!(parse_size("12345"), Some(12345));
        assert_eq!(parse_size("10 parsecs"), None);
        assert_eq!(parse_size("99999999999TiB"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn values_are_checked_against_the_setting() {
        let s = Settings::default();
        s.set("S3_USE_SSL", "off").unwrap();
        assert_eq!(s.show("s3_use_ssl").unwrap().1.as_deref(), Some("false"));
        assert!(s.set("http_retries", "-1").is_err());
        assert!(s.set("http_retries", "0").is_ok());
        for name in [
            "http_timeout",
            "s3_uploader_max_parts_per_file",
            "s3_uploader_thread_limit",
        ] {
            assert!(s.set(name, "0").is_err(), "{name} = 0 accepted");
        }
        assert!(s.set("http_retry_backoff", "NaN").is_err());
        assert!(s.set("s3_url_style", "virtual").is_err());
        let err = s.set("s3_regoin", "x").unwrap_err().to_string();
        assert!(err.contains("s3_region"), "{err}");
    }

    /// `SET s3_endpoint` refuses `user:password@` as CREATE SECRET's
    /// ENDPOINT does, with its message, so SHOW and current_setting never
    /// give the password back.
    #[test]
    fn an_endpoint_with_a_user_or_password_is_refused_at_set() {
        let s = Settings::default();
        for endpoint in [
            "user:pwcanary@127.0.0.1:1",
            "http://pwcanary@minio:9000/base",
        ] {
            let e = s.set("s3_endpoint", endpoint).unwrap_err().to_string();
            assert!(e.contains("carries a user name or password"), "{e}");
            assert!(!e.contains("pwcanary"), "{e}");
            assert_eq!(s.show("s3_endpoint").unwrap().1, None);
        }
        s.set("s3_endpoint", "minio:9000/a@b").unwrap();
    }

    /// The DuckDB settings MinIO's guides and DuckDB scripts set, with
    /// DuckDB 1.5.5's types and defaults (review-8d #9: all were unknown).
    #[test]
    fn duckdb_connection_settings_are_known() {
        let s = Settings::default();
        for (name, default, data_type) in [
            ("http_keep_alive", "true", DataType::Boolean),
            ("s3_allow_recursive_globbing", "true", DataType::Boolean),
            ("s3_version_id_pinning", "false", DataType::Boolean),
            ("http_proxy", "", DataType::Utf8),
            ("http_proxy_username", "", DataType::Utf8),
            ("http_proxy_password", "", DataType::Utf8),
        ] {
            assert_eq!(s.show(name).unwrap().1.as_deref(), Some(default), "{name}");
            assert_eq!(Settings::data_type(name).unwrap(), data_type, "{name}");
            // The default can always be SET again.
            s.set(name, default).unwrap();
        }
        s.set("http_keep_alive", "false").unwrap();
        let mut config = ClientConfig::default();
        s.apply(&mut config);
        assert!(!config.keep_alive);
        s.set("s3_allow_recursive_globbing", "false").unwrap();
        assert!(s.set("http_keep_alive", "maybe").is_err());
        // What s3sql cannot do is refused, saying so, never ignored.
        let e = s
            .set("s3_version_id_pinning", "true")
            .unwrap_err()
            .to_string();
        assert!(e.contains("version id"), "{e}");
        for name in ["http_proxy", "http_proxy_username", "http_proxy_password"] {
            let e = s.set(name, "pw-canary").unwrap_err().to_string();
            assert!(e.contains("proxy"), "{e}");
            assert!(!e.contains("pw-canary"), "{e}");
            assert_eq!(s.show(name).unwrap().1.as_deref(), Some(""), "{name}");
        }
    }

    #[test]
    fn sensitive_values_never_show() {
        let s = Settings::default();
        s.set("s3_secret_access_key", "hunter2").unwrap();
        s.set("s3_session_token", "tok-en").unwrap();
        assert_eq!(
            s.show("s3_secret_access_key").unwrap().1.as_deref(),
            Some("redacted")
        );
        let debug = format!("{s:?} {:?}", s.defaults());
        assert!(
            !debug.contains("hunter2") && !debug.contains("tok-en"),
            "{debug}"
        );
    }

    #[test]
    fn set_values_reach_the_client_configuration() {
        let s = Settings::default();
        s.set("http_retries", "7").unwrap();
        s.set("http_timeout", "5").unwrap();
        s.set("s3_uploader_max_filesize", "1GiB").unwrap();
        let mut config = ClientConfig::default();
        s.apply(&mut config);
        assert_eq!(config.retry.max_retries, 7);
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        assert_eq!(config.upload.max_file_size, 1 << 30);
        assert!(s.defaults().settings.region.is_none());
    }
}
