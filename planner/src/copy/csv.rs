//! [`CsvEncoder`]: CSV as DuckDB 1.5.5 writes it. arrow-rs's CSV writer
//! cannot tell `''` from NULL (both become an empty field), so this one
//! follows DuckDB's rules: NULL is the NULLSTR as is; a value is quoted
//! when it equals the NULLSTR (so `''` is `""` by default), holds a byte
//! of the delimiter, the quote, `\n`, `\r` or `#`, or is in a FORCE_QUOTE
//! column; inside quotes, the ESCAPE (default `"`) is written before each
//! quote and each escape (`""` by default; `|x"|y|` for QUOTE `|`), and
//! only there (an unquoted value is written as it is). A delimiter of several bytes is written whole (DuckDB 1.5.5
//! writes its first byte only, see [`super::options::Delimiter`]).
//! Values are rendered as DuckDB renders them ([`super::text`]).

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::error::DataFusionError;

use super::encode::Output;
use super::options::{CopyOptions, Delimiter};
use super::parallel::{run_shares, shares_for};
use super::strftime::{DateFormats, column_text};
use super::text::{DuckText, is_null};
use crate::error::Result;
use s3sql_formats::OptionValue;

/// The CSV dialect of one COPY.
#[derive(Debug, Clone)]
pub(crate) struct CsvDialect {
    /// The bytes that make a value quoted, one bit each: each of the
    /// delimiter's, the quote, `\n`, `\r`, `#`.
    special: [u64; 4],
    delimiter: Delimiter,
    quote: u8,
    /// Written before a quote or an escape inside quotes; `None`: nothing.
    escape: Option<u8>,
    /// Per column, whether FORCE_QUOTE quotes it.
    forced: Vec<bool>,
    null: String,
    header: bool,
    dates: DateFormats,
    /// Whether no number's text can need quotes: none of the bytes a
    /// number is written with is special, and the NULLSTR is not made of
    /// them only. Numbers then go out without a look at their bytes.
    plain_numbers: bool,
}

/// The bytes of an integer's or a double's text: `-1.5e+20`, `inf`, `nan`.
const NUMBER_BYTES: &[u8] = b"0123456789+-.einfa";

impl CsvDialect {
    /// The dialect of `options` for files of `schema`'s columns.
    pub(crate) fn new(options: &CopyOptions, schema: &Schema) -> Result<Self> {
        let mut special = [0u64; 4];
        let delimiter = options.delimiter.as_bytes();
        for &b in delimiter.iter().chain(&[options.quote, b'\n', b'\r', b'#']) {
            special[usize::from(b >> 6)] |= 1 << (b & 63);
        }
        let special_byte = |b: u8| special[usize::from(b >> 6)] & (1 << (b & 63)) != 0;
        let plain_numbers = !NUMBER_BYTES.iter().any(|&b| special_byte(b))
            && (options.null.is_empty()
                || !options.null.bytes().all(|b| NUMBER_BYTES.contains(&b)));
        Ok(Self {
            special,
            plain_numbers,
            delimiter: options.delimiter,
            quote: options.quote,
            escape: options.escape,
            forced: options.force_quote.columns(schema)?,
            null: options.null.clone(),
            header: options.header,
            dates: DateFormats::new(options),
        })
    }

    /// Whether `value` must be quoted to read back as itself.
    fn needs_quotes(&self, value: &[u8]) -> bool {
        value == self.null.as_bytes()
            || value
                .iter()
                .any(|&b| self.special[usize::from(b >> 6)] & (1 << (b & 63)) != 0)
    }

    /// Appends `value` as one field, quoted when `forced` or when it needs
    /// quotes.
    fn push_field(&self, out: &mut Vec<u8>, value: &[u8], forced: bool) {
        if !forced && !self.needs_quotes(value) {
            out.extend_from_slice(value);
            return;
        }
        out.push(self.quote);
        match self.escape {
            Some(escape) => {
                for &b in value {
                    if b == self.quote || b == escape {
                        out.push(escape);
                    }
                    out.push(b);
                }
            }
            None => out.extend_from_slice(value),
        }
        out.push(self.quote);
    }
}

impl CsvDialect {
    /// Appends the header line of `schema`, when one is wanted, to `out`.
    fn push_header(&self, schema: &SchemaRef, out: &mut Vec<u8>) {
        if !self.header {
            return;
        }
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.delimiter.as_bytes());
            }
            self.push_field(out, field.name().as_bytes(), self.forced[i]);
        }
        out.push(b'\n');
    }

    /// Appends `batch`'s rows to `out`, `cell` holding one value's text.
    fn encode_rows(
        &self,
        schema: &SchemaRef,
        batch: &RecordBatch,
        out: &mut Vec<u8>,
        cell: &mut String,
    ) -> Result<()> {
        let formats: Vec<Option<String>> = schema
            .fields()
            .iter()
            .map(|f| self.dates.chrono_format(f.data_type()))
            .collect::<Result<_>>()?;
        let columns: Vec<(&dyn Array, DuckText<'_>, bool, bool)> = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .zip(&formats)
            .zip(&self.forced)
            .map(|(((c, f), format), &forced)| {
                let text = column_text(c.as_ref(), f, format.as_deref())?;
                let plain = self.plain_numbers && text.is_number() && !forced;
                Ok((c.as_ref(), text, plain, forced))
            })
            .collect::<Result<_>>()?;
        let delimiter = self.delimiter.as_bytes();
        for row in 0..batch.num_rows() {
            for (i, (array, text, plain, forced)) in columns.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delimiter);
                }
                if is_null(*array, row) {
                    out.extend_from_slice(self.null.as_bytes());
                    continue;
                }
                if *plain {
                    text.write(row, cell)?;
                    out.extend_from_slice(cell.as_bytes());
                } else if let Some(value) = text.as_str(row) {
                    self.push_field(out, value.as_bytes(), *forced);
                } else {
                    text.write(row, cell)?;
                    self.push_field(out, cell.as_bytes(), *forced);
                }
            }
            out.push(b'\n');
        }
        Ok(())
    }
}

/// The most text kept allocated between batches, per open file.
const KEPT_TEXT_BYTES: usize = 256 * 1024;

/// One CSV file's encoder.
#[derive(Debug)]
pub(crate) struct CsvEncoder {
    dialect: CsvDialect,
    schema: SchemaRef,
    output: Output,
    /// Whether the header (when wanted) is written yet.
    started: bool,
    /// One value's text, reused.
    cell: String,
    /// One batch's text, reused.
    text: Vec<u8>,
}

impl CsvEncoder {
    pub(crate) fn new(schema: SchemaRef, options: &CopyOptions, output: Output) -> Result<Self> {
        Ok(Self {
            dialect: CsvDialect::new(options, &schema)?,
            schema,
            output,
            started: false,
            cell: String::new(),
            text: Vec::new(),
        })
    }

    /// Encodes `batch`; the first call writes the header too. A batch's
    /// rows are shared out over the cores, each share's text made on its
    /// own thread, and appended in order.
    pub(crate) async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut out = std::mem::take(&mut self.text);
        out.clear();
        if !self.started {
            self.started = true;
            self.dialect.push_header(&self.schema, &mut out);
        }
        let shares = shares_for(batch.num_rows());
        let texts = if shares == 1 {
            self.dialect
                .encode_rows(&self.schema, batch, &mut out, &mut self.cell)?;
            vec![out]
        } else {
            let rows = batch.num_rows();
            let per_share = rows.div_ceil(shares);
            let parts: Vec<_> = (0..rows)
                .step_by(per_share)
                .zip(std::iter::once(out).chain(std::iter::repeat_with(Vec::new)))
                .map(|(start, text)| {
                    let slice = batch.slice(start, per_share.min(rows - start));
                    (self.dialect.clone(), self.schema.clone(), slice, text)
                })
                .collect();
            run_shares(parts, |(dialect, schema, rows, mut text)| {
                dialect.encode_rows(&schema, &rows, &mut text, &mut String::new())?;
                Ok(text)
            })
            .await?
        };
        for text in &texts {
            self.output.append(text).map_err(DataFusionError::from)?;
        }
        // The first is kept for the next batch unless it grew past what a
        // batch needs.
        if let Some(first) = texts.into_iter().next()
            && first.capacity() <= KEPT_TEXT_BYTES
        {
            self.text = first;
        }
        Ok(())
    }
}

/// Result rows as DuckDB's CSV text, the one its COPY writes and its
/// shell's csv mode prints (LIST, STRUCT and MAP as `"[1, 2]"`,
/// `{'a': 1}`, `{k=v}`; `''` apart from NULL): a shell's `--format csv`
/// and `tsv` print through it, so a value has one CSV text.
#[derive(Debug)]
pub struct CsvRows {
    dialect: CsvDialect,
    schema: SchemaRef,
    /// Whether the header is written yet.
    started: bool,
    /// One value's text, reused.
    cell: String,
}

impl CsvRows {
    /// Rows of `schema` with a header line, `delimiter` between values.
    pub fn new(schema: SchemaRef, delimiter: char) -> Result<Self> {
        let delimiter = (
            "DELIMITER".to_owned(),
            OptionValue::Str(delimiter.to_string()),
        );
        let options = CopyOptions::parse("rows.csv", vec![delimiter])?;
        Ok(Self {
            dialect: CsvDialect::new(&options, &schema)?,
            schema,
            started: false,
            cell: String::new(),
        })
    }

    /// The text of `batch`'s rows, the header before the first batch's.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            self.dialect.push_header(&self.schema, &mut out);
        }
        self.dialect
            .encode_rows(&self.schema, batch, &mut out, &mut self.cell)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    /// `batch` written by a CSV encoder with the COPY options `pairs`.
    async fn encode_batch(pairs: Vec<(String, OptionValue)>, batch: RecordBatch) -> String {
        let options = CopyOptions::parse("x.csv", pairs).unwrap();
        let output = Output::new(options.text_compression).unwrap();
        let mut encoder = CsvEncoder::new(batch.schema(), &options, output.clone()).unwrap();
        encoder.write(&batch).await.unwrap();
        String::from_utf8(output.take(Vec::new())).unwrap()
    }

    async fn encode(pairs: Vec<(String, OptionValue)>, values: Vec<Option<&str>>) -> String {
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values))]).unwrap();
        encode_batch(pairs, batch).await
    }

    async fn encode_numbers(pairs: Vec<(String, OptionValue)>) -> String {
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), Some(-20), None])),
                Arc::new(Float64Array::from(vec![
                    Some(0.25),
                    Some(f64::NAN),
                    Some(1e20),
                ])),
            ],
        )
        .unwrap();
        encode_batch(pairs, batch).await
    }

    /// Numbers skip the look for special bytes only while none of theirs
    /// is special: a delimiter of `.` or `e`, or a NULLSTR `1`, quotes them.
    #[tokio::test]
    async fn numbers_are_quoted_when_the_dialect_makes_their_bytes_special() {
        let option =
            |key: &str, value: &str| vec![(key.to_owned(), OptionValue::Str(value.into()))];
        assert_eq!(
            encode_numbers(vec![]).await,
            "i,f\n1,0.25\n-20,nan\n,1e+20\n"
        );
        assert_eq!(
            encode_numbers(option("DELIMITER", ".")).await,
            "i.f\n1.\"0.25\"\n-20.nan\n.1e+20\n"
        );
        assert_eq!(
            encode_numbers(option("DELIMITER", "e")).await,
            "ief\n1e0.25\n-20enan\ne\"1e+20\"\n"
        );
        assert_eq!(
            encode_numbers(option("NULLSTR", "1")).await,
            "i,f\n\"1\",0.25\n-20,nan\n1,1e+20\n"
        );
        assert_eq!(
            encode_numbers(option("NULLSTR", "n/a")).await,
            "i,f\n1,0.25\n-20,nan\nn/a,1e+20\n"
        );
    }

    /// A number quoted because the QUOTE is one of its bytes is escaped
    /// as DuckDB escapes it, the ESCAPE (default `"`) before each QUOTE;
    /// FORCE_QUOTE quotes numbers (and the header) too, NULL never. They
    /// were written `111`, `11e+201` (the QUOTE doubled) and FORCE_QUOTE
    /// refused (review 8b #2, #3); each text is DuckDB 1.5.5's.
    #[tokio::test]
    async fn numbers_are_escaped_and_force_quoted_as_duckdb_writes_them() {
        let options = |pairs: &[(&str, &str)]| -> Vec<(String, OptionValue)> {
            pairs
                .iter()
                .map(|(k, v)| {
                    let value = match *v {
                        "*" => OptionValue::Str("*".into()),
                        v if v.starts_with('(') => OptionValue::List(
                            v.trim_matches(['(', ')'])
                                .split(',')
                                .map(|n| OptionValue::Str(n.trim().into()))
                                .collect(),
                        ),
                        v => OptionValue::Str(v.into()),
                    };
                    ((*k).to_owned(), value)
                })
                .collect()
        };
        for (pairs, expected) in [
            (
                &[("QUOTE", "1")][..],
                "i,f\n1\"11,0.25\n-20,nan\n,1\"1e+201\n",
            ),
            (
                &[("QUOTE", "e"), ("ESCAPE", "\\")],
                "i,f\n1,0.25\n-20,nan\n,e1\\e+20e\n",
            ),
            (
                &[("FORCE_QUOTE", "*")],
                "\"i\",\"f\"\n\"1\",\"0.25\"\n\"-20\",\"nan\"\n,\"1e+20\"\n",
            ),
            (
                &[("FORCE_QUOTE", "(F)"), ("QUOTE", "|")],
                "i,|f|\n1,|0.25|\n-20,|nan|\n,|1e+20|\n",
            ),
        ] {
            assert_eq!(encode_numbers(options(pairs)).await, expected, "{pairs:?}");
        }
    }

    #[tokio::test]
    async fn the_empty_string_is_quoted_and_null_is_not() {
        assert_eq!(
            encode(vec![], vec![Some(""), None, Some("a")]).await,
            "s\n\"\"\n\na\n"
        );
    }

    #[tokio::test]
    async fn a_value_equal_to_nullstr_is_quoted_and_the_empty_string_is_not() {
        let nullstr = vec![("NULLSTR".to_owned(), OptionValue::Str("NA".into()))];
        assert_eq!(
            encode(nullstr, vec![Some(""), None, Some("NA")]).await,
            "s\n\nNA\n\"NA\"\n"
        );
    }

    /// A DELIMITER of several bytes is written whole, and a value holding
    /// any of its bytes is quoted, so `a|` before `||` reads back (DuckDB
    /// 1.5.5 writes only `|`).
    #[tokio::test]
    async fn a_multi_byte_delimiter_is_written_whole() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("a|"), Some("x→y"), None])),
                Arc::new(StringArray::from(vec![Some("|b"), Some("plain"), Some("")])),
            ],
        )
        .unwrap();
        for (delimiter, expected) in [
            ("||", "a||b\n\"a|\"||\"|b\"\nx→y||plain\n||\"\"\n"),
            ("→", "a→b\na|→|b\n\"x→y\"→plain\n→\"\"\n"),
        ] {
            let options = CopyOptions::parse(
                "x.csv",
                vec![("DELIMITER".to_owned(), OptionValue::Str(delimiter.into()))],
            )
            .unwrap();
            let output = Output::new(options.text_compression).unwrap();
            let mut encoder = CsvEncoder::new(schema.clone(), &options, output.clone()).unwrap();
            encoder.write(&batch).await.unwrap();
            assert_eq!(
                String::from_utf8(output.take(Vec::new())).unwrap(),
                expected,
                "{delimiter}"
            );
        }
    }

    /// A value of type NULL (`SELECT NULL AS n`, a JSON field null in
    /// every row, `[NULL]`, `{'x': NULL}`) is NULL, as DuckDB writes it:
    /// its array has no validity buffer, and it was written as `""`,
    /// `['']` and `{'x': ''}` (review-9b #8).
    #[tokio::test]
    async fn a_null_of_type_null_is_written_as_null() {
        use datafusion::arrow::array::{ArrayRef, Int64Array, ListArray, NullArray, StructArray};
        use datafusion::arrow::buffer::OffsetBuffer;

        let list = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Null, true)),
            OffsetBuffer::from_lengths([1]),
            Arc::new(NullArray::new(1)),
            None,
        );
        let object = StructArray::from(vec![(
            Arc::new(Field::new("x", DataType::Null, true)),
            Arc::new(NullArray::new(1)) as ArrayRef,
        )]);
        let batch = RecordBatch::try_from_iter(vec![
            ("n", Arc::new(NullArray::new(1)) as ArrayRef),
            ("i", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("l", Arc::new(list) as ArrayRef),
            ("h", Arc::new(object) as ArrayRef),
        ])
        .unwrap();
        let mut rows = CsvRows::new(batch.schema(), ',').unwrap();
        assert_eq!(
            String::from_utf8(rows.write(&batch).unwrap()).unwrap(),
            "n,i,l,h\n,1,[NULL],{'x': NULL}\n"
        );

        let nullstr = vec![("NULLSTR".to_owned(), OptionValue::Str("NA".into()))];
        let options = CopyOptions::parse("x.csv", nullstr).unwrap();
        let output = Output::new(options.text_compression).unwrap();
        let mut encoder = CsvEncoder::new(batch.schema(), &options, output.clone()).unwrap();
        encoder.write(&batch).await.unwrap();
        assert_eq!(
            String::from_utf8(output.take(Vec::new())).unwrap(),
            "n,i,l,h\nNA,1,[NULL],{'x': NULL}\n"
        );
    }

    /// A batch big enough to be shared out over the cores is written in
    /// its rows' order, each row once, quoting and NULLs as on one thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_shared_out_over_threads_keeps_its_rows_in_order() {
        for shares in [3, 4] {
            crate::copy::parallel::TEST_WORKERS.store(shares, std::sync::atomic::Ordering::Relaxed);
            rows_in_order().await;
        }
    }

    async fn rows_in_order() {
        let rows = 3 * crate::copy::parallel::PARALLEL_ROWS + 7;
        let values: Vec<Option<String>> = (0..rows)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("a,{i}")),
                _ => Some(format!("v{i}")),
            })
            .collect();
        let mut expected = String::from("s\n");
        for value in &values {
            match value.as_deref() {
                None => expected.push('\n'),
                Some("") => expected.push_str("\"\"\n"),
                Some(v) if v.contains(',') => expected.push_str(&format!("\"{v}\"\n")),
                Some(v) => expected.push_str(&format!("{v}\n")),
            }
        }
        let values = values.iter().map(Option::as_deref).collect();
        assert_eq!(encode(vec![], values).await, expected);
    }
}
