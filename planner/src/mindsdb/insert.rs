//! MindsDB's ``INSERT INTO ds.`key` [(columns)] VALUES ... | SELECT ...``:
//! appends rows to an existing object in its own format ([`super::append`]
//! writes the new version). This module decides what an INSERT
//! means: whether its table is a database's object ([`InsertStatement::resolve`];
//! any other two-part name is DataFusion's), what the old object is
//! ([`OldObject::of`]: the scan that reads it knows its ETag, CSV dialect
//! and JSON layout) and how the new rows map onto its columns
//! ([`Mapping`]: by name with a column list, missing ones NULL; by
//! position without; every value checked against the column's type, an
//! error naming the column).

use std::sync::Arc;

use crate::dialect::DuckDb;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, StringBuilder, new_null_array,
};
use datafusion::arrow::compute::filter;
use datafusion::arrow::compute::kernels::cmp::not_distinct;
use datafusion::arrow::compute::{CastOptions, can_cast_types, cast, cast_with_options};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, Float64Type, Schema, SchemaRef, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::datasource::TableProvider;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::error::DataFusionError;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    ObjectName, ObjectNamePart, Query, SetExpr, Statement as SqlStatement, TableObject,
};
use datafusion::sql::sqlparser::parser::Parser;
use s3sql_formats::{Compression, TimestampShape, compression_from_path, timestamp_shape};
use s3sql_s3_client::{ObjectUrl, Operation, S3ObjectStore};

use super::database::{Database, Databases};
use super::dated::{DatedColumns, refusal};
use super::error::DatabaseError;
use crate::copy::{CopyFormat, CopyOptions, TextCompression};
use crate::describe::duckdb_type_name;
use crate::error::{PlannerError, Result};
use crate::scan::table::FileTable;
use crate::timestamp_text::duckdb_text;

/// A parsed `INSERT INTO a.b ...`: a database's object when `a` is a
/// database when it runs, DataFusion's table `b` of schema `a` otherwise.
#[derive(Debug)]
pub(crate) struct InsertStatement(Box<SqlStatement>);

/// What an [`InsertStatement`] turned out to be.
pub(crate) enum Resolved {
    /// An append to a database's object.
    Object(Box<InsertTarget>),
    /// Not a database's: DataFusion runs it.
    DataFusion(DFStatement),
}

impl InsertStatement {
    /// Wraps an `INSERT` statement sqlparser parsed.
    pub(crate) fn new(statement: SqlStatement) -> Self {
        Self(Box::new(statement))
    }

    /// An append to a database's object when the table's first part names
    /// a database; the statement for DataFusion otherwise.
    pub(crate) fn resolve(self, databases: &Databases) -> Result<Resolved> {
        let SqlStatement::Insert(insert) = self.0.as_ref() else {
            return Ok(Resolved::DataFusion(DFStatement::Statement(self.0)));
        };
        let TableObject::TableName(table) = &insert.table else {
            return Ok(Resolved::DataFusion(DFStatement::Statement(self.0)));
        };
        if let Some(unquoted) = unquoted_key(table, databases)? {
            return Err(unquoted);
        }
        let (Some(database), Some(key)) = (identifier(table, 0), identifier(table, 1)) else {
            return Ok(Resolved::DataFusion(DFStatement::Statement(self.0)));
        };
        // A schema of the session keeps its tables (as in a SELECT).
        if databases.is_session_name(&database) {
            return Ok(Resolved::DataFusion(DFStatement::Statement(self.0)));
        }
        let Some(database) = databases.find(&database)? else {
            if let Some(missing) = super::missing_database(table, databases) {
                return Err(missing);
            }
            return Ok(Resolved::DataFusion(DFStatement::Statement(self.0)));
        };
        let name = format!("{}.`{key}`", database.name());
        if key.eq_ignore_ascii_case(super::resolve::FILES) {
            return Err(DatabaseError::Insert {
                table: name,
                message: format!(
                    "files is the database's listing table, not an object, and an object named `files` cannot be reached either (MindsDB has the same clash); INSERT appends to an object: INSERT INTO {}.`key` ...",
                    database.name()
                ),
            }
            .into());
        }
        let refuse = |what: &str| {
            Err(DatabaseError::Insert {
                table: name.clone(),
                message: format!("{what} is not supported on a database's object"),
            }
            .into())
        };
        if insert.or.is_some() || insert.ignore || insert.replace_into {
            return refuse("INSERT OR / IGNORE / REPLACE");
        }
        if insert.overwrite {
            return refuse("INSERT OVERWRITE");
        }
        if insert.on.is_some() {
            return refuse("ON CONFLICT");
        }
        if insert.returning.is_some() || insert.output.is_some() {
            return refuse("RETURNING");
        }
        if insert.partitioned.is_some() || !insert.after_columns.is_empty() {
            return refuse("PARTITION");
        }
        if !insert.assignments.is_empty() {
            return refuse("INSERT ... SET");
        }
        let Some(source) = insert.source.clone() else {
            return refuse("INSERT without VALUES or a query");
        };
        let columns = insert
            .columns
            .iter()
            .map(|c| match c.0.as_slice() {
                [ObjectNamePart::Identifier(ident)] => Ok(ident.value.clone()),
                _ => Err(PlannerError::from(DatabaseError::Insert {
                    table: name.clone(),
                    message: format!("the column {c} is not a column name"),
                })),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Resolved::Object(Box::new(InsertTarget {
            table: table.clone(),
            url: database.url(&key),
            database,
            name,
            columns,
            source,
        })))
    }
}

/// Part `n` of `name`, when `name` has exactly two plain parts.
fn identifier(name: &ObjectName, n: usize) -> Option<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(_), ObjectNamePart::Identifier(_)] => match &name.0[n] {
            ObjectNamePart::Identifier(ident) => Some(ident.value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `db.folder.file.csv` as an INSERT's table: sqlparser read a key's dots
/// as parts, and the user is told the backtick form, as a SELECT is;
/// `None` for any other name (a catalog's `c.schema.t` among them).
pub(crate) fn unquoted_key(
    table: &ObjectName,
    databases: &Databases,
) -> Result<Option<PlannerError>> {
    let [ObjectNamePart::Identifier(first), rest @ ..] = table.0.as_slice() else {
        return Ok(None);
    };
    if rest.len() < 2
        || databases.is_session_name(&first.value)
        || databases.find(&first.value)?.is_none()
    {
        return Ok(None);
    }
    let key = rest
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident.value.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".");
    Ok(Some(
        DatabaseError::Unquoted {
            database: first.value.clone(),
            key,
        }
        .into(),
    ))
}

/// An INSERT into a database's object.
#[derive(Debug)]
pub(crate) struct InsertTarget {
    /// The database signing every request.
    pub database: Arc<Database>,
    /// ``db.`key` ``, for messages.
    pub name: String,
    /// The object's `s3://` URL.
    pub url: String,
    table: ObjectName,
    /// The column list, as written (empty: every column, in order).
    columns: Vec<String>,
    source: Box<Query>,
}

impl InsertTarget {
    /// `SELECT * FROM db.`key``: the object's rows, read as any scan.
    pub(crate) fn old_rows(&self) -> Result<DFStatement> {
        let dialect = DuckDb;
        let query = Parser::new(&dialect)
            .try_with_sql(&format!("SELECT * FROM {}", self.table))?
            .parse_query()?;
        Ok(DFStatement::Statement(Box::new(SqlStatement::Query(query))))
    }

    /// The VALUES or query giving the new rows.
    pub(crate) fn new_rows(&self) -> DFStatement {
        DFStatement::Statement(Box::new(SqlStatement::Query(self.source.clone())))
    }

    /// The error planning [`Self::old_rows`] gave, in INSERT's words: a
    /// missing object suggests COPY; a read refused 400 says nothing was
    /// written.
    pub(crate) fn read_error(&self, error: PlannerError) -> PlannerError {
        match error {
            PlannerError::Glob(s3sql_glob_list::GlobError::NoMatch { .. }) => {
                DatabaseError::InsertMissing {
                    table: self.name.clone(),
                    url: self.url.clone(),
                }
                .into()
            }
            other => self.unread(other),
        }
    }

    /// `error`, when it is a HEAD or GET of the object refused 400, in
    /// INSERT's words: nothing was written. What such a 400 likely means
    /// (an object encrypted with its owner's key, SSE-C, which s3sql
    /// cannot send) the client's own hint says, in one place.
    pub(crate) fn unread(&self, error: PlannerError) -> PlannerError {
        let refused = client_error(&error)
            .and_then(s3sql_s3_client::Error::service)
            .is_some_and(|e| {
                e.status == 400
                    && matches!(
                        e.target.operation,
                        Operation::HeadObject | Operation::GetObject
                    )
            });
        if refused {
            self.error(format!(
                "{error}; the object could not be read, so nothing was written"
            ))
        } else {
            error
        }
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> PlannerError {
        DatabaseError::Insert {
            table: self.name.clone(),
            message: message.into(),
        }
        .into()
    }
}

/// The S3 client's error inside `error`, however deep (a scan's comes
/// through DataFusion and object_store).
pub(crate) fn client_error(error: &PlannerError) -> Option<&s3sql_s3_client::Error> {
    if let PlannerError::Client(e) = error {
        return Some(e);
    }
    let mut next = std::error::Error::source(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<s3sql_s3_client::Error>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// What INSERT keeps of the object it rewrites.
#[derive(Debug)]
pub(crate) struct OldObject {
    /// The ETag its reads are pinned to, which the new version replaces.
    pub etag: String,
    /// Its size in bytes, as listed.
    pub size: u64,
    /// Its columns (every one nullable: new rows may leave any out).
    pub schema: SchemaRef,
    /// How it is written again: its format, CSV dialect, JSON layout,
    /// compression.
    pub options: CopyOptions,
    /// A CSV's escape character, as sniffed: the old text is read with
    /// it, and the new rows written with it ([`super::splice::CsvQuoting`]).
    pub escape: Option<u8>,
    /// A CSV's comment character, as sniffed: its lines are no records to
    /// the checks of the old text ([`super::splice::CsvShape`]).
    pub comment: Option<u8>,
}

impl OldObject {
    /// The object the scan of [`InsertTarget::old_rows`] reads: `tables`
    /// are the tables that scan built.
    pub(crate) fn of(target: &InsertTarget, tables: &[Arc<dyn TableProvider>]) -> Result<Self> {
        let file_table = match tables {
            [table] => table.downcast_ref::<FileTable>(),
            _ => None,
        }
        .ok_or_else(|| target.error("the key does not name an object"))?;
        let files: Vec<_> = file_table.files().collect();
        let [file] = files.as_slice() else {
            return Err(target.error(format!(
                "the key matches {} objects; INSERT appends to one, name it without wildcards",
                files.len()
            )));
        };
        // A key with glob characters naming no object is read as a
        // pattern: the one object it matches is not the key as written.
        let written = ObjectUrl::parse(&target.url).map(|u| u.key().to_owned());
        let listed = S3ObjectStore::key_of(&file.object_meta.location);
        if let (Ok(written), Ok(listed)) = (written, listed)
            && written != listed
        {
            return Err(DatabaseError::InsertMissing {
                table: target.name.clone(),
                url: target.url.clone(),
            }
            .into());
        }
        let etag = file.object_meta.e_tag.clone().ok_or_else(|| {
            target.error("the server gave no ETag for the object, so a concurrent change could not be detected; nothing was written")
        })?;
        let format = file_table
            .first_format()
            .ok_or_else(|| target.error("the key does not name an object"))?
            .as_ref();
        let (mut escape, mut comment) = (None, None);
        let mut options = if let Some(csv) = format.downcast_ref::<CsvFormat>() {
            let csv = csv.options();
            escape = csv.escape;
            comment = csv.comment;
            let mut options = CopyOptions::defaults(CopyFormat::Csv);
            options.delimiter = csv.delimiter.into();
            options.quote = csv.quote;
            // The encoder doubles the quote, as the splice expects; it
            // rewrites the doubled quotes to the object's escape, if any.
            options.escape = Some(csv.quote);
            options.header = csv.has_header.unwrap_or(true);
            options
        } else if let Some(json) = format.downcast_ref::<JsonFormat>() {
            let mut options = CopyOptions::defaults(CopyFormat::Json);
            options.json_array = !json.is_newline_delimited();
            options
        } else if format.is::<ParquetFormat>() {
            CopyOptions::defaults(CopyFormat::Parquet)
        } else {
            return Err(target.error("s3sql cannot write this object's format"));
        };
        if options.format != CopyFormat::Parquet {
            options.text_compression = match compression_from_path(&target.url) {
                Compression::Uncompressed => TextCompression::None,
                Compression::Gzip => TextCompression::Gzip,
                Compression::Zstd => TextCompression::Zstd,
                other => {
                    return Err(target.error(format!(
                        "s3sql does not write {other:?} compression (gzip and zstd it does)"
                    )));
                }
            };
        }
        let schema = Arc::new(Schema::new(
            file_table
                .file_schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<Field>>(),
        ));
        Ok(Self {
            etag,
            size: file.object_meta.size,
            schema,
            options,
            escape,
            comment,
        })
    }
}

impl OldObject {
    /// Whether INSERT writes the old rows again (Parquet), rather than
    /// copying the old bytes as they are (text).
    pub(crate) fn rewrites_rows(&self) -> bool {
        self.options.format == CopyFormat::Parquet
    }
}

/// How batches of one schema become rows of the object: each object
/// column from a column of the batch (checked against the column's type)
/// or NULL.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// The rows' columns as encoded.
    schema: SchemaRef,
    /// The object's columns: every value must convert to its type.
    check: SchemaRef,
    from: Vec<Option<usize>>,
    /// The object's format: what its text cannot hold is refused.
    format: CopyFormat,
    /// For messages.
    table: String,
    /// Given columns that stand for the key's hive partitions (`year` of
    /// `year=2024/h.csv`): not written (the object holds none), but every
    /// value must be the key's (source column, name, value).
    hive: Vec<(usize, String, String)>,
    /// A JSON object's timestamp columns, by index, written as text in the
    /// shape of the object's own values ([`Mapping::write_timestamps_as`]).
    shapes: Vec<(usize, TimestampShape)>,
    /// A CSV object's text columns of dates in a non-ISO format, which
    /// take no date or time value ([`Mapping::refuse_dates_beside`]).
    dated: DatedColumns,
}

/// The hive partitions of `url`'s key (`name=value` folders), in order.
fn hive_partitions(url: &str) -> Vec<(String, String)> {
    let key = url.strip_prefix("s3://").unwrap_or(url);
    let mut segments: Vec<&str> = key.split('/').collect();
    segments.pop();
    segments
        .into_iter()
        .filter_map(|s| s.split_once('='))
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// A NaN or infinite float written with `array` (in a list, struct, map or
/// dictionary too; values under a NULL struct are not written, so not
/// looked at; a list's values are those its offsets cover).
fn non_finite(array: &dyn Array) -> Result<Option<f64>> {
    Ok(match array.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let as_f64 = cast(array, &DataType::Float64)?;
            as_f64
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .find(|v| !v.is_finite())
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            non_finite(list.values().slice(first, last - first).as_ref())?
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            non_finite(list.values().slice(first, last - first).as_ref())?
        }
        DataType::FixedSizeList(..) => non_finite(array.as_fixed_size_list().values().as_ref())?,
        DataType::Map(..) => non_finite(array.as_map().entries())?,
        DataType::Dictionary(..) => non_finite(array.as_any_dictionary().values().as_ref())?,
        DataType::Struct(_) => {
            let fields = array.as_struct();
            let valid = fields
                .logical_nulls()
                .filter(|n| n.null_count() > 0)
                .map(|n| BooleanArray::new(n.inner().clone(), None));
            for child in fields.columns() {
                let written = match &valid {
                    Some(valid) => filter(child.as_ref(), valid)?,
                    None => Arc::clone(child),
                };
                if let Some(v) = non_finite(written.as_ref())? {
                    return Ok(Some(v));
                }
            }
            None
        }
        _ => None,
    })
}

/// `array` cast to `to`; a date or time to text is DuckDB's text, as its
/// CSV writer writes it (`2024-05-06 01:02:03+00`, the zone kept;
/// `1 day 02:00:00`), not arrow's.
fn cast_value(
    array: &ArrayRef,
    to: &DataType,
    options: &CastOptions,
) -> std::result::Result<ArrayRef, ArrowError> {
    if array.data_type().is_temporal() && is_text(to) {
        let utc = crate::shown_zone::in_zone(array, crate::shown_zone::UTC)
            .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
        let text = duckdb_text(&utc).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
        return cast_with_options(&text, to, options);
    }
    cast_with_options(array, to, options)
}

/// The first JSON objects of `head`, the start of a JSON Lines text or of
/// an array's: as many as it holds whole.
fn first_records(head: &[u8]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut rest = s3sql_formats::strip_bom(head);
    let mut records = Vec::new();
    loop {
        let skip = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'[' | b','))
            .count();
        rest = &rest[skip..];
        let mut values =
            serde_json::Deserializer::from_slice(rest).into_iter::<serde_json::Value>();
        match values.next() {
            Some(Ok(serde_json::Value::Object(record))) => records.push(record),
            _ => return records,
        }
        rest = &rest[values.byte_offset()..];
    }
}

/// Whether `data_type` is text.
fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

impl Mapping {
    /// The old rows as they are (types only widened to nullable).
    pub(crate) fn identity(target: &InsertTarget, old: &OldObject) -> Self {
        Self {
            schema: Arc::clone(&old.schema),
            check: Arc::clone(&old.schema),
            from: (0..old.schema.fields().len()).map(Some).collect(),
            format: old.options.format,
            table: target.name.clone(),
            hive: Vec::new(),
            shapes: Vec::new(),
            dated: DatedColumns::default(),
        }
    }

    /// The new rows of `source`'s schema onto the object's columns: by the
    /// INSERT's column list, or by position without one. Columns that
    /// cannot be cast at all are refused here, before anything is written.
    /// In a CSV object a text value goes into a typed column converted
    /// ([`Mapping::apply`]). An object with no columns
    /// (empty) takes the new rows' columns, named by the column list or
    /// the query's names (VALUES has none: refused).
    pub(crate) fn new_rows(
        target: &InsertTarget,
        old: &OldObject,
        source: &Schema,
    ) -> Result<Self> {
        let given = source.fields().len();
        if !target.columns.is_empty() && target.columns.len() != given {
            return Err(target.error(format!(
                "{} columns were named but {given} values were given",
                target.columns.len()
            )));
        }
        if old.schema.fields().is_empty() {
            if target.columns.is_empty() && matches!(*target.source.body, SetExpr::Values(_)) {
                let names: Vec<String> = (1..=given).map(|i| format!("name{i}")).collect();
                return Err(target.error(format!(
                    "the object is empty, so it has no columns yet, and VALUES gives none: name them, e.g. INSERT INTO {} ({}) VALUES ... (a CSV gets them as its header)",
                    target.name,
                    names.join(", ")
                )));
            }
            return Ok(Self::columns_of(target, old, source));
        }
        let fields = old.schema.fields();
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        // `SELECT *` of a hive key gives its partition columns after the
        // file's, as DuckDB (and so MindsDB) reads it: taken as the key's.
        let partitions = hive_partitions(&target.url);
        let hive: Vec<(usize, String, String)> = if target.columns.is_empty()
            && given == fields.len() + partitions.len()
            && !partitions.is_empty()
            && partitions
                .iter()
                .zip(&source.fields()[fields.len()..])
                .all(|((name, _), field)| field.name().eq_ignore_ascii_case(name))
        {
            partitions
                .into_iter()
                .enumerate()
                .map(|(i, (name, value))| (fields.len() + i, name, value))
                .collect()
        } else {
            Vec::new()
        };
        let given = given - hive.len();
        let from = if target.columns.is_empty() {
            if given != fields.len() {
                return Err(target.error(format!(
                    "the object has {} columns ({}) but {given} values were given; name the columns to fill: INSERT INTO {} ({}) ...",
                    fields.len(),
                    names.join(", "),
                    target.name,
                    names.join(", ")
                )));
            }
            (0..given).map(Some).collect()
        } else {
            let mut from = vec![None; fields.len()];
            for (i, column) in target.columns.iter().enumerate() {
                let at = names
                    .iter()
                    .position(|n| n == column)
                    .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(column)))
                    .ok_or_else(|| {
                        target.error(format!(
                            "the object has no column {column}; its columns are {}",
                            names.join(", ")
                        ))
                    })?;
                if from[at].is_some() {
                    return Err(target.error(format!("the column {column} is named twice")));
                }
                from[at] = Some(i);
            }
            from
        };
        for (field, source_at) in fields.iter().zip(&from) {
            if let Some(at) = source_at {
                let given = source.field(*at).data_type();
                if !can_cast_types(given, field.data_type()) {
                    return Err(target.error(format!(
                        "column {} is {}, and a {} value cannot be converted to it",
                        field.name(),
                        duckdb_type_name(field.data_type()),
                        duckdb_type_name(given)
                    )));
                }
            }
        }
        Ok(Self {
            schema: Arc::clone(&old.schema),
            check: Arc::clone(&old.schema),
            from,
            format: old.options.format,
            table: target.name.clone(),
            hive,
            shapes: Vec::new(),
            dated: DatedColumns::default(),
        })
    }

    /// An empty object's columns: the new rows', named by the column list
    /// when there is one.
    fn columns_of(target: &InsertTarget, old: &OldObject, source: &Schema) -> Self {
        let fields: Vec<Field> = source
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let name = target.columns.get(i).unwrap_or(f.name());
                let data_type = if is_text(f.data_type()) {
                    DataType::Utf8
                } else {
                    f.data_type().clone()
                };
                Field::new(name, data_type, true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        Self {
            check: Arc::clone(&schema),
            schema,
            from: (0..source.fields().len()).map(Some).collect(),
            format: old.options.format,
            table: target.name.clone(),
            hive: Vec::new(),
            shapes: Vec::new(),
            dated: DatedColumns::default(),
        }
    }

    /// In a JSON object, writes the new values of each timestamp column in
    /// the shape of its values in `head`, the object's first records
    /// (`2024-01-01T00:00:00Z`: `2024-05-06T01:02:03Z`). DuckDB types such
    /// a column TIMESTAMP only while every value has one shape; COPY's
    /// `2024-05-06 01:02:03` beside them made it VARCHAR, read in the
    /// reader's zone.
    pub(crate) fn write_timestamps_as(&mut self, head: &[u8]) {
        let records = first_records(head);
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (at, (field, check)) in fields.iter_mut().zip(self.check.fields()).enumerate() {
            if !matches!(check.data_type(), DataType::Timestamp(_, None)) {
                continue;
            }
            let shape = records
                .iter()
                .find_map(|r| r.get(check.name()).and_then(serde_json::Value::as_str))
                .and_then(timestamp_shape);
            if let Some(shape) = shape {
                *field = Field::new(field.name(), DataType::Utf8, true);
                self.shapes.push((at, shape));
            }
        }
        self.schema = Arc::new(Schema::new(fields));
    }

    /// In a CSV object, refuses a date or time for each text column whose
    /// values in `head`, the object's first text, are dates in a format
    /// other than ISO ([`DatedColumns`]): written as DuckDB writes it, it
    /// would be a second format beside theirs.
    pub(crate) fn refuse_dates_beside(&mut self, head: &[u8], old: &OldObject) {
        self.dated = DatedColumns::of(head, old, &self.check);
    }

    /// `checked`, timestamps of column `column`, as text of `shape`.
    fn shaped(
        &self,
        checked: &ArrayRef,
        shape: TimestampShape,
        column: &Field,
    ) -> Result<ArrayRef> {
        let micros = cast(checked, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let mut text = StringBuilder::with_capacity(micros.len(), micros.len() * 24);
        for row in 0..micros.len() {
            let Some(time) = micros
                .is_valid(row)
                .then(|| micros.value_as_datetime(row))
                .flatten()
            else {
                text.append_null();
                continue;
            };
            let Some(value) = shape.write(time) else {
                return Err(self.insert_error(format!(
                    "column {} holds timestamps written without a fraction of a second, and the value {time} has one: written so, its readers would take the column for text; nothing was written (give whole seconds, e.g. date_trunc('second', ...))",
                    column.name()
                )));
            };
            text.append_value(value);
        }
        Ok(Arc::new(text.finish()))
    }

    fn insert_error(&self, message: String) -> PlannerError {
        DatabaseError::Insert {
            table: self.table.clone(),
            message,
        }
        .into()
    }

    /// The rows' columns as encoded.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// `batch` as rows of the object; a value that does not convert is an
    /// error naming its column.
    pub(crate) fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let options = CastOptions {
            safe: false,
            ..CastOptions::default()
        };
        for (at, name, value) in &self.hive {
            let given = cast_value(batch.column(*at), &DataType::Utf8, &CastOptions::default())
                .map_err(DataFusionError::from)?;
            let other = given
                .as_string::<i32>()
                .iter()
                .find(|v| v.is_some_and(|v| v != value));
            if let Some(Some(other)) = other {
                return Err(DatabaseError::Insert {
                    table: self.table.clone(),
                    message: format!(
                        "column {name} comes from the key's folder {name}={value}, not from the object, so a row with {name} = {other} cannot go into it; nothing was written (INSERT into the key of that partition)"
                    ),
                }
                .into());
            }
        }
        let columns = self
            .schema
            .fields()
            .iter()
            .zip(self.check.fields())
            .zip(&self.from)
            .enumerate()
            .map(|(i, ((field, check), from))| match from {
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
                Some(at) => {
                    let checked = cast_value(batch.column(*at), check.data_type(), &options)
                        .map_err(|source| {
                            PlannerError::from(DatabaseError::InsertValue {
                                table: self.table.clone(),
                                column: check.name().clone(),
                                data_type: duckdb_type_name(check.data_type()),
                                source,
                            })
                        })?;
                    if let Some((_, shape)) = self.shapes.iter().find(|(c, _)| *c == i) {
                        self.unchanged(batch.column(*at), &checked, check)?;
                        self.shaped(&checked, *shape, check)
                    } else if self.format == CopyFormat::Csv
                        && is_text(batch.column(*at).data_type())
                    {
                        self.converted_text(batch.column(*at), &checked, check)?;
                        Ok(checked)
                    } else if is_text(check.data_type())
                        && batch.column(*at).data_type().is_temporal()
                    {
                        if let Some(format) = self.dated.format_of(i) {
                            return Err(self.insert_error(refusal(
                                check.name(),
                                format,
                                batch.column(*at),
                            )));
                        }
                        // DuckDB's text of the value: nothing lost to check.
                        Ok(checked)
                    } else if field.data_type() == check.data_type() {
                        self.unchanged(batch.column(*at), &checked, check)?;
                        Ok(checked)
                    } else {
                        Ok(
                            cast_with_options(batch.column(*at), field.data_type(), &options)
                                .map_err(DataFusionError::from)?,
                        )
                    }
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        for (field, column) in self.schema.fields().iter().zip(&columns) {
            self.readable(field, column)?;
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }

    /// Refuses a value that would leave the object unreadable to s3sql or
    /// DuckDB: JSON has no NaN or Infinity (DuckDB writes the bare tokens,
    /// which s3sql's JSON reader and `JSON.parse` refuse), and a NUL in a
    /// CSV value makes the object look binary to s3sql's sniffer.
    fn readable(&self, field: &Field, column: &ArrayRef) -> Result<()> {
        let refuse = |what: &str, hint: &str| {
            Err(DatabaseError::Insert {
                table: self.table.clone(),
                message: format!(
                    "column {} would get {what}, which would leave the object unreadable ({hint}); nothing was written",
                    field.name()
                ),
            }
            .into())
        };
        match self.format {
            CopyFormat::Json => {
                if let Some(v) = non_finite(column.as_ref())? {
                    return refuse(
                        &format!("{v}"),
                        "JSON has no NaN or Infinity, at any depth; give NULL, or store it as text in a text column",
                    );
                }
            }
            CopyFormat::Csv if is_text(column.data_type()) => {
                let text = cast(column, &DataType::Utf8)?;
                if text
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .any(|v| v.contains('\0'))
                {
                    return refuse(
                        "a NUL character",
                        "s3sql reads a CSV holding NUL bytes as binary; remove it, e.g. replace(value, chr(0), '')",
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Text given for a CSV column of another type is written as its
    /// converted value (`'+9'` as `9`, `' 7'` into a DOUBLE as `7.0`,
    /// `'2024-3-1'` as `2024-03-01`, `'yes'` as `true`), as MindsDB's
    /// INSERT (DuckDB's) writes it: as given, text the sniffer does not
    /// read as the column's type turned the column into text for every
    /// reader (review-10g #7). A number written with a leading zero
    /// (`'02134'`) is refused: converting drops the zero.
    fn converted_text(&self, given: &ArrayRef, checked: &ArrayRef, column: &Field) -> Result<()> {
        if !column.data_type().is_numeric() {
            return Ok(());
        }
        let text = cast(given, &DataType::Utf8)?;
        let zero = text
            .as_string::<i32>()
            .iter()
            .position(|v| v.is_some_and(s3sql_formats::leading_zero));
        let changed = match zero {
            Some(row) => Some(row),
            None => digits_lost(text.as_string::<i32>(), checked)?,
        };
        match changed {
            Some(row) => Err(self.would_change(column, (&text, checked), row)),
            None => Ok(()),
        }
    }

    /// Refuses a value that `checked` (`given` converted to `column`'s
    /// type) does not hold exactly: arrow's casts drop a fraction (12.5 into
    /// BIGINT is 12), a time of day (into DATE) or leading zeros (`'00501'`
    /// into a number) without an error. Converted back, it must equal what
    /// was given. Types the comparison cannot take are not checked.
    fn unchanged(&self, given: &ArrayRef, checked: &ArrayRef, column: &Field) -> Result<()> {
        if given.data_type() == checked.data_type() {
            return Ok(());
        }
        let Ok(back) = cast(checked, given.data_type()) else {
            return Ok(());
        };
        let Ok(same) = not_distinct(given, &back) else {
            return Ok(());
        };
        let Some(row) = (0..same.len()).find(|&i| !same.value(i)) else {
            return Ok(());
        };
        Err(self.would_change(column, (given, checked), row))
    }

    /// The error for the value at `row` of `given`, which would change
    /// converting to `column`'s type (to `checked`'s).
    fn would_change(
        &self,
        column: &Field,
        (given, checked): (&ArrayRef, &ArrayRef),
        row: usize,
    ) -> PlannerError {
        let shown = |a: &ArrayRef| array_value_to_string(a, row).unwrap_or_default();
        DatabaseError::Insert {
            table: self.table.clone(),
            message: format!(
                "column {} is {} in the object, and the {} value {} would change converting to it (to {}); give a value of that type; nothing was written",
                column.name(),
                duckdb_type_name(column.data_type()),
                duckdb_type_name(given.data_type()),
                shown(given),
                shown(checked)
            ),
        }
        .into()
    }
}

/// The first row whose text, a number in plain notation, a float column
/// (`checked`, its conversion) does not hold exactly: the same round trip
/// a literal of that number makes (through DECIMAL of its digits), so
/// `'12345678901234567891'` into a DOUBLE is refused as the literal is,
/// where it was written `1.2345678901234567e+19` (review-10h #9). Numbers
/// of at most the float's safe digits (15 for a DOUBLE) always come back.
fn digits_lost(text: &StringArray, checked: &ArrayRef) -> Result<Option<usize>> {
    let safe = match checked.data_type() {
        DataType::Float64 => 15,
        DataType::Float32 => 6,
        DataType::Float16 => 3,
        _ => return Ok(None),
    };
    let wide = cast(checked, &DataType::Float64)?;
    for (row, value) in text.iter().enumerate() {
        let Some(number) = value.and_then(PlainNumber::parse) else {
            continue;
        };
        if number.significant <= safe || checked.is_null(row) {
            continue;
        }
        let back = cast(&wide.slice(row, 1), &DataType::Decimal128(38, number.scale))?;
        let back = back.as_primitive::<Decimal128Type>();
        if back.is_null(0) || back.value(0) != number.mantissa {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// A number written in plain notation (`-12.50`, `+7`, ` 3 `; no exponent):
/// its digits as an integer, its scale, and its significant digits.
struct PlainNumber {
    mantissa: i128,
    scale: i8,
    significant: usize,
}

impl PlainNumber {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = format!("{whole}{fraction}");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 38 {
            return None;
        }
        let significant = format!("{whole}{}", fraction.trim_end_matches('0'))
            .trim_start_matches('0')
            .len();
        let magnitude: i128 = digits.parse().ok()?;
        Some(Self {
            mantissa: if negative { -magnitude } else { magnitude },
            scale: i8::try_from(fraction.len()).ok()?,
            significant,
        })
    }
}
