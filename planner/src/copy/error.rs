//! [`CopyError`]: what a `COPY ... TO` statement got wrong, worded so the
//! user knows which option or target to change.

/// A `COPY ... TO` statement that cannot run as written, or a local file
/// that could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// An option COPY does not know.
    #[error("unknown COPY option {name}: the options are {accepted}")]
    UnknownOption {
        /// The option as written.
        name: String,
        /// Every option s3sql accepts, comma-separated.
        accepted: String,
    },
    /// An option of DuckDB's that s3sql does not implement yet.
    #[error("COPY option {name} is not supported yet")]
    Unsupported {
        /// The option as written.
        name: String,
    },
    /// An option's value has the wrong shape.
    #[error("COPY option {option}: expected {expected}, got {got}")]
    InvalidValue {
        /// The option's canonical name.
        option: &'static str,
        /// What the value should be.
        expected: &'static str,
        /// The value given.
        got: String,
    },
    /// A DATEFORMAT or TIMESTAMPFORMAT specifier DuckDB's strftime does not know.
    #[error(
        "COPY option {option}: {specifier} is not a strftime specifier DuckDB knows; use %Y %m %d %H %M %S, %f (microseconds), %g (milliseconds), %n (nanoseconds), %j %a %A %b %B %p %I %y %z %Z %c %x %X %T %u %w %U %W %V %G, %- before d j m y H I M S to drop leading zeros, %% for %"
    )]
    UnknownSpecifier {
        /// The option's canonical name.
        option: &'static str,
        /// The specifier as written.
        specifier: String,
    },
    /// An option that does not apply to the format written.
    #[error("COPY option {option} applies to {applies_to} only, not to FORMAT {format}")]
    WrongFormat {
        /// The option's canonical name.
        option: &'static str,
        /// The formats it applies to.
        applies_to: &'static str,
        /// The format being written.
        format: &'static str,
    },
    /// Two options that exclude each other.
    #[error("COPY options {0} and {1} cannot be combined: choose one")]
    Conflict(&'static str, &'static str),
    /// A partitioned COPY into a directory or prefix that holds files.
    #[error(
        "COPY target {url} is not empty: use OVERWRITE to delete what is there first, or OVERWRITE_OR_IGNORE to write beside it"
    )]
    NotEmpty {
        /// The target.
        url: String,
    },
    /// A PARTITION_BY column named twice.
    #[error("PARTITION_BY names {column} twice: name each column once")]
    RepeatedPartitionColumn {
        /// The column, as the query names it.
        column: String,
    },
    /// A PARTITION_BY column the query does not return.
    #[error("PARTITION_BY column {column} is not a column of the query (its columns: {columns})")]
    UnknownPartitionColumn {
        /// The column named.
        column: String,
        /// The query's columns, comma-separated.
        columns: String,
    },
    /// A FORCE_QUOTE column the files do not hold.
    #[error(
        "FORCE_QUOTE column {column} is not a column of the files written (their columns: {columns})"
    )]
    UnknownForceQuoteColumn {
        /// The column named.
        column: String,
        /// The files' columns, comma-separated.
        columns: String,
    },
    /// Every column is a partition column, so the files would have none.
    #[error(
        "every column is a PARTITION_BY column, so the files would have no columns: add WRITE_PARTITION_COLUMNS or a column that is not a partition"
    )]
    NoDataColumns,
    /// An INTERVAL value Parquet's INTERVAL (months, days and
    /// milliseconds, each an unsigned 32-bit number) cannot hold.
    #[error(
        "COPY to Parquet: column {column} holds {what}, which Parquet's INTERVAL (months, days and milliseconds, none negative) cannot hold; write FORMAT csv or json, or CAST the column to VARCHAR"
    )]
    IntervalNotInParquet {
        /// The column.
        column: String,
        /// What the value is.
        what: &'static str,
    },
    /// The target names no object.
    #[error("COPY target {url} names no object: give a key, e.g. 's3://bucket/out.parquet'")]
    NoKey {
        /// The target.
        url: String,
    },
    /// OVERWRITE could not delete an old file the COPY did not replace.
    #[error(
        "OVERWRITE wrote the new files but could not delete the old {url} ({failed} keys failed): {message}"
    )]
    NotDeleted {
        /// The first key that failed.
        url: String,
        /// How many keys of the batch failed.
        failed: usize,
        /// The server's message for the first.
        message: String,
    },
    /// OVERWRITE of a local directory whose files the user cannot mean to lose.
    #[error(
        "OVERWRITE refuses {path}: it is {reason}, and OVERWRITE deletes what is under its target; give the COPY a directory of its own, e.g. 'out'"
    )]
    UnsafeOverwrite {
        /// The target as written.
        path: String,
        /// What it is: the current directory, an ancestor of it, the root.
        reason: &'static str,
    },
    /// A COPY failed after some of its files were complete (those stay),
    /// or some of its uploads could not be aborted, or some files' writes
    /// lost their answers so that whether they were done is unknown.
    #[error("{error}{}", aftermath(finished, maybe_written, not_aborted))]
    Failed {
        /// What made the COPY fail.
        #[source]
        error: Box<crate::error::PlannerError>,
        /// The complete files, as URLs or paths.
        finished: Vec<String>,
        /// Files that may be there: their completion's answer was lost
        /// and nothing told whether it was done.
        maybe_written: Vec<String>,
        /// Files whose abort failed (uploads left open), described.
        not_aborted: Vec<String>,
    },
    /// A failed OVERWRITE deleted the new files it had completed (and
    /// those whose completion's answer was lost); the old files were
    /// never touched.
    #[error(
        "{error}; OVERWRITE left the target as it was: the old files stay, and the {deleted} new file(s) complete before the failure were deleted{}",
        maybe_deleted(*maybe_written)
    )]
    OverwriteUndone {
        /// What made the COPY fail.
        #[source]
        error: Box<crate::error::PlannerError>,
        /// How many new files were deleted.
        deleted: usize,
        /// How many files whose completion's answer was lost (done or
        /// not) were deleted too.
        maybe_written: usize,
    },
    /// An OVERWRITE that failed once it was replacing the old files: the
    /// target holds new files beside old ones the new layout would have
    /// replaced or deleted.
    #[error(
        "{error}; OVERWRITE failed while it replaced the old files, so the target now holds new and old files together (read together they mix the rows of two COPYs); {}{}; run the COPY again to replace them",
        mix(new, old),
        aftermath(&[], maybe_written, not_aborted)
    )]
    OverwritePartial {
        /// What made the COPY fail.
        #[source]
        error: Box<crate::error::PlannerError>,
        /// The new files complete, as URLs or paths.
        new: Vec<String>,
        /// New files that may be there (see [`CopyError::Failed`]).
        maybe_written: Vec<String>,
        /// The old files still there, as URLs or paths.
        old: Vec<String>,
        /// Files whose abort failed (uploads left open), described.
        not_aborted: Vec<String>,
    },
    /// The COPY was interrupted (Ctrl-C); every upload not complete was aborted.
    #[error("COPY interrupted: every file not complete was aborted, nothing half-written is left")]
    Interrupted,
    /// The COPY was interrupted (Ctrl-C) while it wrote in place to a
    /// FIFO, a device or a standard stream, which has received part of
    /// the rows: what was written there cannot be taken back.
    #[error(
        "COPY interrupted: {path} (a FIFO, device or standard stream, written in place) has received part of the rows, a partial file; what it received cannot be taken back"
    )]
    InterruptedInPlace {
        /// The file written in place.
        path: String,
    },
    /// Ctrl-C came while the COPY waited for a program to read the FIFO
    /// it writes to.
    #[error(
        "COPY interrupted while waiting for a program to read the FIFO {path}: nothing was written to it"
    )]
    InterruptedWaitingForReader {
        /// The FIFO.
        path: String,
    },
    /// The OS refused to open another file (EMFILE, ENFILE).
    #[error(
        "cannot write {path}: too many open files; {limit}: a partitioned COPY keeps up to partitioned_write_max_open_files open (default 100), so lower it (SET partitioned_write_max_open_files = 50) or raise the OS's limit"
    )]
    TooManyOpenFiles {
        /// The file that could not be opened.
        path: String,
        /// The OS's limit, in words.
        limit: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The program reading a FIFO or pipe closed it before the COPY ended.
    /// Kept apart from [`CopyError::Local`]: no `io::Error` of kind
    /// BrokenPipe is in its chain, which the CLI takes for its own
    /// output's reader going away and ends quietly (review-s24 F5).
    #[error(
        "cannot write {path}: the program reading it closed it before the COPY ended \
         (broken pipe); the rows it had not read are lost"
    )]
    ReaderClosed {
        /// The FIFO or pipe.
        path: String,
    },
    /// A local file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Local {
        /// The file or directory.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// The first few of `items`, then how many more.
fn list_some(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// The new and old files an OVERWRITE failing while it replaced the old
/// ones left.
fn mix(new: &[String], old: &[String]) -> String {
    format!(
        "the new file(s) complete: {} ({}); the old file(s) still there: {} ({})",
        new.len(),
        list_some(new),
        old.len(),
        list_some(old)
    )
}

/// What a failed OVERWRITE deleted besides the files it completed.
fn maybe_deleted(maybe_written: usize) -> String {
    match maybe_written {
        0 => String::new(),
        n => format!(
            ", with the {n} whose completion's answer was lost or not understood (written or not)"
        ),
    }
}

/// What a failed COPY left: the files complete, those that may be, the
/// uploads left open.
fn aftermath(finished: &[String], maybe_written: &[String], not_aborted: &[String]) -> String {
    let mut text = String::new();
    if !finished.is_empty() {
        text.push_str(&format!(
            "; before it failed, the COPY completed {} file(s), which stay: {}",
            finished.len(),
            list_some(finished)
        ));
    }
    if !maybe_written.is_empty() {
        text.push_str(&format!(
            "; {} file(s) may have been written (the answer to their completion was lost or not understood, and nothing told whether it was done; look at them before running the COPY again): {}",
            maybe_written.len(),
            list_some(maybe_written)
        ));
    }
    if !not_aborted.is_empty() {
        text.push_str(&format!(
            "; {} upload(s) could not be aborted and may stay open (list them with ListMultipartUploads, or let a lifecycle rule abort incomplete uploads): {}",
            not_aborted.len(),
            list_some(not_aborted)
        ));
    }
    text
}
