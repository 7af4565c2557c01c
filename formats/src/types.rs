//! DuckDB's SQL type names (as written in `types`, `columns` and `hive_types`)
//! mapped to the Arrow types DataFusion reads into.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};

use crate::FormatError;
use crate::temporal::timestamp_tz;

/// The type names `duckdb_type` accepts, for error messages.
const ACCEPTED: &str = "BOOLEAN, TINYINT, SMALLINT, INTEGER, BIGINT, UTINYINT, USMALLINT, \
UINTEGER, UBIGINT, FLOAT, DOUBLE, DECIMAL(p,s), VARCHAR, BLOB, DATE, TIME, TIMESTAMP, \
TIMESTAMP_S, TIMESTAMP_MS, TIMESTAMP_NS, TIMESTAMPTZ, INTERVAL, UUID, JSON, and any of them \
followed by [] for a list";

/// What a DECIMAL may be, for its error (Arrow's Decimal128 holds 38 digits, as DuckDB's DECIMAL).
const DECIMAL_RANGE: &str = "DECIMAL(p,s) with a width p from 1 to 38 and a scale s from 0 to p";

/// DuckDB's default precision and scale for a bare `DECIMAL`.
const DEFAULT_DECIMAL: (u8, i8) = (18, 3);

/// The Arrow type for a DuckDB SQL type name (case-insensitive, with DuckDB's
/// aliases: `INT`, `INT8`, `STRING`, `TEXT`, `REAL`, `NUMERIC(p,s)`, ...).
/// DuckDB's timestamps are microseconds, and so are these.
pub fn duckdb_type(name: &str) -> Result<DataType, FormatError> {
    let unknown = || FormatError::UnknownType {
        name: name.to_string(),
        accepted: ACCEPTED,
    };
    let upper = name.trim().to_ascii_uppercase();
    if let Some(element) = upper.strip_suffix("[]") {
        let element = duckdb_type(element).map_err(|_| unknown())?;
        return Ok(DataType::List(Arc::new(Field::new_list_field(
            element, true,
        ))));
    }
    let (base, args) = match upper.split_once('(') {
        Some((base, rest)) => {
            let args = rest.strip_suffix(')').ok_or_else(unknown)?;
            (base.trim(), Some(args))
        }
        None => (upper.as_str(), None),
    };
    let words: Vec<&str> = base.split_whitespace().collect();
    let data_type = match (words.join(" ").as_str(), args) {
        ("DECIMAL" | "NUMERIC" | "DEC", args) => {
            decimal(args).ok_or_else(|| FormatError::UnknownType {
                name: name.to_string(),
                accepted: DECIMAL_RANGE,
            })?
        }
        ("VARCHAR" | "CHAR" | "BPCHAR" | "TEXT" | "STRING" | "NVARCHAR", _) => DataType::Utf8,
        (_, Some(_)) => return Err(unknown()),
        ("BOOLEAN" | "BOOL" | "LOGICAL", None) => DataType::Boolean,
        ("TINYINT" | "INT1", None) => DataType::Int8,
        ("SMALLINT" | "INT2" | "SHORT", None) => DataType::Int16,
        ("INTEGER" | "INT" | "INT4" | "SIGNED", None) => DataType::Int32,
        ("BIGINT" | "INT8" | "LONG", None) => DataType::Int64,
        ("UTINYINT", None) => DataType::UInt8,
        ("USMALLINT", None) => DataType::UInt16,
        ("UINTEGER", None) => DataType::UInt32,
        ("UBIGINT", None) => DataType::UInt64,
        // Arrow has no 128-bit integer: 38 digits hold all but the last ~0.7e38 of HUGEINT's range.
        ("HUGEINT", None) => DataType::Decimal128(38, 0),
        ("FLOAT" | "FLOAT4" | "REAL", None) => DataType::Float32,
        ("DOUBLE" | "FLOAT8" | "DOUBLE PRECISION", None) => DataType::Float64,
        ("BLOB" | "BYTEA" | "BINARY" | "VARBINARY", None) => DataType::Binary,
        ("DATE", None) => DataType::Date32,
        ("TIME", None) => DataType::Time64(TimeUnit::Microsecond),
        ("TIMESTAMP" | "DATETIME" | "TIMESTAMP_US", None) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        ("TIMESTAMP_S", None) => DataType::Timestamp(TimeUnit::Second, None),
        ("TIMESTAMP_MS", None) => DataType::Timestamp(TimeUnit::Millisecond, None),
        ("TIMESTAMP_NS", None) => DataType::Timestamp(TimeUnit::Nanosecond, None),
        ("TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE", None) => timestamp_tz(TimeUnit::Microsecond),
        ("INTERVAL", None) => DataType::Interval(IntervalUnit::MonthDayNano),
        // Arrow has no UUID or JSON type; DuckDB prints both as text.
        ("UUID" | "JSON", None) => DataType::Utf8,
        _ => return Err(unknown()),
    };
    Ok(data_type)
}

/// `DECIMAL`, `DECIMAL(p)` or `DECIMAL(p,s)` with 1 <= p <= 38 and 0 <= s <= p.
fn decimal(args: Option<&str>) -> Option<DataType> {
    let (precision, scale) = match args {
        None => DEFAULT_DECIMAL,
        Some(args) => {
            let mut parts = args.split(',').map(str::trim);
            let precision: u8 = parts.next()?.parse().ok()?;
            let scale: i8 = match parts.next() {
                Some(s) => s.parse().ok()?,
                None => 0,
            };
            if parts.next().is_some() {
                return None;
            }
            (precision, scale)
        }
    };
    let valid = (1..=38).contains(&precision) && scale >= 0 && scale as u8 <= precision;
    valid.then_some(DataType::Decimal128(precision, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_arrow_types() {
        let cases = [
            ("INTEGER", DataType::Int32),
            ("int", DataType::Int32),
            ("BIGINT", DataType::Int64),
            ("varchar", DataType::Utf8),
            ("VARCHAR(20)", DataType::Utf8),
            ("DOUBLE", DataType::Float64),
            ("double precision", DataType::Float64),
            ("REAL", DataType::Float32),
            ("DATE", DataType::Date32),
            ("BOOLEAN", DataType::Boolean),
            (
                "timestamp",
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
            (
                "TIMESTAMP_NS",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
            ),
            (
                "timestamp with time zone",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ),
            ("DECIMAL(10,2)", DataType::Decimal128(10, 2)),
            ("numeric( 5 , 0 )", DataType::Decimal128(5, 0)),
            ("DECIMAL(7)", DataType::Decimal128(7, 0)),
            ("DECIMAL", DataType::Decimal128(18, 3)),
            (
                "INTEGER[]",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int32, true))),
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(duckdb_type(name).unwrap(), expected, "{name}");
        }
    }

    #[test]
    fn decimals_wider_than_38_say_the_range() {
        for name in [
            "DECIMAL(40,2)",
            "DECIMAL(5,6)",
            "NUMERIC(0)",
            "DECIMAL(a,b)",
        ] {
            let err = duckdb_type(name).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains("from 1 to 38"),
                "{name}: {err}"
            );
        }
        assert_eq!(duckdb_type("HUGEINT").unwrap(), DataType::Decimal128(38, 0));
        assert_eq!(duckdb_type("BLOB").unwrap(), DataType::Binary);
        assert_eq!(
            duckdb_type("INTERVAL").unwrap(),
            DataType::Interval(IntervalUnit::MonthDayNano)
        );
    }

    #[test]
    fn bad_names_list_the_accepted_ones() {
        for name in ["INTEGR", "INTEGER(3)", "", "VARCHAR("] {
            let err = duckdb_type(name).unwrap_err().to_string();
            assert!(
                err.contains("BIGINT") && err.contains(name),
                "{name}: {err}"
            );
        }
    }
}
