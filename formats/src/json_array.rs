//! [`JsonArrayValues`]: the text of a JSON array (`[{...}, {...}]`, what
//! `json.dump(list)` and DuckDB's `COPY ... (FORMAT json, ARRAY true)`
//! write) turned into its elements one after another, which arrow-json's
//! decoder reads as it reads newline-delimited JSON: a pull-based stream,
//! where DataFusion 55's array reader reads ahead in tasks of its own
//! (up to 16 MiB of bytes and two batches), so a `LIMIT 2` read megabytes.
//!
//! The array's own brackets and the commas between its elements become
//! spaces, in place: the text keeps its length and its lines.

use crate::FormatError;

/// Where in the text the array is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Before the `[`.
    Before,
    /// Between the `[` and its `]`.
    Inside,
    /// After the `]`.
    After,
}

/// Blanks a JSON array's brackets and the commas between its elements,
/// chunk after chunk ([`Self::blank`], then [`Self::finish`]).
#[derive(Debug)]
pub struct JsonArrayValues {
    place: Place,
    /// Objects and arrays open inside the array's elements.
    depth: u32,
    in_string: bool,
    escape: bool,
    /// Bytes seen before the chunk being blanked.
    at: u64,
}

impl Default for JsonArrayValues {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonArrayValues {
    /// Before the text's first byte.
    pub fn new() -> Self {
        Self {
            place: Place::Before,
            depth: 0,
            in_string: false,
            escape: false,
            at: 0,
        }
    }

    /// Blanks the array's own brackets and commas in `chunk`, the text's
    /// next bytes; an error where text stands outside the array.
    pub fn blank(&mut self, chunk: &mut [u8]) -> Result<(), FormatError> {
        for (i, byte) in chunk.iter_mut().enumerate() {
            let refused = |why| FormatError::NotAJsonArray {
                why,
                at: self.at + i as u64,
            };
            match self.place {
                Place::Before if *byte == b'[' => {
                    *byte = b' ';
                    self.place = Place::Inside;
                }
                Place::Before | Place::After if byte.is_ascii_whitespace() => {}
                Place::Before => return Err(refused("it does not start with '['")),
                Place::After => return Err(refused("text after its closing ']'")),
                Place::Inside if self.escape => self.escape = false,
                Place::Inside if self.in_string => match *byte {
                    b'\\' => self.escape = true,
                    b'"' => self.in_string = false,
                    _ => {}
                },
                Place::Inside => match *byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' if self.depth > 0 => self.depth -= 1,
                    b']' => {
                        *byte = b' ';
                        self.place = Place::After;
                    }
                    b'}' => return Err(refused("a '}' closes no object")),
                    b',' if self.depth == 0 => *byte = b' ',
                    _ => {}
                },
            }
        }
        self.at += chunk.len() as u64;
        Ok(())
    }

    /// The text has ended: an error when the array was not closed.
    pub fn finish(&self) -> Result<(), FormatError> {
        match self.place {
            Place::After => Ok(()),
            Place::Before => Err(FormatError::NotAJsonArray {
                why: "it holds no '['",
                at: self.at,
            }),
            Place::Inside => Err(FormatError::NotAJsonArray {
                why: "it ends before its closing ']'",
                at: self.at,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `text` through [`JsonArrayValues`], cut into chunks of `size`.
    fn values(text: &str, size: usize) -> Result<String, FormatError> {
        let mut bytes = text.as_bytes().to_vec();
        let mut array = JsonArrayValues::new();
        for chunk in bytes.chunks_mut(size) {
            array.blank(chunk)?;
        }
        array.finish()?;
        Ok(String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn an_arrays_elements_come_one_after_another_however_the_chunks_cut_it() {
        let text = "\n[{\"a\": [1, 2], \"s\": \"x,]\\\"}\"},\n {\"b\": {\"c\": []}}\n]\n";
        let want = "\n {\"a\": [1, 2], \"s\": \"x,]\\\"}\"} \n {\"b\": {\"c\": []}}\n \n";
        for size in [1, 2, 3, 5, 64] {
            assert_eq!(values(text, size).unwrap(), want, "chunks of {size}");
        }
        assert_eq!(values("[]", 1).unwrap(), "  ");
    }

    #[test]
    fn text_outside_the_array_is_refused() {
        let refused = |text: &str| values(text, 2).unwrap_err().to_string();
        assert_eq!(
            refused("x[1]"),
            "the file is not a JSON array: it does not start with '[' (byte 0)"
        );
        assert_eq!(
            refused("[1] 2"),
            "the file is not a JSON array: text after its closing ']' (byte 4)"
        );
        assert!(refused("[{\"a\": 1}").contains("ends before its closing ']'"));
        assert!(refused("  ").contains("holds no '['"));
        assert!(refused("[1}]").contains("closes no object"));
    }
}
