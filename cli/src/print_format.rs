//! Output formats: one enum, one `print` per result set.

use std::io::Write;

use anyhow::Context;
use clap::ValueEnum;
use comfy_table::Table;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::{JsonArray, LineDelimited};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// How a result set is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintFormat {
    /// A boxed table, as DuckDB's shell draws it.
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

const NULL: &str = "NULL";

impl PrintFormat {
    /// Writes one result set.
    pub fn print(
        self,
        out: &mut dyn Write,
        schema: &SchemaRef,
        batches: &[RecordBatch],
    ) -> anyhow::Result<()> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        match self {
            Self::Csv | Self::Tsv => {
                let delimiter = if self == Self::Csv { b',' } else { b'\t' };
                let mut writer = CsvWriterBuilder::new()
                    .with_header(true)
                    .with_delimiter(delimiter)
                    .build(out);
                let empty = RecordBatch::new_empty(schema.clone());
                for batch in batches.iter().chain((rows == 0).then_some(&empty)) {
                    writer.write(batch).context("writing CSV")?;
                }
            }
            Self::Json if rows == 0 => writeln!(out, "[]")?,
            Self::Json => {
                let mut writer = JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, JsonArray>(&mut *out);
                for batch in batches {
                    writer.write(batch).context("writing JSON")?;
                }
                writer.finish().context("writing JSON")?;
                writeln!(out)?;
            }
            Self::Jsonl => {
                let mut writer = JsonWriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, LineDelimited>(&mut *out);
                for batch in batches {
                    writer.write(batch).context("writing JSON lines")?;
                }
                writer.finish().context("writing JSON lines")?;
            }
            Self::Table => {
                let mut table = Table::new();
                table.set_header(schema.fields().iter().map(|f| f.name().clone()));
                for row in cells(batches)? {
                    table.add_row(row);
                }
                writeln!(out, "{table}")?;
            }
            Self::Markdown => {
                let header: Vec<String> =
                    schema.fields().iter().map(|f| f.name().clone()).collect();
                writeln!(out, "| {} |", header.join(" | "))?;
                writeln!(out, "|{}", "---|".repeat(header.len()))?;
                for row in cells(batches)? {
                    let escaped: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                    writeln!(out, "| {} |", escaped.join(" | "))?;
                }
            }
        }
        Ok(())
    }
}

/// Every row as display strings, NULL spelled out.
fn cells(batches: &[RecordBatch]) -> anyhow::Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null(NULL);
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}
