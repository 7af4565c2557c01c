//! The columns of files read with `union_by_name`: every file's by name,
//! in order of first appearance, each nullable (a file lacking it reads
//! NULL there) and of a type every file's values fit, as DuckDB 1.5.5
//! widens them: integers to BIGINT; with a DECIMAL, the DECIMAL holding
//! both (INTEGER and DECIMAL(2,1) -> DECIMAL(11,1)); with a float, the
//! float; lists by their values (review-8e #25), structs field by field
//! (#26); timestamps of one zone to the finest unit, a DATE beside a
//! timestamp to that timestamp (review-s23 F4); anything else differing
//! to VARCHAR.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};

/// How the files' column names are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// Exactly (the CSV and JSON readers match a file's names so).
    Exact,
    /// In any case, the first file's spelling kept, as DuckDB binds names
    /// (Parquet: [`super::parquet_columns`] reads them so).
    AnyCase,
}

/// The union of `schemas`' columns, names matched by `names`.
pub(crate) fn union_schema(schemas: &[SchemaRef], names: Names) -> Schema {
    Schema::new(union_fields(
        schemas.iter().flat_map(|s| s.fields().iter()),
        names,
    ))
}

/// `fields` merged by name, each nullable and as wide as all of its.
fn union_fields<'a>(fields: impl Iterator<Item = &'a FieldRef>, names: Names) -> Vec<Field> {
    let same = |a: &str, b: &str| match names {
        Names::Exact => a == b,
        Names::AnyCase => a.eq_ignore_ascii_case(b),
    };
    let mut merged: Vec<Field> = Vec::new();
    for field in fields {
        match merged.iter_mut().find(|f| same(f.name(), field.name())) {
            Some(seen) => {
                let wide = wider(seen.data_type(), field.data_type());
                *seen = seen.clone().with_data_type(wide);
            }
            None => merged.push(field.as_ref().clone().with_nullable(true)),
        }
    }
    merged
}

/// A type both `a` and `b` values fit.
pub(crate) fn wider(a: &DataType, b: &DataType) -> DataType {
    if a == b || *b == DataType::Null {
        return a.clone();
    }
    if *a == DataType::Null {
        return b.clone();
    }
    match (a, b) {
        (DataType::List(x), DataType::List(y)) => DataType::List(wider_values(x, y)),
        (DataType::LargeList(x), DataType::LargeList(y)) => DataType::LargeList(wider_values(x, y)),
        // Struct fields are matched exactly: DataFusion's struct cast
        // matches them so (a field in another case would read NULL).
        (DataType::Struct(x), DataType::Struct(y)) => DataType::Struct(Fields::from(union_fields(
            x.iter().chain(y.iter()),
            Names::Exact,
        ))),
        // pandas' ns beside Spark's or DuckDB's µs: TIMESTAMP_NS, as DuckDB.
        (DataType::Timestamp(x, zone), DataType::Timestamp(y, other)) if zone == other => {
            DataType::Timestamp(*x.max(y), zone.clone())
        }
        (DataType::Date32 | DataType::Date64, timestamp @ DataType::Timestamp(..))
        | (timestamp @ DataType::Timestamp(..), DataType::Date32 | DataType::Date64) => {
            timestamp.clone()
        }
        (DataType::Float32 | DataType::Float64, DataType::Float32 | DataType::Float64) => {
            DataType::Float64
        }
        (float, other) | (other, float)
            if float.is_floating() && (other.is_integer() || decimal(other).is_some()) =>
        {
            float.clone()
        }
        _ if a.is_integer() && b.is_integer() => DataType::Int64,
        _ => match (decimal(a), decimal(b)) {
            (Some(x), Some(y)) => wider_decimal(x, y),
            _ => DataType::Utf8,
        },
    }
}

/// A list's value field as wide as both lists' values.
fn wider_values(x: &FieldRef, y: &FieldRef) -> FieldRef {
    Arc::new(
        x.as_ref()
            .clone()
            .with_data_type(wider(x.data_type(), y.data_type()))
            .with_nullable(true),
    )
}

/// The (integer digits, fraction digits) of a decimal or integer type.
fn decimal(t: &DataType) -> Option<(u8, i8)> {
    let digits = match t {
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            return Some((p.saturating_sub((*s).max(0).unsigned_abs()), *s));
        }
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        DataType::UInt64 => 20,
        _ => return None,
    };
    Some((digits, 0))
}

/// The DECIMAL holding both: the most integer digits and the most
/// fraction digits, at most 38 digits (DuckDB's widest).
fn wider_decimal((xi, xs): (u8, i8), (yi, ys): (u8, i8)) -> DataType {
    let scale = xs.max(ys).max(0);
    let precision = xi.max(yi).saturating_add(scale.unsigned_abs()).min(38);
    DataType::Decimal128(precision, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(a: DataType, b: DataType) -> DataType {
        let one = |t: DataType| Arc::new(Schema::new(vec![Field::new("x", t, false)]));
        let schema = union_schema(&[one(a), one(b)], Names::Exact);
        schema.field(0).data_type().clone()
    }

    #[test]
    fn widens_as_duckdb() {
        use DataType::*;
        assert_eq!(merged(Int32, Decimal128(2, 1)), Decimal128(11, 1));
        assert_eq!(merged(Int64, Decimal128(2, 1)), Decimal128(20, 1));
        assert_eq!(
            merged(Decimal128(5, 2), Decimal128(10, 1)),
            Decimal128(11, 2)
        );
        assert_eq!(merged(Int64, Decimal128(38, 10)), Decimal128(38, 10));
        assert_eq!(merged(Decimal128(2, 1), Float64), Float64);
        assert_eq!(merged(Int32, Float32), Float32);
        assert_eq!(merged(Int32, Int16), Int64);
        assert_eq!(merged(Int32, Utf8), Utf8);
        assert_eq!(merged(Decimal128(10, 0), Int32), Decimal128(10, 0));
        let ts = |unit| Timestamp(unit, None);
        use datafusion::arrow::datatypes::TimeUnit::*;
        assert_eq!(merged(ts(Nanosecond), ts(Microsecond)), ts(Nanosecond));
        assert_eq!(merged(ts(Millisecond), ts(Microsecond)), ts(Microsecond));
        assert_eq!(merged(Date32, ts(Microsecond)), ts(Microsecond));
        assert_eq!(merged(ts(Nanosecond), Date32), ts(Nanosecond));
        let zoned = Timestamp(Microsecond, Some("UTC".into()));
        assert_eq!(merged(ts(Microsecond), zoned), Utf8);
        let list = |t: DataType| DataType::new_list(t, true);
        assert_eq!(
            merged(list(Int32), list(Decimal128(2, 1))),
            list(Decimal128(11, 1))
        );
        let a = Struct(Fields::from(vec![Field::new("a", Int32, false)]));
        let b = Struct(Fields::from(vec![
            Field::new("a", Int32, false),
            Field::new("b", Utf8, false),
        ]));
        let ab = Struct(Fields::from(vec![
            Field::new("a", Int32, true),
            Field::new("b", Utf8, true),
        ]));
        assert_eq!(merged(a, b), ab);
    }

    #[test]
    fn parquet_names_match_in_any_case() {
        let schema =
            |name: &str| Arc::new(Schema::new(vec![Field::new(name, DataType::Int32, false)]));
        let any = union_schema(&[schema("ID"), schema("id")], Names::AnyCase);
        assert_eq!(any.fields().len(), 1);
        assert_eq!(any.field(0).name(), "ID");
        let exact = union_schema(&[schema("ID"), schema("id")], Names::Exact);
        assert_eq!(exact.fields().len(), 2);
    }
}
