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
        "cannot decompress the sample as {compression}: {reason}; check the compression option"
    )]
    Decompress {
        /// The compression tried.
        compression: &'static str,
        /// The decoder's message.
        reason: String,
    },
}
