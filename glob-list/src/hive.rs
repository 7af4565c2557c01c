//! Hive partitions: `key=value` directory segments become typed columns.
//!
//! DuckDB's rules: columns exist only when every file has the same keys in
//! the same order; values are URL-decoded; `NULL` and
//! `__HIVE_DEFAULT_PARTITION__` are NULL; a column's type is the first of
//! DATE, TIMESTAMP, BIGINT that fits every non-NULL value, else VARCHAR,
//! unless the caller names the type.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::GlobError;

/// Values that mean NULL in a hive path.
const NULL_VALUES: [&str; 2] = ["NULL", "__HIVE_DEFAULT_PARTITION__"];

/// The SQL type of a partition column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionType {
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS[.fff]` (or with `T`).
    Timestamp,
    /// A 64-bit integer.
    BigInt,
    /// Anything else.
    Varchar,
}

impl std::fmt::Display for PartitionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Date => "DATE",
            Self::Timestamp => "TIMESTAMP",
            Self::BigInt => "BIGINT",
            Self::Varchar => "VARCHAR",
        })
    }
}

/// A typed partition value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum PartitionValue {
    /// `NULL` or `__HIVE_DEFAULT_PARTITION__`.
    Null,
    /// A DATE.
    Date(NaiveDate),
    /// A TIMESTAMP.
    Timestamp(NaiveDateTime),
    /// A BIGINT.
    BigInt(i64),
    /// A VARCHAR.
    Varchar(String),
}

fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

impl PartitionValue {
    /// `raw` (already URL-decoded) as a value of type `ty`; `None` when it does not fit.
    pub fn parse(raw: &str, ty: PartitionType) -> Option<Self> {
        if NULL_VALUES.contains(&raw) {
            return Some(Self::Null);
        }
        match ty {
            PartitionType::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .map(Self::Date),
            PartitionType::Timestamp => parse_timestamp(raw)
                .or_else(|| {
                    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .map(Self::Timestamp),
            PartitionType::BigInt => raw.parse().ok().map(Self::BigInt),
            PartitionType::Varchar => Some(Self::Varchar(raw.to_owned())),
        }
    }

    /// This value's type (`None` for NULL).
    pub fn partition_type(&self) -> Option<PartitionType> {
        Some(match self {
            Self::Null => return None,
            Self::Date(_) => PartitionType::Date,
            Self::Timestamp(_) => PartitionType::Timestamp,
            Self::BigInt(_) => PartitionType::BigInt,
            Self::Varchar(_) => PartitionType::Varchar,
        })
    }
}

/// The `key=value` pairs of a key's directory segments, values URL-decoded,
/// in path order. The file name itself is never a partition.
pub fn partition_pairs(key: &str) -> Vec<(String, String)> {
    let Some((dirs, _file)) = key.rsplit_once('/') else {
        return Vec::new();
    };
    dirs.split('/')
        .filter_map(|segment| segment.split_once('='))
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| {
            let decoded = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            (name.to_owned(), decoded)
        })
        .collect()
}

/// The partition columns shared by a set of files, with their types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiveSchema {
    /// Column names and types, in name order (byte order, as DuckDB).
    pub columns: Vec<(String, PartitionType)>,
}

impl HiveSchema {
    /// Detects the columns of `keys`: `None` unless every key has the same
    /// partition names in the same order. Types come from `overrides` when
    /// named there, else from the values. The columns come in name order.
    pub fn detect<S: AsRef<str>>(
        keys: &[S],
        overrides: &HashMap<String, PartitionType>,
    ) -> Option<HiveSchema> {
        let mut all = keys.iter().map(|k| partition_pairs(k.as_ref()));
        let first = all.next()?;
        if first.is_empty() {
            return None;
        }
        let names: Vec<String> = first.iter().map(|(n, _)| n.clone()).collect();
        let mut values: Vec<Vec<String>> = names.iter().map(|_| Vec::new()).collect();
        for pairs in std::iter::once(first).chain(all) {
            if pairs.len() != names.len()
                || pairs.iter().zip(&names).any(|((n, _), want)| n != want)
            {
                return None;
            }
            for (i, (_, v)) in pairs.into_iter().enumerate() {
                values[i].push(v);
            }
        }
        let mut columns: Vec<(String, PartitionType)> = names
            .into_iter()
            .zip(values)
            .map(|(name, vals)| {
                let ty = overrides
                    .get(&name)
                    .copied()
                    .unwrap_or_else(|| infer_type(&vals));
                (name, ty)
            })
            .collect();
        columns.sort_by(|a, b| a.0.cmp(&b.0));
        Some(HiveSchema { columns })
    }

    /// The typed values of one key, in column order.
    pub fn values(&self, key: &str) -> Result<Vec<PartitionValue>, GlobError> {
        let pairs = partition_pairs(key);
        self.columns
            .iter()
            .map(|(name, ty)| {
                let raw = pairs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or(NULL_VALUES[0]);
                PartitionValue::parse(raw, *ty).ok_or_else(|| GlobError::PartitionType {
                    column: name.clone(),
                    value: raw.to_owned(),
                    key: key.to_owned(),
                    expected: ty.to_string(),
                })
            })
            .collect()
    }
}

/// Whether `raw` is a BIGINT as DuckDB's hive typing reads one: digits
/// after an optional `-`, no leading zero but `0` itself (`01` and `+1`
/// stay VARCHAR in DuckDB 1.5.5; a cast by `hive_types` reads them).
fn plain_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// The first of DATE, TIMESTAMP, BIGINT that every non-NULL value fits.
fn infer_type(values: &[String]) -> PartitionType {
    let present: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|v| !NULL_VALUES.contains(v))
        .collect();
    if present.is_empty() {
        return PartitionType::Varchar;
    }
    [
        PartitionType::Date,
        PartitionType::Timestamp,
        PartitionType::BigInt,
    ]
    .into_iter()
    .find(|ty| {
        present.iter().all(|v| {
            PartitionValue::parse(v, *ty).is_some()
                && (*ty != PartitionType::BigInt || plain_integer(v))
        })
    })
    .unwrap_or(PartitionType::Varchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded_and_exclude_the_file_name() {
        assert_eq!(
            partition_pairs("t/city=New%20York/d=2024-01-02/x=1.csv"),
            vec![
                ("city".to_owned(), "New York".to_owned()),
                ("d".to_owned(), "2024-01-02".to_owned())
            ]
        );
        assert!(partition_pairs("a=1").is_empty());
    }

    #[test]
    fn infers_types_consistently() {
        let keys = [
            "t/d=2024-01-02/ts=2024-01-02 10:00:00/n=1/s=a/f.parquet",
            "t/d=2024-01-03/ts=2024-01-03/n=__HIVE_DEFAULT_PARTITION__/s=2/f.parquet",
        ];
        let schema = HiveSchema::detect(&keys, &HashMap::new()).unwrap();
        let columns: Vec<(&str, PartitionType)> = schema
            .columns
            .iter()
            .map(|(n, t)| (n.as_str(), *t))
            .collect();
        assert_eq!(
            columns,
            [
                ("d", PartitionType::Date),
                ("n", PartitionType::BigInt),
                ("s", PartitionType::Varchar),
                ("ts", PartitionType::Timestamp),
            ]
        );
        let values = schema.values(keys[1]).unwrap();
        assert_eq!(values[1], PartitionValue::Null);
        assert_eq!(values[2], PartitionValue::Varchar("2".into()));
    }

    #[test]
    fn zero_padded_or_signed_integers_are_text_as_duckdb() {
        let typed = |values: &[&str]| {
            let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
            infer_type(&values)
        };
        assert_eq!(typed(&["01", "02", "10"]), PartitionType::Varchar);
        assert_eq!(typed(&["+1"]), PartitionType::Varchar);
        assert_eq!(typed(&["-01"]), PartitionType::Varchar);
        assert_eq!(typed(&["0", "-0", "-3", "10"]), PartitionType::BigInt);
    }

    #[test]
    fn mismatched_keys_mean_no_partitions_and_overrides_win() {
        assert!(HiveSchema::detect(&["a=1/f", "b=1/f"], &HashMap::new()).is_none());
        let overrides = HashMap::from([("a".to_owned(), PartitionType::Varchar)]);
        let schema = HiveSchema::detect(&["a=1/f"], &overrides).unwrap();
        assert_eq!(
            schema.values("a=01/f").unwrap(),
            vec![PartitionValue::Varchar("01".into())]
        );
        let strict = HashMap::from([("a".to_owned(), PartitionType::Date)]);
        let schema = HiveSchema::detect(&["a=x/f"], &strict).unwrap();
        assert!(
            schema
                .values("a=x/f")
                .unwrap_err()
                .to_string()
                .contains("not a valid DATE")
        );
    }
}
