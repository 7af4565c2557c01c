//! `DESCRIBE` and `SUMMARIZE` as DuckDB has them: of a query, a table or
//! view, or a file (`DESCRIBE 's3://b/k.parquet'`), with DuckDB's column
//! names and type names. DataFusion's own `DESCRIBE` takes only a table and
//! answers in arrow's type names, so these come before it.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::dataframe::DataFrame;
use datafusion::functions::math::expr_fn::round;
use datafusion::functions_aggregate::expr_fn::{approx_distinct, avg, count, max, min, stddev};
use datafusion::logical_expr::{Expr, cast, col, lit};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use datafusion::sql::sqlparser::dialect::DuckDbDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::Result;

/// Which of the two statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DescribeKind {
    /// One row per column: name, type, nullability.
    Describe,
    /// One row per column with its statistics (one scan of the input).
    Summarize,
}

/// `DESCRIBE x` or `SUMMARIZE x`, with `x` made a query.
#[derive(Debug)]
pub(crate) struct DescribeStatement {
    pub kind: DescribeKind,
    /// `SELECT * FROM x` for a table or file, else the query itself.
    pub query: DFStatement,
    /// `x` when it is a name (a table, a view, a database's object).
    pub relation: Option<String>,
}

/// What `SHOW` names besides a table, left to the other statements:
/// DataFusion's and MindsDB's listings and settings.
const SHOW_LISTINGS: [&str; 12] = [
    "ALL",
    "TABLES",
    "DATABASES",
    "COLUMNS",
    "FUNCTIONS",
    "VARIABLES",
    "SCHEMAS",
    "CATALOGS",
    "VIEWS",
    "TIMEZONE",
    "TIME",
    "DATAFUSION",
];

/// Parses `DESCRIBE`/`DESC`/`SUMMARIZE` followed by a query, a quoted file
/// or a table name, `SHOW 'file'`, and `SHOW name` (DuckDB's DESCRIBE of a table) unless
/// the name is a setting or a listing; `None` (nothing consumed) for
/// anything else.
pub(crate) fn parse(parser: &mut Parser<'_>) -> Result<Option<DescribeStatement>> {
    let kind = match parser.peek_token().token {
        Token::Word(w) if matches!(w.keyword, Keyword::DESCRIBE | Keyword::DESC) => {
            DescribeKind::Describe
        }
        Token::Word(w) if w.keyword == Keyword::SHOW && shows_a_table(parser) => {
            DescribeKind::Describe
        }
        Token::Word(w) if w.value.eq_ignore_ascii_case("SUMMARIZE") => DescribeKind::Summarize,
        _ => return Ok(None),
    };
    let mut relation = None;
    let query = match parser.peek_nth_token(1).token {
        Token::SingleQuotedString(file) => {
            parser.next_token();
            parser.next_token();
            select_all_from(&crate::statement::string_literal(&file))?
        }
        Token::LParen => {
            parser.next_token();
            parser.parse_query()?
        }
        Token::Word(w)
            if matches!(
                w.keyword,
                Keyword::SELECT | Keyword::WITH | Keyword::FROM | Keyword::VALUES
            ) =>
        {
            parser.next_token();
            parser.parse_query()?
        }
        // `DESCRIBE t`: only when the name ends the statement, so
        // DataFusion's other DESCRIBE forms still reach DataFusion.
        Token::Word(_) if kind == DescribeKind::Summarize || names_a_relation(parser) => {
            parser.next_token();
            let name = parser.parse_object_name(false)?.to_string();
            let query = select_all_from(&name)?;
            relation = Some(name);
            query
        }
        _ => return Ok(None),
    };
    Ok(Some(DescribeStatement {
        kind,
        query: DFStatement::Statement(Box::new(SqlStatement::Query(query))),
        relation,
    }))
}

/// Whether `SHOW` is followed by a quoted file (`SHOW 'k.csv'`, DuckDB's
/// DESCRIBE of the file) or by a name ending the statement that is
/// neither a setting of ours nor one of [`SHOW_LISTINGS`].
fn shows_a_table(parser: &Parser<'_>) -> bool {
    let first = match parser.peek_nth_token(1).token {
        Token::SingleQuotedString(_) => return true,
        Token::Word(first) => first,
        _ => return false,
    };
    let listing = SHOW_LISTINGS
        .iter()
        .any(|l| first.value.eq_ignore_ascii_case(l));
    !listing && !crate::settings::is_ours(&first.value) && names_a_relation(parser)
}

/// Whether the tokens after the keyword are a (dotted) name and then the
/// statement's end.
fn names_a_relation(parser: &Parser<'_>) -> bool {
    let mut i = 1;
    loop {
        if !matches!(parser.peek_nth_token(i).token, Token::Word(_)) {
            return false;
        }
        match parser.peek_nth_token(i + 1).token {
            Token::Period => i += 2,
            Token::SemiColon | Token::EOF => return true,
            _ => return false,
        }
    }
}

fn select_all_from(relation: &str) -> Result<Box<datafusion::sql::sqlparser::ast::Query>> {
    let dialect = DuckDbDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(&format!("SELECT * FROM {relation}"))?;
    Ok(parser.parse_query()?)
}

/// DuckDB's `DESCRIBE` rows: column_name, column_type, null, key, default,
/// extra. `null` is YES unless `declared` (a table's own columns) and the
/// column is NOT NULL: DuckDB says YES for every column of a query, a
/// file, a view and a CREATE TABLE AS.
pub(crate) fn describe(schema: &DFSchema, declared: bool) -> Result<RecordBatch> {
    let fields = schema.fields();
    let text = |values: Vec<Option<String>>| Arc::new(StringArray::from(values)) as ArrayRef;
    let none = || text(vec![None; fields.len()]);
    let columns = vec![
        text(fields.iter().map(|f| Some(f.name().clone())).collect()),
        text(fields.iter().map(|f| Some(duckdb_column_type(f))).collect()),
        text(
            fields
                .iter()
                .map(|f| {
                    let null = !declared || f.is_nullable();
                    Some(if null { "YES" } else { "NO" }.to_owned())
                })
                .collect(),
        ),
        none(),
        none(),
        none(),
    ];
    let names = [
        "column_name",
        "column_type",
        "null",
        "key",
        "default",
        "extra",
    ];
    let schema = Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// DuckDB's `SUMMARIZE` rows, from one aggregate pass over `input`: per
/// column its type, min, max, approx_unique (NULL for floats, booleans and
/// nested types, which DataFusion cannot estimate), for numbers avg, std
/// and the quartiles, for dates, times and timestamps avg and the
/// quartiles; then count and null_percentage. Values are DuckDB's text;
/// an integer or temporal column's quartiles are values of its type, as
/// DuckDB casts them (rounded half to even), a DECIMAL's whole numbers (of
/// its values rounded, as DuckDB's), its avg a double or, for a DATE, a
/// TIMESTAMP.
pub(crate) async fn summarize(input: DataFrame) -> Result<RecordBatch> {
    const STATS: usize = 9;
    let zone =
        crate::shown_zone::session_zone(input.task_ctx().session_config().options()).to_owned();
    let fields: Vec<Field> = input
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    // Output column of each statistic of each column, where it applies.
    let mut aggregates: Vec<Expr> = vec![count(lit(1)).alias("rows")];
    let mut slots = vec![[None::<usize>; STATS]; fields.len()];
    let quartiles = crate::quartiles::quartiles();
    for (i, field) in fields.iter().enumerate() {
        let c = || col(datafusion::common::Column::from_name(field.name()));
        let kind = StatKind::of(field.data_type());
        let numeric = kind == StatKind::Numeric;
        let temporal = kind == StatKind::Temporal;
        let ordered = kind != StatKind::Other;
        let decimal = is_decimal(field.data_type());
        // The column as a double: numbers, or days and time units.
        let double = || match temporal {
            true => cast(cast(c(), DataType::Int64), DataType::Float64),
            false => cast(c(), DataType::Float64),
        };
        // What DuckDB takes the quartiles of: a DECIMAL rounded to whole
        // numbers (half away from zero, as its cast to an integer), so
        // its quartiles are whole numbers as an integer column's.
        let quartile_input = || match decimal {
            true => round(vec![double()]),
            false => double(),
        };
        // approx_distinct takes integers, strings and temporal values only.
        let distinct = ordered
            && !matches!(field.data_type(), DataType::Boolean)
            && !field.data_type().is_floating()
            && !decimal;
        let stats: [Option<Expr>; STATS] = [
            ordered.then(|| min(c())),
            ordered.then(|| max(c())),
            distinct.then(|| approx_distinct(c())),
            // DuckDB's avg of a DECIMAL is a DOUBLE (63.75, not 63.750000).
            (numeric && !decimal)
                .then(|| avg(c()))
                .or_else(|| (temporal || decimal).then(|| avg(double()))),
            numeric.then(|| stddev(cast(c(), DataType::Float64))),
            (numeric || temporal).then(|| quartiles.call(vec![quartile_input()])),
            None,
            None,
            Some(count(c())),
        ];
        for (j, stat) in stats.into_iter().enumerate() {
            if let Some(stat) = stat {
                slots[i][j] = Some(aggregates.len());
                aggregates.push(stat.alias(format!("s{i}_{j}")));
            }
        }
    }
    let batches = input.aggregate(vec![], aggregates)?.collect().await?;
    let Some(first) = batches.first() else {
        return Err(datafusion::error::DataFusionError::Internal(
            "SUMMARIZE: the aggregate returned no batch".into(),
        )
        .into());
    };
    let row = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)?;
    let cell = |slot: Option<usize>| -> Option<ArrayRef> {
        let column = row.column(slot?);
        (row.num_rows() > 0 && !column.is_null(0)).then(|| column.slice(0, 1))
    };
    let value = |slot: Option<usize>| cell(slot).map(|c| first_text(&c, &zone)).transpose();
    let number = |slot: Option<usize>| -> Result<Option<u64>> {
        Ok(value(slot)?.and_then(|v| v.parse().ok()))
    };
    let rows = number(Some(0))?.unwrap_or(0);
    let mut out: Vec<Vec<Option<String>>> = vec![Vec::new(); 9];
    let (mut unique, mut counts, mut null_percentages) = (Vec::new(), Vec::new(), Vec::new());
    for (field, slot) in fields.iter().zip(&slots) {
        out[0].push(Some(field.name().clone()));
        out[1].push(Some(duckdb_column_type(field)));
        out[2].push(value(slot[0])?);
        out[3].push(value(slot[1])?);
        unique.push(number(slot[2])?);
        let kind = StatKind::of(field.data_type());
        let double = |array: ArrayRef| array.as_primitive::<Float64Type>().value(0);
        out[4].push(match kind {
            StatKind::Temporal => cell(slot[3])
                .map(|mean| stat_text(double(mean), field.data_type(), true, &zone))
                .transpose()?,
            _ => value(slot[3])?,
        });
        out[5].push(value(slot[4])?);
        let quartiles = cell(slot[5]).map(|list| list.as_list::<i32>().value(0));
        for (k, at) in (6..9).enumerate() {
            let quartile = quartiles
                .as_ref()
                .map(|q| q.as_primitive::<Float64Type>().value(k));
            out[at].push(
                quartile
                    .map(|q| stat_text(q, field.data_type(), false, &zone))
                    .transpose()?,
            );
        }
        counts.push(rows);
        let nulls = rows.saturating_sub(number(slot[8])?.unwrap_or(0));
        // Hundredths of a percent, DuckDB's DECIMAL(9,2).
        null_percentages.push(if rows == 0 {
            0
        } else {
            (10_000.0 * nulls as f64 / rows as f64).round() as i128
        });
    }
    let text =
        |values: &Vec<Option<String>>| Arc::new(StringArray::from(values.clone())) as ArrayRef;
    let columns: Vec<ArrayRef> = vec![
        text(&out[0]),
        text(&out[1]),
        text(&out[2]),
        text(&out[3]),
        Arc::new(UInt64Array::from(unique)),
        text(&out[4]),
        text(&out[5]),
        text(&out[6]),
        text(&out[7]),
        text(&out[8]),
        Arc::new(UInt64Array::from(counts)),
        Arc::new(Decimal128Array::from(null_percentages).with_precision_and_scale(9, 2)?),
    ];
    let schema = Schema::new(vec![
        Field::new("column_name", DataType::Utf8, false),
        Field::new("column_type", DataType::Utf8, false),
        Field::new("min", DataType::Utf8, true),
        Field::new("max", DataType::Utf8, true),
        Field::new("approx_unique", DataType::UInt64, true),
        Field::new("avg", DataType::Utf8, true),
        Field::new("std", DataType::Utf8, true),
        Field::new("q25", DataType::Utf8, true),
        Field::new("q50", DataType::Utf8, true),
        Field::new("q75", DataType::Utf8, true),
        Field::new("count", DataType::UInt64, false),
        Field::new("null_percentage", DataType::Decimal128(9, 2), false),
    ]);
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// The (non-null) first value of `array` as DuckDB shows it; a zoned
/// timestamp in the session's `zone`.
fn first_text(array: &ArrayRef, zone: &str) -> Result<String> {
    let array = crate::shown_zone::in_zone(array, zone)?;
    let options = crate::copy::format_options();
    let mut text = String::new();
    crate::copy::DuckText::try_new(array.as_ref(), "", &options)?.write(0, &mut text)?;
    Ok(text)
}

/// A quartile (or with `mean`, the avg) `value` of a column of type
/// `data_type`, computed as a double of its numbers, days or time units,
/// shown as DuckDB shows it: cast back to the column's type, rounded half
/// to even, but the avg of a DATE a TIMESTAMP and of a number a double.
fn stat_text(value: f64, data_type: &DataType, mean: bool, zone: &str) -> Result<String> {
    use DataType::*;
    let whole = value.round_ties_even();
    let units = |units: f64, to: &DataType| -> Result<ArrayRef> {
        let units: ArrayRef = Arc::new(Int64Array::from(vec![units as i64]));
        Ok(datafusion::arrow::compute::cast(&units, to)?)
    };
    let array: ArrayRef = match data_type {
        t if (t.is_integer() || is_decimal(t)) && !mean => return Ok((whole as i128).to_string()),
        Date32 if mean => units(
            (value * 86_400_000_000.0).round_ties_even(),
            &Timestamp(TimeUnit::Microsecond, None),
        )?,
        Date32 => Arc::new(Date32Array::from(vec![whole as i32])),
        Timestamp(..) | Time64(_) => units(whole, data_type)?,
        _ => Arc::new(Float64Array::from(vec![value])),
    };
    first_text(&array, zone)
}

fn is_decimal(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..)
    )
}

/// Which statistics a column's type has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatKind {
    /// min, max, approx_unique, avg, std, quartiles.
    Numeric,
    /// min, max, approx_unique, avg, quartiles: dates, times, timestamps.
    Temporal,
    /// min, max, approx_unique: strings, booleans (and DATE64, TIME32).
    Ordered,
    /// Only counts: lists, structs, binaries.
    Other,
}

impl StatKind {
    fn of(data_type: &DataType) -> Self {
        use DataType::*;
        match data_type {
            t if t.is_numeric() => Self::Numeric,
            Date32 | Time64(_) | Timestamp(..) => Self::Temporal,
            Boolean | Utf8 | LargeUtf8 | Utf8View | Date64 | Time32(_) => Self::Ordered,
            _ => Self::Other,
        }
    }
}

/// DuckDB's name for a column's type: [`duckdb_type_name`], or UUID and
/// JSON for the columns arrow marks with their canonical extension types
/// (a Parquet UUID or JSON column, as DuckDB writes them).
pub(crate) fn duckdb_column_type(field: &Field) -> String {
    if crate::copy::is_uuid(field) {
        "UUID".into()
    } else if crate::copy::is_json(field) && field.data_type().is_string() {
        "JSON".into()
    } else {
        duckdb_type_name(field.data_type())
    }
}

/// DuckDB's name for an arrow type (`BIGINT`, `VARCHAR`, `INTEGER[]`,
/// `STRUCT(a BIGINT)`), the inverse of the names `types` and `columns`
/// options accept; arrow's own name where DuckDB has none.
pub(crate) fn duckdb_type_name(data_type: &DataType) -> String {
    use DataType::*;
    match data_type {
        Null => "\"NULL\"".into(),
        Boolean => "BOOLEAN".into(),
        Int8 => "TINYINT".into(),
        Int16 => "SMALLINT".into(),
        Int32 => "INTEGER".into(),
        Int64 => "BIGINT".into(),
        UInt8 => "UTINYINT".into(),
        UInt16 => "USMALLINT".into(),
        UInt32 => "UINTEGER".into(),
        UInt64 => "UBIGINT".into(),
        Float16 | Float32 => "FLOAT".into(),
        Float64 => "DOUBLE".into(),
        Utf8 | LargeUtf8 | Utf8View => "VARCHAR".into(),
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => "BLOB".into(),
        Date32 | Date64 => "DATE".into(),
        Time32(_) | Time64(_) => "TIME".into(),
        Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        Timestamp(TimeUnit::Second, None) => "TIMESTAMP_S".into(),
        Timestamp(TimeUnit::Millisecond, None) => "TIMESTAMP_MS".into(),
        Timestamp(TimeUnit::Microsecond, None) => "TIMESTAMP".into(),
        Timestamp(TimeUnit::Nanosecond, None) => "TIMESTAMP_NS".into(),
        Interval(_) | Duration(_) => "INTERVAL".into(),
        Decimal32(p, s) | Decimal64(p, s) => format!("DECIMAL({p},{s})"),
        Decimal128(p, s) | Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) => {
            format!("{}[]", duckdb_type_name(f.data_type()))
        }
        FixedSizeList(f, n) => format!("{}[{n}]", duckdb_type_name(f.data_type())),
        Struct(fields) => format!(
            "STRUCT({})",
            fields
                .iter()
                .map(|f| format!(
                    "{} {}",
                    quote_name(f.name()),
                    duckdb_type_name(f.data_type())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Map(entries, _) => match entries.data_type() {
            Struct(kv) if kv.len() == 2 => format!(
                "MAP({}, {})",
                duckdb_type_name(kv[0].data_type()),
                duckdb_type_name(kv[1].data_type())
            ),
            other => other.to_string(),
        },
        Dictionary(_, value) => duckdb_type_name(value),
        RunEndEncoded(_, value) => duckdb_type_name(value.data_type()),
        other => other.to_string(),
    }
}

/// A struct field's name as DuckDB prints it: bare when it is a plain
/// lower-case identifier, else double-quoted.
fn quote_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_names_for_arrow_types() {
        use DataType::*;
        let list = List(Arc::new(Field::new("item", Int32, true)));
        let record = Struct(
            vec![
                Field::new("fare", Float64, true),
                Field::new("Tip Rate", Utf8View, true),
            ]
            .into(),
        );
        for (data_type, name) in [
            (Int64, "BIGINT"),
            (Utf8View, "VARCHAR"),
            (Date32, "DATE"),
            (Timestamp(TimeUnit::Microsecond, None), "TIMESTAMP"),
            (
                Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "TIMESTAMP WITH TIME ZONE",
            ),
            (Decimal128(18, 3), "DECIMAL(18,3)"),
            (list, "INTEGER[]"),
            (record, "STRUCT(fare DOUBLE, \"Tip Rate\" VARCHAR)"),
        ] {
            assert_eq!(duckdb_type_name(&data_type), name);
        }
    }

    fn parsed(sql: &str) -> Option<(DescribeKind, String)> {
        let dialect = DuckDbDialect {};
        let mut parser = Parser::new(&dialect).try_with_sql(sql).unwrap();
        parse(&mut parser)
            .unwrap()
            .map(|d| (d.kind, d.query.to_string()))
    }

    #[test]
    fn each_form_becomes_a_query() {
        use DescribeKind::*;
        assert_eq!(
            parsed("DESCRIBE 's3://b/it''s.parquet'"),
            Some((Describe, "SELECT * FROM 's3://b/it''s.parquet'".into()))
        );
        assert_eq!(
            parsed("desc select a from t"),
            Some((Describe, "SELECT a FROM t".into()))
        );
        assert_eq!(
            parsed("DESCRIBE main.trips;"),
            Some((Describe, "SELECT * FROM main.trips".into()))
        );
        assert_eq!(
            parsed("SUMMARIZE trips"),
            Some((Summarize, "SELECT * FROM trips".into()))
        );
        assert_eq!(
            parsed("SHOW 'k.csv'"),
            Some((Describe, "SELECT * FROM 'k.csv'".into()))
        );
        assert_eq!(parsed("SELECT 1"), None);
        // DataFusion's own forms are left to it.
        assert_eq!(parsed("DESCRIBE trips extra"), None);
    }
}
