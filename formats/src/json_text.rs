//! [`JsonColumnsText`]: JSON text rewritten so arrow-json reads DuckDB's
//! JSON columns. arrow-json has no decoder for "any JSON value as its
//! text": a VARCHAR column refuses a number (`expected string got 1`).
//! So each value of a JSON column ([`crate::infer_json`]) is turned into a
//! JSON string holding the value's text as DuckDB 1.5.5 shows it
//! (`1`, `2.5`, `"x"`, `{"c":1}`), before the decoder sees it; every other
//! byte is passed on as it is. The text changes length, so a file read
//! through it is read whole, never in byte ranges.

use serde_json::Value;

/// Where in a record the rewriter is (outside strings, at the record's
/// own level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// Before a key (or the record's end).
    Key,
    /// Inside a key's string.
    InKey,
    /// After a key, before its `:`.
    Colon,
    /// In a value.
    Value,
}

/// Rewrites the values of the JSON columns in newline-delimited JSON, in
/// JSON values one after another, or in a JSON array of records, chunk
/// after chunk ([`Self::push`], then [`Self::finish`]).
#[derive(Debug)]
pub struct JsonColumnsText {
    /// The keys whose values are rewritten.
    columns: Vec<String>,
    /// Open objects and arrays.
    depth: u32,
    /// The text is one array of records (records one level deeper).
    top_array: bool,
    /// Inside a record (at or below its level).
    in_record: bool,
    in_string: bool,
    escape: bool,
    member: Member,
    /// The key being read (its raw bytes between the quotes).
    key: Vec<u8>,
    /// The value of a JSON column being read, rewritten when it ends.
    value: Option<Vec<u8>>,
}

impl JsonColumnsText {
    /// A rewriter of the values of `columns` (top-level keys of each record).
    pub fn new(columns: Vec<String>) -> Self {
        Self {
            columns,
            depth: 0,
            top_array: false,
            in_record: false,
            in_string: false,
            escape: false,
            member: Member::Key,
            key: Vec::new(),
            value: None,
        }
    }

    /// The rewritten text of `chunk` (what is held of a value cut by the
    /// chunk's end comes with a later chunk).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 8);
        for &b in chunk {
            self.byte(b, &mut out);
        }
        out
    }

    /// What is still held at the text's end (a record cut short), as it was.
    pub fn finish(&mut self) -> Vec<u8> {
        self.value.take().unwrap_or_default()
    }

    /// The level a record's members are at.
    fn record_depth(&self) -> u32 {
        if self.top_array { 2 } else { 1 }
    }

    /// Whether the byte read is at a record's own level (not in a nested value).
    fn at_members(&self) -> bool {
        self.in_record && self.depth == self.record_depth()
    }

    fn emit(&mut self, b: u8, out: &mut Vec<u8>) {
        match &mut self.value {
            Some(value) => value.push(b),
            None => out.push(b),
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.member == Member::InKey {
                    self.member = Member::Colon;
                    out.push(b);
                    return;
                }
            }
            if self.member == Member::InKey {
                self.key.push(b);
            }
            self.emit(b, out);
            return;
        }
        let members = self.at_members();
        match b {
            b'"' => {
                self.in_string = true;
                if members && self.member == Member::Key {
                    self.member = Member::InKey;
                    self.key.clear();
                }
            }
            b':' if members && self.member == Member::Colon => {
                out.push(b);
                self.member = Member::Value;
                if self.is_json_column() {
                    self.value = Some(Vec::new());
                }
                return;
            }
            b',' | b'}' if members => {
                if let Some(value) = self.value.take() {
                    out.extend_from_slice(&json_text(&value));
                }
                self.member = Member::Key;
                if b == b'}' {
                    self.depth -= 1;
                    self.in_record = false;
                }
                out.push(b);
                return;
            }
            b'{' | b'[' => {
                if self.depth == 0 {
                    self.top_array = b == b'[';
                }
                self.depth += 1;
                if b == b'{' && !self.in_record && self.depth == self.record_depth() {
                    self.in_record = true;
                    self.member = Member::Key;
                }
            }
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.emit(b, out);
    }

    /// Whether the key just read names a JSON column.
    fn is_json_column(&self) -> bool {
        let key = match self.key.contains(&b'\\') {
            false => std::str::from_utf8(&self.key).ok().map(str::to_owned),
            true => {
                let quoted = [&b"\""[..], &self.key, b"\""].concat();
                serde_json::from_slice::<String>(&quoted).ok()
            }
        };
        key.is_some_and(|key| self.columns.contains(&key))
    }
}

/// A JSON column's value `raw` as the JSON string of its text, as DuckDB
/// 1.5.5 shows a JSON value: minified, a number as its double's shortest
/// text (`1.50` is `1.5`, `1e2` is `100.0`) or an integer's digits. `null`
/// stays NULL; text that is not JSON is left for the decoder to refuse.
fn json_text(raw: &[u8]) -> Vec<u8> {
    let raw = raw.trim_ascii();
    let Ok(value) = serde_json::from_slice::<Value>(raw) else {
        return raw.to_vec();
    };
    let text = match &value {
        Value::Null => return b"null".to_vec(),
        // Past 64 bits serde_json keeps a double; DuckDB the digits.
        Value::Number(n) if n.is_f64() && integer_literal(raw) => {
            String::from_utf8_lossy(raw).into_owned()
        }
        other => other.to_string(),
    };
    Value::String(text).to_string().into_bytes()
}

/// `-` and digits only.
fn integer_literal(raw: &[u8]) -> bool {
    let digits = raw.strip_prefix(b"-").unwrap_or(raw);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` rewritten for column `a`, pushed in chunks of `size` bytes.
    fn rewritten(text: &str, size: usize) -> String {
        let mut rewriter = JsonColumnsText::new(vec!["a".into()]);
        let mut out = Vec::new();
        for chunk in text.as_bytes().chunks(size) {
            out.extend(rewriter.push(chunk));
        }
        out.extend(rewriter.finish());
        String::from_utf8(out).unwrap()
    }

    /// The values DuckDB 1.5.5 gives for a JSON column of these values.
    #[test]
    fn json_column_values_become_strings_of_duckdbs_text_however_chunked() {
        let text = "{\"a\": 1.50, \"b\": \"a:1,}\"}\n{\"b\":{\"a\":2},\"a\": \"x\\u0041\\n\"}\n\
                    {\"a\":{\"c\" : 1, \"d\":[1, 2]}}\n{\"a\": 1e2}\n{\"a\":null}\n\
                    {\"a\":12345678901234567890123 }\n{\"\\u0061\":true}\n{}\n";
        let expected = "{\"a\":\"1.5\", \"b\": \"a:1,}\"}\n{\"b\":{\"a\":2},\"a\":\"\\\"xA\\\\n\\\"\"}\n\
                        {\"a\":\"{\\\"c\\\":1,\\\"d\\\":[1,2]}\"}\n{\"a\":\"100.0\"}\n{\"a\":null}\n\
                        {\"a\":\"12345678901234567890123\"}\n{\"\\u0061\":\"true\"}\n{}\n";
        for size in [1, 2, 3, 7, 1000] {
            assert_eq!(rewritten(text, size), expected, "chunks of {size}");
        }
    }

    #[test]
    fn records_in_an_array_or_laid_out_over_lines_are_rewritten() {
        assert_eq!(
            rewritten("[{\"a\":1},\n {\"a\":[\"s\"]}]", 3),
            "[{\"a\":\"1\"},\n {\"a\":\"[\\\"s\\\"]\"}]"
        );
        assert_eq!(
            rewritten("{\n  \"a\": 1,\n  \"b\": 2\n}\n{\n  \"a\": \"s\"\n}\n", 5),
            "{\n  \"a\":\"1\",\n  \"b\": 2\n}\n{\n  \"a\":\"\\\"s\\\"\"}\n"
        );
        // A cut record is passed on as it was, for the decoder to refuse.
        assert_eq!(rewritten("{\"a\": 1", 2), "{\"a\": 1");
    }
}
