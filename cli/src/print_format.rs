//! Output formats: one enum, and one [`Printer`] per result set that
//! writes each record batch as it arrives. Only the boxed table waits for
//! the end (its widths depend on every shown row), and it keeps no more
//! than the rows it shows, as DuckDB's shell does.

use std::collections::VecDeque;
use std::io::Write;

use anyhow::Context;
use clap::ValueEnum;
use comfy_table::Table;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::json::writer::{JsonArray, LineDelimited};
use datafusion::arrow::json::{Writer as JsonWriter, WriterBuilder as JsonWriterBuilder};
use s3sql_planner::CsvRows;

/// How a result set is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintFormat {
    /// A boxed table, as DuckDB's shell draws it: at most 40 rows, the
    /// first and last 20 of a longer result.
    Table,
    /// Comma-separated, with a header line.
    Csv,
    /// Tab-separated, with a header line.
    Tsv,
    /// One JSON array of objects per result set.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// A Markdown table.
    Markdown,
}

/// Rows a boxed table shows, DuckDB shell's default `.maxrows`.
pub const MAX_ROWS: usize = 40;

impl PrintFormat {
    /// Starts printing one result set of `schema` to `out`.
    pub fn printer<'a>(
        self,
        out: &'a mut dyn Write,
        schema: &SchemaRef,
    ) -> anyhow::Result<Printer<'a>> {
        let json = matches!(self, Self::Json | Self::Jsonl);
        let texts = text_columns(schema, json);
        let schema = &shown_schema(schema, &texts);
        let header =
            || -> Vec<String> { schema.fields().iter().map(|f| f.name().clone()).collect() };
        let state = match self {
            Self::Csv | Self::Tsv => {
                let delimiter = if self == Self::Csv { ',' } else { '\t' };
                State::Csv {
                    out,
                    rows: Box::new(CsvRows::new(schema.clone(), delimiter)?),
                    empty: RecordBatch::new_empty(schema.clone()),
                }
            }
            Self::Json => State::Json(
                JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, JsonArray>(out),
            ),
            Self::Jsonl => State::Jsonl(
                JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, LineDelimited>(out),
            ),
            Self::Markdown => State::Markdown {
                out,
                header: Some(header()),
            },
            Self::Table => State::Table {
                out,
                rows: ShownRows::new(header(), MAX_ROWS),
            },
        };
        Ok(Printer {
            state,
            wrote: false,
            schema: schema.clone(),
            texts,
        })
    }
}

/// One result set being printed.
pub struct Printer<'a> {
    state: State<'a>,
    /// Whether a batch was written (CSV writes its header with the first).
    wrote: bool,
    /// The schema printed: the `texts` columns as text.
    schema: SchemaRef,
    /// The columns shown as DuckDB's text ([`text_columns`]).
    texts: Vec<usize>,
}

enum State<'a> {
    /// DuckDB's CSV text of the rows (LIST, STRUCT and MAP too), as its
    /// COPY writes it.
    Csv {
        out: &'a mut dyn Write,
        rows: Box<CsvRows>,
        /// For the header of an empty result.
        empty: RecordBatch,
    },
    Json(JsonWriter<&'a mut dyn Write, JsonArray>),
    Jsonl(JsonWriter<&'a mut dyn Write, LineDelimited>),
    /// The header until it is written.
    Markdown {
        out: &'a mut dyn Write,
        header: Option<Vec<String>>,
    },
    Table {
        out: &'a mut dyn Write,
        rows: ShownRows,
    },
}

impl Printer<'_> {
    /// Prints (or, for the table, keeps what it will show of) one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let shown;
        let batch = if self.texts.is_empty() {
            batch
        } else {
            shown = shown_batch(batch, &self.schema, &self.texts)?;
            &shown
        };
        match &mut self.state {
            State::Csv { out, rows, .. } => {
                out.write_all(&rows.write(batch).context("writing CSV")?)?;
            }
            State::Json(writer) => writer.write(batch).context("writing JSON")?,
            State::Jsonl(writer) => writer.write(batch).context("writing JSON lines")?,
            State::Markdown { out, header } => {
                if let Some(header) = header.take() {
                    write_markdown_header(out, &header)?;
                }
                for row in cells(batch, 0..batch.num_rows())? {
                    write_markdown_row(out, &row)?;
                }
            }
            State::Table { rows, .. } => rows.push(batch)?,
        }
        self.wrote = true;
        Ok(())
    }

    /// Ends the result set: the header of an empty one, JSON's closing
    /// bracket, the table itself.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.state {
            State::Csv {
                out,
                mut rows,
                empty,
            } => {
                if !self.wrote {
                    out.write_all(&rows.write(&empty).context("writing CSV")?)?;
                }
            }
            State::Json(mut writer) => {
                writer.finish().context("writing JSON")?;
                writeln!(writer.into_inner())?;
            }
            State::Jsonl(mut writer) => writer.finish().context("writing JSON lines")?,
            State::Markdown { out, header } => {
                if let Some(header) = header {
                    write_markdown_header(out, &header)?;
                }
            }
            State::Table { out, rows } => rows.print(out)?,
        }
        Ok(())
    }
}

fn write_markdown_header(out: &mut dyn Write, header: &[String]) -> anyhow::Result<()> {
    write_markdown_row(out, header)?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    Ok(())
}

fn write_markdown_row(out: &mut dyn Write, row: &[String]) -> anyhow::Result<()> {
    let escaped: Vec<String> = row.iter().map(|c| markdown_cell(c)).collect();
    writeln!(out, "| {} |", escaped.join(" | "))?;
    Ok(())
}

/// A value or a column name as one Markdown table cell: a `|` would end
/// the cell and a line break the row (review-8d #5), so `\|` and `<br>`.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// What a boxed table shows of a result of any length: its first rows and
/// a ring of its last ones, formatted, and how many rows went by.
#[derive(Debug)]
struct ShownRows {
    header: Vec<String>,
    head: Vec<Vec<String>>,
    tail: VecDeque<Vec<String>>,
    head_size: usize,
    tail_size: usize,
    total: usize,
}

impl ShownRows {
    fn new(header: Vec<String>, max_rows: usize) -> Self {
        let tail_size = max_rows / 2;
        Self {
            header,
            head: Vec::new(),
            tail: VecDeque::new(),
            head_size: max_rows - tail_size,
            tail_size,
            total: 0,
        }
    }

    /// Keeps the rows of `batch` that may be shown; formats no others.
    fn push(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let rows = batch.num_rows();
        self.total += rows;
        let to_head = (self.head_size - self.head.len()).min(rows);
        self.head.extend(cells(batch, 0..to_head)?);
        let rest = rows - to_head;
        let from = rows - rest.min(self.tail_size);
        for row in cells(batch, from..rows)? {
            if self.tail.len() == self.tail_size {
                self.tail.pop_front();
            }
            self.tail.push_back(row);
        }
        Ok(())
    }

    fn print(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let shown = self.head.len() + self.tail.len();
        let mut table = Table::new();
        table.set_header(self.header.iter().cloned());
        for row in self.head {
            table.add_row(row);
        }
        if shown < self.total {
            table.add_row(vec!["…"; self.header.len()]);
        }
        for row in self.tail {
            table.add_row(row);
        }
        writeln!(out, "{table}")?;
        if shown < self.total {
            writeln!(out, "{} rows ({shown} shown)", self.total)?;
        }
        Ok(())
    }
}

/// The columns printed as DuckDB's text: UUIDs ([`s3sql_planner::is_uuid`]),
/// and in JSON BLOBs (`"\\xFF\\x00A"` as DuckDB's JSON, where arrow's
/// writer gave hex, `"ff0041"`).
fn text_columns(schema: &SchemaRef, json: bool) -> Vec<usize> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let blob = matches!(
                f.data_type(),
                DataType::Binary
                    | DataType::LargeBinary
                    | DataType::BinaryView
                    | DataType::FixedSizeBinary(_)
            );
            s3sql_planner::is_uuid(f) || (json && blob)
        })
        .map(|(i, _)| i)
        .collect()
}

/// `schema` with the `texts` columns as text, as DuckDB shows them.
fn shown_schema(schema: &SchemaRef, texts: &[usize]) -> SchemaRef {
    if texts.is_empty() {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match texts.contains(&i) {
            true => Field::new(f.name(), DataType::Utf8, f.is_nullable()),
            false => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with its `texts` columns as DuckDB's text of a UUID
/// (`0b3b1e7e-8f6a-4c2d-9e1f-2a3b4c5d6e7f`) or a BLOB (`\xFF\x00A`), in
/// `schema`.
fn shown_batch(
    batch: &RecordBatch,
    schema: &SchemaRef,
    texts: &[usize],
) -> anyhow::Result<RecordBatch> {
    let mut columns = batch.columns().to_vec();
    for &i in texts {
        if !s3sql_planner::is_uuid(batch.schema_ref().field(i)) {
            columns[i] = s3sql_planner::duckdb_text(&columns[i])?;
            continue;
        }
        let bytes = columns[i].as_fixed_size_binary();
        let mut cell = String::new();
        let text: StringArray = (0..bytes.len())
            .map(|row| {
                bytes.is_valid(row).then(|| {
                    cell.clear();
                    s3sql_planner::push_uuid(bytes.value(row), &mut cell);
                    cell.clone()
                })
            })
            .collect();
        columns[i] = Arc::new(text) as ArrayRef;
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Rows `rows` of `batch` as display strings, DuckDB's text of each
/// value (the text `--format csv` prints), NULL spelled out.
fn cells(batch: &RecordBatch, rows: std::ops::Range<usize>) -> anyhow::Result<Vec<Vec<String>>> {
    Ok(s3sql_planner::duckdb_cells(batch, rows)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(from: i64, to: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(from..to))],
        )
        .unwrap()
    }

    /// A long result keeps its first and last rows only, whatever the
    /// batch sizes, and says how many it had.
    #[test]
    fn a_long_table_keeps_its_head_and_a_ring_of_its_tail() {
        for size in [1, 3, 7, 20, 1000, 8192] {
            let mut rows = ShownRows::new(vec!["n".into()], 6);
            let mut at = 0;
            while at < 10_000 {
                let next = (at + size).min(10_000);
                rows.push(&batch(at, next)).unwrap();
                at = next;
                assert!(rows.head.len() <= 3 && rows.tail.len() <= 3);
            }
            let flat = |v: Vec<Vec<String>>| v.into_iter().flatten().collect::<Vec<_>>();
            assert_eq!(flat(rows.head.clone()), ["0", "1", "2"], "{size}");
            assert_eq!(
                flat(rows.tail.iter().cloned().collect()),
                ["9997", "9998", "9999"]
            );
            let mut out = Vec::new();
            rows.print(&mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.ends_with("10000 rows (6 shown)\n"), "{text}");
            assert!(text.contains("| … "), "{text}");
        }
    }

    /// A Parquet UUID column (16 bytes marked `arrow.uuid`) prints as
    /// DuckDB shows it, in every format; NULL stays NULL.
    #[test]
    fn uuids_print_as_duckdb_shows_them() {
        use datafusion::arrow::array::FixedSizeBinaryArray;
        let field = Field::new("u", DataType::FixedSizeBinary(16), true)
            .with_metadata([("ARROW:extension:name".to_owned(), "arrow.uuid".to_owned())].into());
        let schema = Arc::new(Schema::new(vec![field]));
        let bytes: [u8; 16] = [
            0x0b, 0x3b, 0x1e, 0x7e, 0x8f, 0x6a, 0x4c, 0x2d, 0x9e, 0x1f, 0x2a, 0x3b, 0x4c, 0x5d,
            0x6e, 0x7f,
        ];
        let values = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            [Some(bytes), None].into_iter(),
            16,
        )
        .unwrap();
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
        for format in [PrintFormat::Table, PrintFormat::Csv, PrintFormat::Json] {
            let mut out = Vec::new();
            let mut printer = format.printer(&mut out, &schema).unwrap();
            printer.write(&batch).unwrap();
            printer.finish().unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                text.contains("0b3b1e7e-8f6a-4c2d-9e1f-2a3b4c5d6e7f"),
                "{format:?}: {text}"
            );
        }
    }

    /// A BLOB prints in JSON as DuckDB's JSON gives it, its text with the
    /// bytes outside printable ASCII escaped (review-s22 F16: arrow's hex,
    /// `"ff0041"`); NULL stays null.
    #[test]
    fn blobs_print_in_json_as_duckdb_gives_them() {
        use datafusion::arrow::array::BinaryArray;
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Binary, true)]));
        let values = BinaryArray::from_opt_vec(vec![Some(&b"\xFF\x00A"[..]), None]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
        for (format, expected) in [
            (
                PrintFormat::Json,
                "[{\"v\":\"\\\\xFF\\\\x00A\"},{\"v\":null}]\n",
            ),
            (
                PrintFormat::Jsonl,
                "{\"v\":\"\\\\xFF\\\\x00A\"}\n{\"v\":null}\n",
            ),
        ] {
            let mut out = Vec::new();
            let mut printer = format.printer(&mut out, &schema).unwrap();
            printer.write(&batch).unwrap();
            printer.finish().unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{format:?}");
        }
    }

    /// Up to the limit every row shows, in order, with no footer.
    #[test]
    fn a_short_table_shows_every_row() {
        let mut rows = ShownRows::new(vec!["n".into()], 6);
        rows.push(&batch(0, 4)).unwrap();
        rows.push(&batch(4, 6)).unwrap();
        let mut out = Vec::new();
        rows.print(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let numbers: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(' ').next())
            .filter(|c| c.parse::<u32>().is_ok())
            .collect();
        assert_eq!(numbers, ["0", "1", "2", "3", "4", "5"], "{text}");
        assert!(!text.contains("shown"), "{text}");
    }
}
