//! The crate's one error type: every message names the option, the value or
//! the file to fix.

/// What went wrong while detecting a format, sniffing a dialect or reading
/// DuckDB's reader options.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// An option name the reader does not know (or one that belongs to another reader).
    #[error("{reader} has no option '{name}'; it accepts: {accepted}")]
    UnknownOption {
        /// The reader function, e.g. `read_csv`.
        reader: &'static str,
        /// The name as the user wrote it.
        name: String,
        /// The accepted option names, comma-separated.
        accepted: String,
    },
    /// The same option given twice (directly or through an alias).
    #[error("option '{name}' is given more than once; keep one")]
    DuplicateOption {
        /// The canonical option name.
        name: &'static str,
    },
    /// An option's value has the wrong shape or is out of range.
    #[error("option '{option}' expects {expected}, got {got}")]
    InvalidOptionValue {
        /// The canonical option name.
        option: &'static str,
        /// What the option accepts.
        expected: &'static str,
        /// The value given, rendered.
        got: String,
    },
    /// A SQL type name in `types`/`columns`/`hive_types` that s3sql cannot map to Arrow.
    #[error("unknown type '{name}'; use one of: {accepted}")]
    UnknownType {
        /// The type as written.
        name: String,
        /// The accepted type names, comma-separated.
        accepted: &'static str,
    },
    /// The sample is not delimited text (NUL bytes, or not UTF-8).
    #[error(
        "the file does not look like CSV text ({reason}); check the format or the compression option"
    )]
    NotText {
        /// What gave it away.
        reason: String,
    },
    /// A compressed sample could not be decompressed.
    #[error(
        "the data ends early or does not decompress as {compression} (a cut upload, a damaged \
         file, or the wrong compression option?): {reason}"
    )]
    Decompress {
        /// The compression tried.
        compression: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// Two options that both decide the same thing.
    #[error("{options} both name the columns; keep one")]
    ConflictingOptions {
        /// The options, e.g. `names and columns`.
        options: &'static str,
    },
    /// `names` or `types` (by position) lists more columns than the file has.
    #[error(
        "option '{option}' lists {given} columns but the file has {found}; list at most {found}"
    )]
    TooManyColumns {
        /// The canonical option name.
        option: &'static str,
        /// How many the option lists.
        given: usize,
        /// How many the file has.
        found: usize,
    },
    /// `columns` does not list one column per column of the file.
    #[error(
        "option 'columns' lists {given} columns but the file has {found}; list every column, in order"
    )]
    ColumnCount {
        /// How many `columns` lists.
        given: usize,
        /// How many the file has.
        found: usize,
    },
    /// `types` names a column the file does not have.
    #[error(
        "option '{option}' names column '{name}', which the file does not have; its columns are: {columns}"
    )]
    UnknownColumn {
        /// The canonical option name.
        option: &'static str,
        /// The column as written.
        name: String,
        /// The file's columns, comma-separated.
        columns: String,
    },
    /// An option given with a value that needs another option beside it.
    #[error("{option} needs the option '{needs}' as well: {hint}")]
    NeedsOption {
        /// The option and its value, as written (`auto_detect = false`).
        option: &'static str,
        /// The canonical name of the option it needs.
        needs: &'static str,
        /// What the pair does, with an example.
        hint: &'static str,
    },
    /// An option DuckDB has whose effect s3sql cannot give: refused rather than ignored.
    #[error("option '{option}' is not supported by s3sql: {reason}")]
    Unsupported {
        /// The canonical option name.
        option: &'static str,
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// A record that does not decode: the message names the file, the line and the column.
    #[error("{message}")]
    Decode {
        /// The description, from [`crate::name_decode_error`].
        message: String,
    },
    /// `types` or `columns` gives a CSV column a type arrow-csv cannot decode.
    #[error(
        "column '{column}' cannot be read from CSV as {data_type}; CSV columns can be \
         BOOLEAN, integers, FLOAT, DOUBLE, DECIMAL, DATE, TIME, TIMESTAMP or VARCHAR: \
         read it as VARCHAR and convert it in SQL"
    )]
    UnreadableType {
        /// The column.
        column: String,
        /// The Arrow type asked for.
        data_type: String,
    },
    /// A file read as a JSON array ([`crate::JsonArrayValues`]) that is not one.
    #[error("the file is not a JSON array: {why} (byte {at})")]
    NotAJsonArray {
        /// What was found.
        why: &'static str,
        /// Where, counted from the file's first byte (0).
        at: u64,
    },
}
