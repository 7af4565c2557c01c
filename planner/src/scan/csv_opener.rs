//! Reading CSV with the DuckDB options DataFusion 55's `CsvSource` does not
//! hand to arrow-csv: `nullstr` (arrow's null regex, which `CsvSource` uses
//! for inference only), `skip` (lines dropped before the header),
//! `dateformat`/`timestampformat` and `ignore_errors`. Still arrow-csv's own
//! decoder; the byte stream in front of it (the skipped lines cut off), the
//! builder, and for the last three the columns differ: those are decoded as
//! text and converted here ([`TextColumns`]), so a value that does not
//! convert names its line, or under `ignore_errors` drops its row. Such
//! files are read whole, never split into byte ranges (`newlines_in_values`
//! is set for them).

use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use datafusion::arrow::array::new_null_array;
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::csv::reader::Decoder;
use datafusion::arrow::csv::reader::Format;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::config::CsvOptions;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileOpenFuture, FileOpener};
use datafusion::execution::object_store::ObjectStoreUrl;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt};
use regex::Regex;
use s3sql_formats::{CSV_SAMPLE_BYTES, EmptyLines, SkipLines, TemporalFormats, first_record_end};

use crate::scan::csv_sniff::{CsvSampler, FileDialects};
use crate::scan::named::FileName;
use crate::scan::text_columns::TextColumns;

/// What a CSV scan needs beyond DataFusion's `CsvOptions`.
#[derive(Debug, Clone)]
pub(crate) struct CsvExtras {
    /// Values read as NULL (`nullstr`), as arrow's null regex.
    pub null_regex: Option<Regex>,
    /// Lines dropped before the header (`skip`).
    pub skip: u64,
    /// Rows with a value that does not convert are dropped, as DuckDB does.
    pub ignore_errors: bool,
    /// `dateformat` / `timestampformat`.
    pub temporal: TemporalFormats,
    /// Columns are matched by their header's names, not their positions.
    pub union_by_name: bool,
    /// The first file's header, when a scan of several files with headers
    /// matches each file's columns to it by name, as DuckDB does: a file
    /// may order them otherwise or hold more.
    pub first_header: Option<FirstHeader>,
    /// The files have one column: an empty line is a NULL value, as in
    /// DuckDB ([`EmptyLines`]), which DataFusion's reader would drop.
    pub one_column: bool,
    /// The dialect DataFusion was given.
    pub options: CsvOptions,
    /// The files sniffed in another dialect (DuckDB sniffs each file).
    pub dialects: FileDialects,
    /// Sniffs the dialect of each file not sniffed while planning (past
    /// the first `files_to_sniff`) from the start of its read; `None`
    /// when every file was.
    pub late: Option<Arc<CsvSampler>>,
}

impl CsvExtras {
    /// Whether DataFusion's own reader would drop one of these options.
    pub(crate) fn needed(&self) -> bool {
        self.null_regex.is_some()
            || self.skip > 0
            || self.temporal.any()
            || self.ignore_errors
            || self.union_by_name
            || self.first_header.is_some()
            || self.one_column
            || self.dialects.any_differs(&self.options)
            || self.late.is_some()
    }
}

/// The header of the file a multi-file CSV scan takes its columns from.
#[derive(Debug, Clone)]
pub(crate) struct FirstHeader {
    /// The file's name, as the user wrote it.
    pub file: String,
    /// Its header's names, made unique.
    pub names: Vec<String>,
}

/// Opens one whole CSV file with arrow-csv's decoder, `extras` applied.
#[derive(Clone)]
pub(crate) struct CsvOpener {
    pub extras: Arc<CsvExtras>,
    pub store: Arc<dyn ObjectStore>,
    /// The URL `store` is registered under.
    pub store_url: ObjectStoreUrl,
    /// The logical file schema (without partition columns).
    pub file_schema: SchemaRef,
    /// The file columns to decode.
    pub file_indices: Vec<usize>,
    pub batch_size: usize,
    pub compression: FileCompressionType,
}

impl CsvOpener {
    /// arrow-csv's decoder of `schema`'s `projection` in dialect `o`, the
    /// first line a header when `header`.
    fn decoder(
        &self,
        o: &CsvOptions,
        schema: SchemaRef,
        header: bool,
        projection: Vec<usize>,
    ) -> Decoder {
        let mut builder = ReaderBuilder::new(schema)
            .with_header(header)
            .with_delimiter(o.delimiter)
            .with_quote(o.quote)
            .with_truncated_rows(o.truncated_rows.unwrap_or(false))
            .with_batch_size(self.batch_size)
            .with_projection(projection);
        if let Some(escape) = o.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(comment) = o.comment {
            builder = builder.with_comment(comment);
        }
        if let Some(terminator) = o.terminator {
            builder = builder.with_terminator(terminator);
        }
        if let Some(regex) = &self.extras.null_regex {
            builder = builder.with_null_regex(regex.clone());
        }
        builder.build_decoder()
    }
}

impl FileOpener for CsvOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let text = TextColumns::new(&self.extras, &self.file_schema, &self.file_indices);
        let decoded = text.decoded_schema(&self.file_schema);
        let header = self.extras.options.has_header.unwrap_or(true);
        let by_name = header && (self.extras.union_by_name || self.extras.first_header.is_some());
        // The file's dialect: as sniffed while planning, else sniffed from
        // the start of its read, else the scan's.
        let noted = self.extras.dialects.options(
            &self.store_url,
            &file.object_meta.location,
            &self.extras.options,
        );
        let late = match noted {
            Some(_) => None,
            None => self.extras.late.clone(),
        };
        let options = noted.unwrap_or_else(|| self.extras.options.clone());
        let opener = self.clone();
        let compression = self.compression;
        let skip = self.extras.skip;
        let name = match file.extensions.get::<FileName>() {
            Some(FileName(name)) => name.clone(),
            None => file.object_meta.location.to_string(),
        };
        let location = file.object_meta.location;
        let one_column = self.file_schema.fields().len() == 1;
        Ok(async move {
            let body = opener
                .store
                .get(&location)
                .await?
                .into_stream()
                .map_err(DataFusionError::from)
                .boxed();
            let mut body = compression.convert_stream(body)?;
            let mut options = options;
            if let Some(sampler) = late {
                let (head, rest) = split_head(body, |head| {
                    (head.len() >= CSV_SAMPLE_BYTES).then_some(CSV_SAMPLE_BYTES)
                })
                .await?;
                options = sampler
                    .options_of_text(&options, &head, &name)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                body = futures::stream::iter([Ok(head)]).chain(rest).boxed();
            }
            let bytes = skip_lines(body, skip);
            let mut rows_before = u64::from(header);
            let batches = match by_name {
                false => {
                    let projection = opener.file_indices.clone();
                    let decoder =
                        opener.decoder(&options, Arc::clone(&decoded), header, projection);
                    let bytes = empty_lines(&options, bytes, one_column);
                    decode(decoder, bytes).boxed()
                }
                true => {
                    let (line, rest) =
                        split_head(bytes, |head| first_record_end(head, &options, false)).await?;
                    let columns = ByName::new(&opener, &options, &decoded, &line, &name)?;
                    // The header read again by the decoder, so that its
                    // line numbers count it (review-8e #3).
                    let whole = futures::stream::iter([Ok(line)]).chain(rest).boxed();
                    let whole = empty_lines(&options, whole, columns.schema.fields().len() == 1);
                    let projection = columns.projection();
                    let decoder = opener.decoder(&options, columns.schema(), true, projection);
                    decode(decoder, whole)
                        .and_then(move |batch| std::future::ready(columns.arrange(batch)))
                        .boxed()
                }
            };
            Ok(batches
                .and_then(move |batch| {
                    let first_line = rows_before;
                    rows_before += batch.num_rows() as u64;
                    std::future::ready(text.convert(batch, first_line))
                })
                .boxed())
        }
        .boxed())
    }
}

/// `input` read in dialect `options` with each empty line a NULL value
/// when the file has `one_column` ([`EmptyLines`]).
fn empty_lines(
    options: &CsvOptions,
    input: BoxStream<'static, Result<Bytes>>,
    one_column: bool,
) -> BoxStream<'static, Result<Bytes>> {
    let Some(mut lines) = EmptyLines::new(options).filter(|_| one_column) else {
        return input;
    };
    input
        .map_ok(move |chunk| lines.mark(&chunk).map_or(chunk, Bytes::from))
        .boxed()
}

/// The start of `input` through the end `end_of` finds in what was read
/// so far (the first record read with a dialect, a header: through its
/// line end; a sample's length), all of it when `end_of` finds none, and
/// the rest.
async fn split_head(
    mut input: BoxStream<'static, Result<Bytes>>,
    mut end_of: impl FnMut(&[u8]) -> Option<usize>,
) -> Result<(Bytes, BoxStream<'static, Result<Bytes>>)> {
    let mut head = Vec::new();
    while let Some(chunk) = input.next().await {
        head.extend_from_slice(&chunk?);
        if let Some(end) = end_of(&head) {
            let mut head = Bytes::from(head);
            let rest = futures::stream::iter([Ok(head.split_off(end))]).chain(input);
            return Ok((head, rest.boxed()));
        }
    }
    Ok((Bytes::from(head), futures::stream::empty().boxed()))
}

/// One file's columns matched to the scan's by their header names
/// (`union_by_name`): arrow-csv reads by position, and files of one scan
/// may order their columns differently or lack some.
struct ByName {
    /// The file's columns, typed as the scan decodes them (text where the
    /// scan has no such column: never decoded).
    schema: SchemaRef,
    /// The file positions holding a column the scan reads, in file order.
    projection: Vec<usize>,
    /// For each column the scan reads: its place among the decoded ones,
    /// or `None` when this file lacks it (NULL).
    sources: Vec<Option<usize>>,
    /// The columns the scan reads, as decoded.
    output: SchemaRef,
}

impl ByName {
    /// The match for file `file` in dialect `options` whose header line is
    /// `header`, against the scan's `decoded` schema.
    fn new(
        opener: &CsvOpener,
        options: &CsvOptions,
        decoded: &SchemaRef,
        header: &Bytes,
        file: &str,
    ) -> Result<Self> {
        let names = header_names(options, header)?;
        // The scan column each file column is: by its name with
        // union_by_name, else by the first file's header.
        let column_of = |name: &String| match &opener.extras.first_header {
            Some(first) if !opener.extras.union_by_name => first
                .names
                .iter()
                .position(|h| h == name)
                .filter(|&i| i < decoded.fields().len()),
            _ => decoded.index_of(name).ok(),
        };
        // An empty file has no header to match, and no rows.
        if let Some(first) = &opener.extras.first_header
            && !opener.extras.union_by_name
            && !names.is_empty()
            && let Some(missing) = first.names.iter().find(|h| !names.contains(h))
        {
            return Err(DataFusionError::Execution(format!(
                "schema mismatch between the files: the header of {file} lacks column \
                 \"{missing}\" of the first file's, {}; read with union_by_name = true to match \
                 columns by name",
                first.file
            )));
        }
        let columns: Vec<Option<usize>> = names.iter().map(column_of).collect();
        let fields: Vec<Field> = names
            .iter()
            .zip(&columns)
            .map(|(name, column)| match column {
                Some(i) => decoded.field(*i).clone(),
                None => Field::new(name, DataType::Utf8, true),
            })
            .collect();
        let wanted: Vec<Field> = opener
            .file_indices
            .iter()
            .map(|&i| decoded.field(i).clone())
            .collect();
        let projection: Vec<usize> = (0..fields.len())
            .filter(|&p| columns[p].is_some_and(|c| opener.file_indices.contains(&c)))
            .collect();
        let sources = opener
            .file_indices
            .iter()
            .map(|&i| projection.iter().position(|&p| columns[p] == Some(i)))
            .collect();
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            projection,
            sources,
            output: Arc::new(Schema::new(wanted)),
        })
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn projection(&self) -> Vec<usize> {
        self.projection.clone()
    }

    /// A decoded batch in the scan's column order, NULL where the file
    /// lacks a column.
    fn arrange(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let columns = self
            .sources
            .iter()
            .zip(self.output.fields())
            .map(|(source, field)| match source {
                Some(i) => Arc::clone(batch.column(*i)),
                None => new_null_array(field.data_type(), rows),
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.output),
            columns,
            &options,
        )?)
    }
}

/// The names in CSV header line `line` (a leading byte order mark dropped),
/// made unique as the scan's column names are.
pub(crate) fn header_names(options: &CsvOptions, line: &[u8]) -> Result<Vec<String>> {
    let mut format = Format::default()
        .with_header(true)
        .with_delimiter(options.delimiter)
        .with_quote(options.quote);
    if let Some(escape) = options.escape {
        format = format.with_escape(escape);
    }
    if let Some(comment) = options.comment {
        format = format.with_comment(comment);
    }
    let line = s3sql_formats::strip_bom(line);
    let (names, _) = format.infer_schema(std::io::Cursor::new(line), Some(0))?;
    let mut names: Vec<String> = names.fields().iter().map(|f| f.name().clone()).collect();
    s3sql_formats::unique_names(names.iter_mut());
    Ok(names)
}

/// `input` without its first `skip` lines (each ended by `\n`, `\r\n` or
/// a lone `\r`).
pub(crate) fn skip_lines(
    input: BoxStream<'static, Result<Bytes>>,
    skip: u64,
) -> BoxStream<'static, Result<Bytes>> {
    if skip == 0 {
        return input;
    }
    let mut skipper = SkipLines::new(skip);
    input
        .map_ok(move |chunk| {
            let at = skipper.skip(&chunk);
            chunk.slice(at..)
        })
        .try_filter(|chunk| std::future::ready(!chunk.is_empty()))
        .boxed()
}

/// Record batches from arrow-csv's push decoder over a byte stream, as
/// DataFusion's own `deserialize_stream` drives it: a batch whenever the
/// decoder is full, and at the end an empty slice telling it the input is
/// over (so a last line without a line end is read).
fn decode(
    mut decoder: Decoder,
    input: BoxStream<'static, Result<Bytes>>,
) -> impl Stream<Item = Result<RecordBatch>> + Send {
    let mut input = input.fuse();
    let mut buffered = Bytes::new();
    let mut ended = false;
    futures::stream::poll_fn(move |cx| {
        loop {
            if buffered.is_empty() && !ended {
                match input.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        buffered = chunk;
                        continue;
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => ended = true,
                    Poll::Pending => return Poll::Pending,
                }
            }
            let decoded = match decoder.decode(&buffered) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Some(Err(e.into()))),
            };
            buffered = buffered.slice(decoded..);
            if decoded == 0 || ended {
                match decoder.flush() {
                    Ok(Some(batch)) => return Poll::Ready(Some(Ok(batch))),
                    Ok(None) if ended && buffered.is_empty() => return Poll::Ready(None),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(e.into()))),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static str]) -> BoxStream<'static, Result<Bytes>> {
        futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p.as_bytes())))
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    async fn text(stream: BoxStream<'static, Result<Bytes>>) -> String {
        let parts: Vec<Bytes> = stream.try_collect().await.unwrap();
        parts
            .iter()
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn skip_lines_drops_whole_lines_across_chunks() {
        let input = chunks(&["jun", "k 1\njunk", " 2\na,b\n", "1,2\n"]);
        assert_eq!(text(skip_lines(input, 2)).await, "a,b\n1,2\n");
        let input = chunks(&["a\nb\n"]);
        assert_eq!(text(skip_lines(input, 0)).await, "a\nb\n");
        let input = chunks(&["only\n"]);
        assert_eq!(text(skip_lines(input, 5)).await, "");
    }

    #[tokio::test]
    async fn decode_reads_every_row_across_chunks_and_batches() {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let decoder = ReaderBuilder::new(schema)
            .with_header(true)
            .with_batch_size(2)
            .with_null_regex(Regex::new("^NA$").unwrap())
            .build_decoder();
        // Lines cut across chunks, and a last line without a line end.
        let input = chunks(&["a,b\n1,x", "\n2,NA\n3,", "z\n4,w\n5,v"]);
        let batches: Vec<RecordBatch> = decode(decoder, input).try_collect().await.unwrap();
        let a: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(a, [1, 2, 3, 4, 5]);
        assert!(batches.iter().all(|b| b.num_rows() <= 2));
        let b: Vec<Option<String>> = batches
            .iter()
            .flat_map(|batch| {
                let column = batch.column(1).as_string::<i32>();
                (0..column.len())
                    .map(|i| column.is_valid(i).then(|| column.value(i).to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let expected = [Some("x"), None, Some("z"), Some("w"), Some("v")];
        assert_eq!(b, expected.map(|v| v.map(String::from)));
    }
}
