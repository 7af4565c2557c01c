//! DuckDB's reader options (`read_csv`, `read_json`, `read_parquet`) as typed
//! keys with their aliases, parsed once into [`ReadOptions`]. Defaults are
//! DuckDB's and are documented on each field.

use std::collections::HashSet;

use datafusion::arrow::datatypes::DataType;

use crate::value::Coerce;
use crate::{Compression, FileFormat, FormatError, OptionValue, duckdb_type};

/// DuckDB's default `sample_size`: the rows (CSV) or records (JSON) whose
/// values decide the column types.
pub const DUCKDB_SAMPLE_SIZE: usize = 20_480;

/// DuckDB's default `files_to_sniff`: the files of a CSV glob whose
/// samples decide the column types.
pub const FILES_TO_SNIFF: usize = 10;

/// The column types of `types` (DuckDB's `types`/`dtypes`/`column_types`).
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnTypes {
    /// `{'col': 'TYPE', ...}`: overrides by column name; other columns keep the sniffed type.
    ByName(Vec<(String, DataType)>),
    /// `['TYPE', ...]`: overrides by position.
    ByPosition(Vec<DataType>),
}

/// How a JSON file lays out its records (`format` of `read_json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonFormat {
    /// Decide from the first bytes (`[` means an array); DuckDB's default.
    #[default]
    Auto,
    /// One JSON object per line (`newline_delimited`).
    NewlineDelimited,
    /// One top-level array of objects (`array`).
    Array,
    /// JSON values one after another, each laid out over any number of
    /// lines (`unstructured`: pretty-printed objects); read whole.
    Unstructured,
}

/// Typed DuckDB reader options, parsed from (name, value) pairs with aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// CSV field delimiter (`delim`, `sep`, `delimiter`); `None`: sniffed.
    pub delimiter: Option<u8>,
    /// CSV quote (`quote`); `None`: sniffed, `Some(None)`: no quoting (`quote = ''`).
    pub quote: Option<Option<u8>>,
    /// CSV escape (`escape`); `None`: sniffed, `Some(None)`: the quote doubled (DuckDB's default).
    pub escape: Option<Option<u8>>,
    /// Whether the first CSV row names the columns (`header`); `None`: sniffed.
    pub header: Option<bool>,
    /// Strings read as NULL (`nullstr`, `null`); empty: only the empty field, DuckDB's default.
    pub null_strings: Vec<String>,
    /// CSV comment character (`comment`): lines starting with it are skipped.
    pub comment: Option<u8>,
    /// Lines skipped before the CSV starts (`skip`); default 0.
    pub skip: u64,
    /// Column names replacing the sniffed ones, by position (`names`, `column_names`).
    pub names: Option<Vec<String>>,
    /// The full schema (`columns`): no type inference when given.
    pub columns: Option<Vec<(String, DataType)>>,
    /// Type overrides for some columns (`types`, `dtypes`, `column_types`).
    pub types: Option<ColumnTypes>,
    /// Date format (`dateformat`, `date_format`), strftime-style as in DuckDB.
    pub date_format: Option<String>,
    /// Timestamp format (`timestampformat`, `timestamp_format`), strftime-style.
    pub timestamp_format: Option<String>,
    /// Whole-file compression (`compression`); `None` is DuckDB's `auto`: from the name or bytes.
    pub compression: Option<Compression>,
    /// Combine files' columns by name rather than position (`union_by_name`); default false.
    pub union_by_name: bool,
    /// Keep reading past bad rows (`ignore_errors`); default false.
    pub ignore_errors: bool,
    /// Pad short CSV rows with NULLs (`null_padding`); default false.
    pub null_padding: bool,
    /// Name of the column holding each row's file (`filename = true` gives `filename`).
    pub filename: Option<String>,
    /// Read `key=value` path segments as columns (`hive_partitioning`); `None`: DuckDB's auto-detection.
    pub hive_partitioning: Option<bool>,
    /// Types of hive partition columns (`hive_types`).
    pub hive_types: Vec<(String, DataType)>,
    /// Infer hive partition column types (`hive_types_autocast`); default true.
    /// s3sql-planner reads it from the request: false keeps them VARCHAR.
    pub hive_types_autocast: bool,
    /// Sniff the dialect and types (`auto_detect`); default true.
    pub auto_detect: bool,
    /// Rows sampled for type inference (`sample_size`); `-1` (all rows) is `usize::MAX`; `None`: DuckDB's 20,480.
    /// For CSV the sample is at most the first [`crate::CSV_SAMPLE_BYTES`] of the first file, whatever the size.
    pub sample_size: Option<usize>,
    /// Read every CSV column as VARCHAR (`all_varchar`); default false.
    pub all_varchar: bool,
    /// The files of a CSV glob whose samples decide the column types
    /// (`files_to_sniff`); `-1` (all files) is `usize::MAX`; DuckDB's default
    /// [`FILES_TO_SNIFF`], 10.
    pub files_to_sniff: usize,
    /// JSON layout (`format`); default auto.
    pub json_format: JsonFormat,
    /// Largest JSON object in bytes (`maximum_object_size`); DuckDB's default is 16 MiB.
    /// arrow-json reads objects of any size, so a smaller limit is refused ([`crate::json_options`]).
    pub maximum_object_size: Option<u64>,
    /// Read Parquet BINARY columns as VARCHAR (`binary_as_string`); default false.
    pub binary_as_string: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: None,
            quote: None,
            escape: None,
            header: None,
            null_strings: Vec::new(),
            comment: None,
            skip: 0,
            names: None,
            columns: None,
            types: None,
            date_format: None,
            timestamp_format: None,
            compression: None,
            union_by_name: false,
            ignore_errors: false,
            null_padding: false,
            filename: None,
            hive_partitioning: None,
            hive_types: Vec::new(),
            hive_types_autocast: true,
            auto_detect: true,
            sample_size: None,
            all_varchar: false,
            files_to_sniff: FILES_TO_SNIFF,
            json_format: JsonFormat::Auto,
            maximum_object_size: None,
            binary_as_string: false,
        }
    }
}

/// Which readers accept a key.
#[derive(Clone, Copy)]
struct Readers {
    csv: bool,
    json: bool,
    parquet: bool,
}

const ALL: Readers = Readers {
    csv: true,
    json: true,
    parquet: true,
};
const TEXT: Readers = Readers {
    csv: true,
    json: true,
    parquet: false,
};
const CSV: Readers = Readers {
    csv: true,
    json: false,
    parquet: false,
};
const JSON: Readers = Readers {
    csv: false,
    json: true,
    parquet: false,
};
const PARQUET: Readers = Readers {
    csv: false,
    json: false,
    parquet: true,
};

impl Readers {
    fn accept(self, reader: FileFormat) -> bool {
        match reader {
            FileFormat::Csv => self.csv,
            FileFormat::Json => self.json,
            FileFormat::Parquet => self.parquet,
        }
    }
}

/// One option key: its canonical name first, then its aliases.
struct Key {
    names: &'static [&'static str],
    readers: Readers,
    apply: fn(&mut ReadOptions, &Coerce<'_>) -> Result<(), FormatError>,
}

/// A [`Key`] whose `apply` runs an assignment (or a check) and succeeds.
macro_rules! key {
    ($names:expr, $readers:expr, |$o:pat_param, $v:ident| $body:expr) => {
        Key {
            names: $names,
            readers: $readers,
            apply: |$o, $v| {
                $body;
                Ok(())
            },
        }
    };
}

/// Every option s3sql understands, in DuckDB's names.
const KEYS: &[Key] = &[
    key!(&["delim", "sep", "delimiter"], CSV, |o, v| o.delimiter =
        Some(v.char()?)),
    key!(&["quote"], CSV, |o, v| o.quote = Some(v.optional_char()?)),
    key!(&["escape"], CSV, |o, v| o.escape = Some(v.optional_char()?)),
    key!(&["header"], CSV, |o, v| o.header = Some(v.bool()?)),
    key!(&["nullstr", "null"], CSV, |o, v| o.null_strings =
        v.strings()?),
    key!(&["comment"], CSV, |o, v| o.comment = v.optional_char()?),
    key!(&["skip"], CSV, |o, v| o.skip = v.non_negative()?),
    key!(&["names", "column_names"], CSV, |o, v| o.names =
        Some(v.strings()?)),
    key!(&["columns"], TEXT, |o, v| o.columns = Some(typed_pairs(v)?)),
    key!(&["types", "dtypes", "column_types"], CSV, |o, v| o.types =
        Some(column_types(v)?)),
    key!(&["dateformat", "date_format"], TEXT, |o, v| o.date_format =
        Some(v.string()?)),
    key!(&["timestampformat", "timestamp_format"], TEXT, |o, v| o
        .timestamp_format =
        Some(v.string()?)),
    key!(&["compression"], TEXT, |o, v| o.compression =
        compression(v)?),
    key!(&["union_by_name"], ALL, |o, v| o.union_by_name =
        v.bool()?),
    key!(&["ignore_errors"], TEXT, |o, v| o.ignore_errors =
        v.bool()?),
    key!(&["null_padding"], CSV, |o, v| o.null_padding = v.bool()?),
    key!(&["filename"], ALL, |o, v| o.filename = filename(v)?),
    key!(&["hive_partitioning"], ALL, |o, v| o.hive_partitioning =
        Some(v.bool()?)),
    key!(&["hive_types"], ALL, |o, v| o.hive_types = typed_pairs(v)?),
    key!(&["hive_types_autocast"], ALL, |o, v| o
        .hive_types_autocast =
        v.bool()?),
    key!(&["auto_detect"], TEXT, |o, v| o.auto_detect = v.bool()?),
    key!(&["sample_size"], TEXT, |o, v| o.sample_size =
        Some(sample_size(v)?)),
    key!(&["new_line"], CSV, |_, v| new_line(v)?),
    key!(&["all_varchar"], CSV, |o, v| o.all_varchar = v.bool()?),
    key!(&["files_to_sniff"], CSV, |o, v| o.files_to_sniff =
        files_to_sniff(v)?),
    key!(&["encoding"], CSV, |_, v| encoding(v)?),
    // Accepted for compatibility: DataFusion decides parallelism and line lengths itself.
    key!(&["parallel"], CSV, |_, v| v.bool()?),
    key!(&["max_line_size", "maximum_line_size"], CSV, |_, v| v
        .non_negative()?),
    key!(&["format"], JSON, |o, v| o.json_format = json_format(v)?),
    key!(&["records"], JSON, |_, v| records(v)?),
    key!(&["maximum_object_size"], JSON, |o, v| o
        .maximum_object_size =
        Some(v.non_negative()?)),
    key!(&["binary_as_string"], PARQUET, |o, v| o.binary_as_string =
        v.bool()?),
];

impl ReadOptions {
    /// `dateformat` and `timestampformat`, together.
    pub fn temporal_formats(&self) -> crate::TemporalFormats {
        crate::TemporalFormats {
            date: self.date_format.clone(),
            timestamp: self.timestamp_format.clone(),
        }
    }

    /// Options for `reader` from SQL's (name, value) pairs; names are
    /// case-insensitive and aliases count as their key (giving both is an error).
    pub fn parse(
        reader: FileFormat,
        pairs: Vec<(String, OptionValue)>,
    ) -> Result<ReadOptions, FormatError> {
        let mut options = ReadOptions::default();
        let mut seen = HashSet::new();
        for (name, value) in pairs {
            let lower = name.to_ascii_lowercase();
            let key = KEYS
                .iter()
                .find(|k| k.readers.accept(reader) && k.names.contains(&lower.as_str()))
                .ok_or_else(|| FormatError::UnknownOption {
                    reader: reader.reader_name(),
                    name,
                    accepted: accepted_names(reader),
                })?;
            let canonical = key.names[0];
            if !seen.insert(canonical) {
                return Err(FormatError::DuplicateOption { name: canonical });
            }
            (key.apply)(
                &mut options,
                &Coerce {
                    option: canonical,
                    value: &value,
                },
            )?;
        }
        Ok(options)
    }
}

/// The option names `reader` accepts, aliases included, sorted.
fn accepted_names(reader: FileFormat) -> String {
    let mut names: Vec<&str> = KEYS
        .iter()
        .filter(|k| k.readers.accept(reader))
        .flat_map(|k| k.names.iter().copied())
        .collect();
    names.sort_unstable();
    names.join(", ")
}

fn typed_pairs(v: &Coerce<'_>) -> Result<Vec<(String, DataType)>, FormatError> {
    v.name_type_pairs()?
        .into_iter()
        .map(|(name, ty)| Ok((name, duckdb_type(&ty)?)))
        .collect()
}

fn column_types(v: &Coerce<'_>) -> Result<ColumnTypes, FormatError> {
    match v.value {
        OptionValue::List(_) => v
            .strings()?
            .iter()
            .map(|ty| duckdb_type(ty))
            .collect::<Result<_, _>>()
            .map(ColumnTypes::ByPosition),
        _ => typed_pairs(v).map(ColumnTypes::ByName),
    }
}

fn compression(v: &Coerce<'_>) -> Result<Option<Compression>, FormatError> {
    match v.string()?.to_ascii_lowercase().as_str() {
        "auto" | "infer" => Ok(None),
        "none" | "uncompressed" => Ok(Some(Compression::Uncompressed)),
        "gzip" | "gz" => Ok(Some(Compression::Gzip)),
        "zstd" | "zst" => Ok(Some(Compression::Zstd)),
        _ => Err(v.invalid("one of 'auto', 'none', 'gzip', 'zstd'")),
    }
}

fn filename(v: &Coerce<'_>) -> Result<Option<String>, FormatError> {
    match v.value {
        OptionValue::Str(s) if s.is_empty() => Err(v.invalid("true, false or a column name")),
        OptionValue::Str(s) if !matches!(s.to_ascii_lowercase().as_str(), "true" | "false") => {
            Ok(Some(s.clone()))
        }
        _ => Ok(v.bool()?.then(|| "filename".to_string())),
    }
}

fn sample_size(v: &Coerce<'_>) -> Result<usize, FormatError> {
    count_or_all(v, "a positive number of rows, or -1 for all")
}

fn files_to_sniff(v: &Coerce<'_>) -> Result<usize, FormatError> {
    count_or_all(v, "a number of files, 1 or more, or -1 for all")
}

/// A count of 1 or more, or -1 for all (`usize::MAX`).
fn count_or_all(v: &Coerce<'_>, wanted: &'static str) -> Result<usize, FormatError> {
    match v.int()? {
        -1 => Ok(usize::MAX),
        n if n > 0 => usize::try_from(n).map_err(|_| v.invalid(wanted)),
        _ => Err(v.invalid(wanted)),
    }
}

/// arrow-csv ends a record at `\n`, `\r` or `\r\n` alike, so every value DuckDB accepts works unchanged.
fn new_line(v: &Coerce<'_>) -> Result<(), FormatError> {
    match v.string()?.as_str() {
        "\\n" | "\n" | "\\r" | "\r" | "\\r\\n" | "\r\n" => Ok(()),
        _ => Err(v.invalid("'\\n', '\\r' or '\\r\\n'")),
    }
}

fn encoding(v: &Coerce<'_>) -> Result<(), FormatError> {
    match v.string()?.to_ascii_lowercase().replace('-', "").as_str() {
        "utf8" => Ok(()),
        _ => Err(v.invalid("'utf-8' (the only encoding arrow-csv reads)")),
    }
}

fn json_format(v: &Coerce<'_>) -> Result<JsonFormat, FormatError> {
    match v.string()?.to_ascii_lowercase().as_str() {
        "auto" => Ok(JsonFormat::Auto),
        "newline_delimited" | "nd" | "ndjson" => Ok(JsonFormat::NewlineDelimited),
        "array" => Ok(JsonFormat::Array),
        "unstructured" => Ok(JsonFormat::Unstructured),
        _ => Err(v.invalid("one of 'auto', 'newline_delimited', 'array', 'unstructured'")),
    }
}

/// Only records that are objects become rows; DuckDB's `records = false` (one JSON column) is not offered.
fn records(v: &Coerce<'_>) -> Result<(), FormatError> {
    match v.value {
        OptionValue::Str(s) if s.eq_ignore_ascii_case("auto") => Ok(()),
        _ if v.bool()? => Ok(()),
        _ => Err(v.invalid("'auto' or true (records = false is not supported)")),
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
