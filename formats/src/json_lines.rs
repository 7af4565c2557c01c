//! [`JsonErrorLine`]: the line of the JSON record arrow-json refuses.
//! arrow-json decodes records in batches and its errors name neither the
//! record nor its line ("whilst decoding field 'a': failed to parse "str"
//! as Int64"); DuckDB says "in line 60002". After such an error, and only
//! then, the file's text is decoded again one record at a time with the
//! same schema, counting line ends, up to the first record that fails.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::json::reader::Decoder;

/// Finds the line (from 1) the first record arrow-json refuses starts on,
/// in newline-delimited JSON or JSON values one after another, fed chunk
/// after chunk ([`Self::push`], then [`Self::finish`]).
pub struct JsonErrorLine {
    decoder: Decoder,
    /// Line ends before everything decoded so far.
    line_ends: u64,
    /// The line the record being decoded starts on.
    record_line: u64,
    /// The text is a JSON array (its records are not told apart here).
    array: bool,
    started: bool,
}

impl std::fmt::Debug for JsonErrorLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonErrorLine")
            .field("line_ends", &self.line_ends)
            .finish_non_exhaustive()
    }
}

impl JsonErrorLine {
    /// A finder decoding records of `schema` (the columns the failed read decoded).
    pub fn new(schema: SchemaRef) -> Result<Self, datafusion::arrow::error::ArrowError> {
        Ok(Self {
            decoder: ReaderBuilder::new(schema)
                .with_batch_size(1)
                .build_decoder()?,
            line_ends: 0,
            record_line: 1,
            array: false,
            started: false,
        })
    }

    /// Decodes `chunk`: the line of the first record that fails in it, if one does.
    pub fn push(&mut self, mut chunk: &[u8]) -> Option<u64> {
        if !self.started {
            let Some(first) = chunk.iter().find(|b| !b.is_ascii_whitespace()) else {
                self.line_ends += line_ends(chunk);
                return None;
            };
            self.started = true;
            self.array = *first == b'[';
        }
        if self.array {
            return None;
        }
        while !chunk.is_empty() {
            if !self.decoder.has_partial_record() {
                let blank = chunk.iter().take_while(|b| b.is_ascii_whitespace()).count();
                self.record_line = 1 + self.line_ends + line_ends(&chunk[..blank]);
            }
            let read = match self.decoder.decode(chunk) {
                Ok(read) => read,
                Err(_) => return Some(self.record_line),
            };
            self.line_ends += line_ends(&chunk[..read]);
            chunk = &chunk[read..];
            if self.decoder.len() == 1 && !self.decoder.has_partial_record() {
                if self.decoder.flush().is_err() {
                    return Some(self.record_line);
                }
            } else if read == 0 {
                break;
            }
        }
        None
    }

    /// The line of a failing record the text's end leaves undecoded (or cut).
    pub fn finish(&mut self) -> Option<u64> {
        match self.array {
            true => None,
            false => self.decoder.flush().err().map(|_| self.record_line),
        }
    }
}

fn line_ends(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn line(text: &str, size: usize) -> Option<u64> {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let mut finder = JsonErrorLine::new(schema).unwrap();
        for chunk in text.as_bytes().chunks(size) {
            if let Some(line) = finder.push(chunk) {
                return Some(line);
            }
        }
        finder.finish()
    }

    #[test]
    fn the_line_of_the_first_refused_record_however_chunked() {
        for size in [1, 2, 5, 1000] {
            let bad =
                "\n{\"a\":1}\n{\"a\":2,\n \"b\": \"x\"}\n{\"a\":\"str\"}\n{\"a\":\"again\"}\n";
            assert_eq!(line(bad, size), Some(5), "{size}");
            // Values over lines, a syntax error, a record cut at the end.
            let pretty = "{\n  \"a\": 1\n}\n{\n  \"a\": true\n}\n";
            assert_eq!(line(pretty, size), Some(4), "{size}");
            assert_eq!(line("{\"a\":1}\n{\"a\":]}\n", size), Some(2), "{size}");
            assert_eq!(line("{\"a\":1}\n{\"a\":", size), Some(2), "{size}");
            assert_eq!(line("{\"a\":1}\n{\"a\":2}\n", size), None, "{size}");
            assert_eq!(line("[{\"a\":\"x\"}]", size), None, "{size}");
        }
    }
}
