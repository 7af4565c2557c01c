//! `PARAMETERS = {...}`: the object of a `CREATE DATABASE`, read as
//! MindsDB's grammar reads it (`mindsdb_sql_parser`'s `json` rule): names
//! and values in double or single quotes (a quote inside written doubled,
//! as SQL does, or after a backslash, as JSON does), and `null` (the
//! parameter is then absent); a trailing comma is accepted too. Every
//! parameter of ENGINE 's3' is a string, so a number, `true` or `false`
//! is refused where it stands (boto3 refuses them too), and so is a `\u`
//! escape that is not four hex digits or a whole surrogate pair, as
//! Python's json refuses it.
//! A malformed object is a syntax error that points at the spot in the
//! statement (line, column and a caret under the echoed line, with every
//! value on it starred out), like every other syntax error.

use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::Location;
use s3sql_secrets::{ParamValue, Parameters};

use crate::error::{PlannerError, Result};

/// The parameters of the object `text`, which starts at `start` in `sql`.
/// A name given twice keeps its last value, as MindsDB's.
pub(crate) fn parse(sql: &str, start: Location, text: &str) -> Result<Parameters> {
    let mut reader = Reader {
        chars: text.chars().collect(),
        at: 0,
    };
    let fail = |reader: &Reader, at: usize, reason: &str| {
        let (line, column) = reader.position(at);
        malformed(sql, start, reason, line, column)
    };
    let mut parameters = Parameters::new();
    if reader.peek() != Some('{') {
        return Err(fail(&reader, 0, "expected `{`"));
    }
    reader.at += 1;
    loop {
        reader.skip_white_space();
        if reader.peek() == Some('}') {
            reader.at += 1;
            break;
        }
        let name_at = reader.at;
        let name = match reader.string() {
            Some(Ok(name)) => name,
            Some(Err(Unreadable::Escape(at))) => return Err(fail(&reader, at, ESCAPE)),
            Some(Err(_)) => return Err(fail(&reader, name_at, "a string is never closed")),
            None => {
                return Err(fail(
                    &reader,
                    name_at,
                    "a parameter name must be a quoted string, like \"bucket\"",
                ));
            }
        };
        // ENGINE 's3' takes six names: any other is refused as it is read,
        // not after a long object is read whole.
        s3sql_secrets::check_mindsdb_parameter(&name)?;
        reader.skip_white_space();
        if reader.peek() != Some(':') {
            return Err(fail(
                &reader,
                reader.at,
                "expected `:` after the parameter name",
            ));
        }
        reader.at += 1;
        reader.skip_white_space();
        let value_at = reader.at;
        match reader.value() {
            Ok(Some(value)) => {
                let _ = parameters.take(&name);
                parameters.insert(name, value)?;
            }
            // null: as if the parameter were not given.
            Ok(None) => {
                let _ = parameters.take(&name);
            }
            Err(Unreadable::Unclosed(at)) => {
                return Err(fail(&reader, at, "a string is never closed"));
            }
            Err(Unreadable::Escape(at)) => return Err(fail(&reader, at, ESCAPE)),
            Err(Unreadable::Nested(kind)) => {
                return Err(fail(
                    &reader,
                    value_at,
                    &format!("\"{name}\" takes a string, not {kind}"),
                ));
            }
            Err(Unreadable::Other) => {
                return Err(fail(
                    &reader,
                    value_at,
                    "a value must be a quoted string, or null for a parameter not given",
                ));
            }
        }
        reader.skip_white_space();
        match reader.peek() {
            Some(',') => reader.at += 1,
            Some('}') => {
                reader.at += 1;
                break;
            }
            _ => {
                return Err(fail(
                    &reader,
                    reader.at,
                    "expected `,` or `}` (a comma is missing before this)",
                ));
            }
        }
    }
    reader.skip_white_space();
    if reader.at < reader.chars.len() {
        return Err(fail(&reader, reader.at, "expected the end of the object"));
    }
    Ok(parameters)
}

/// What a `\u` escape that JSON refuses is told.
const ESCAPE: &str = "a \\u escape takes four hex digits (a surrogate, \\ud800 to \\udfff, only as the first of a pair)";

/// Why a value could not be read.
enum Unreadable {
    /// A string opened at this index is never closed.
    Unclosed(usize),
    /// A `\u` escape at this index is not four hex digits, or a lone
    /// surrogate.
    Escape(usize),
    /// Not a string: an array or object (`"an array"`, `"an object"`), a
    /// number, `true` or `false`.
    Nested(&'static str),
    /// Anything else: an unquoted word, a stray character.
    Other,
}

/// The object's characters and the reading position.
struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_white_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// The 1-based line and column of index `at`.
    fn position(&self, at: usize) -> (usize, usize) {
        let before = &self.chars[..at.min(self.chars.len())];
        let line = 1 + before.iter().filter(|c| **c == '\n').count();
        let column = 1 + before.iter().rev().take_while(|c| **c != '\n').count();
        (line, column)
    }

    /// A string in double or single quotes, its backslash escapes (JSON's,
    /// and `\'`) resolved and a doubled quote read as one; `None` when
    /// none starts here, `Err` when it is never closed or holds a `\u`
    /// escape JSON refuses.
    fn string(&mut self) -> Option<std::result::Result<String, Unreadable>> {
        let quote = self.peek().filter(|c| *c == '"' || *c == '\'')?;
        let begin = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Some(Err(Unreadable::Unclosed(begin)));
            };
            self.at += 1;
            match c {
                // SQL's way: the tokenizer took `'it''s'` as one string.
                c if c == quote && self.peek() == Some(quote) => {
                    self.at += 1;
                    out.push(quote);
                }
                c if c == quote => return Some(Ok(out)),
                '\\' => {
                    let Some(escaped) = self.peek() else {
                        return Some(Err(Unreadable::Unclosed(begin)));
                    };
                    self.at += 1;
                    match escaped {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => match self.unicode_escape() {
                            Some(c) => out.push(c),
                            None => return Some(Err(Unreadable::Escape(self.at - 2))),
                        },
                        // \", \', \\, \/ and anything else: the character.
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// The four hex digits after `\u` (and a low surrogate's `\uXXXX`
    /// after a high one), as one character; `None` when JSON refuses them.
    fn unicode_escape(&mut self) -> Option<char> {
        let hex = |reader: &Self, from: usize| -> Option<u32> {
            let digits: String = reader.chars.get(from..from + 4)?.iter().collect();
            digits
                .chars()
                .all(|c| c.is_ascii_hexdigit())
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
        };
        let first = hex(self, self.at)?;
        if let Some(c) = char::from_u32(first) {
            self.at += 4;
            return Some(c);
        }
        // A high surrogate, then `\u` and a low one.
        let low = (0xD800..0xDC00)
            .contains(&first)
            .then(|| self.chars.get(self.at + 4..self.at + 6))
            .flatten()
            .filter(|marker| *marker == ['\\', 'u'])
            .and_then(|_| hex(self, self.at + 6))
            .filter(|low| (0xDC00..0xE000).contains(low))?;
        self.at += 10;
        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))
    }

    /// A value: a string, or null (`Ok(None)`); a number, `true` or
    /// `false` is refused (every parameter takes a string).
    fn value(&mut self) -> std::result::Result<Option<ParamValue>, Unreadable> {
        match self.peek() {
            Some('"' | '\'') => match self.string() {
                Some(Ok(s)) => Ok(Some(ParamValue::Str(s))),
                Some(Err(e)) => Err(e),
                None => Err(Unreadable::Other),
            },
            Some('[') => Err(Unreadable::Nested("an array")),
            Some('{') => Err(Unreadable::Nested("an object")),
            Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => {
                let text = self.word(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
                if text.parse::<f64>().is_ok() {
                    Err(Unreadable::Nested("a number (write it in quotes)"))
                } else {
                    Err(Unreadable::Other)
                }
            }
            Some(c) if c.is_alphabetic() => {
                let begin = self.at;
                let word = self.word(|c| c.is_alphanumeric() || c == '_');
                match word.to_ascii_lowercase().as_str() {
                    "true" | "false" => Err(Unreadable::Nested("true or false")),
                    "null" => Ok(None),
                    _ => {
                        self.at = begin;
                        Err(Unreadable::Other)
                    }
                }
            }
            _ => Err(Unreadable::Other),
        }
    }

    /// The run of characters from here that `keep` accepts.
    fn word(&mut self, keep: impl Fn(char) -> bool) -> String {
        let begin = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        self.chars[begin..self.at].iter().collect()
    }
}

fn syntax(message: String) -> PlannerError {
    PlannerError::Syntax(ParserError::ParserError(message))
}

/// The syntax error `reason` at `line` and `column` (1-based, within the
/// object), placed in the statement.
fn malformed(sql: &str, start: Location, reason: &str, line: usize, column: usize) -> PlannerError {
    let at_line = start.line as usize + line.saturating_sub(1);
    let at_column = if line <= 1 {
        start.column as usize + column.saturating_sub(1)
    } else {
        column
    };
    // Lower case "line"/"column": the pointer is already here, so the
    // shell's own (which looks for "Line: ") does not add a second one.
    let text = format!(
        "PARAMETERS is not a valid JSON object: {reason} at line {at_line}, column {at_column}{}",
        pointer(sql, at_line, at_column)
    );
    syntax(text)
}

/// The statement's line `line` under the error with a caret at `column`
/// (both 1-based), sensitive values starred out; empty when there is no
/// such line.
fn pointer(sql: &str, line: usize, column: usize) -> String {
    // The whole statement is masked, then cut: a value may begin on the
    // line before the echoed one (after its name's `:`, or inside quotes).
    let masked = crate::mask::masked_statement(sql);
    let Some(echoed) = masked.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let prefix = format!("LINE {line}: ");
    let indent = prefix.chars().count() + column.saturating_sub(1);
    format!("\n{prefix}{echoed}\n{}^", " ".repeat(indent))
}

/// A syntax error about a statement with a PARAMETERS object, pointed at
/// here with its sensitive values starred out, and worded "at line l,
/// column c" so a shell does not echo the line again, unmasked.
pub(crate) fn pointed(error: PlannerError, sql: &str) -> PlannerError {
    let PlannerError::Syntax(ParserError::ParserError(message)) = &error else {
        return error;
    };
    let Some(at) = message.rfind(" at Line: ") else {
        return error;
    };
    let rest = &message[at + " at Line: ".len()..];
    let Some((line, rest)) = rest.split_once(", Column: ") else {
        return error;
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let (Ok(line), Ok(column)) = (line.parse::<usize>(), digits.parse::<usize>()) else {
        return error;
    };
    let after = &rest[digits.len()..];
    syntax(format!(
        "{} at line {line}, column {column}{after}{}",
        &message[..at],
        pointer(sql, line, column)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Location {
        Location { line, column }
    }

    #[test]
    fn the_reference_example_points_at_the_missing_comma() {
        let sql = "CREATE DATABASE s3_datasource\nWITH\n    engine = 's3',\n    parameters = {\n      \"aws_access_key_id\": \"AQAXEQK89OX07YS34OP\"\n      \"aws_secret_access_key\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n      \"bucket\": \"my-bucket\",\n    };";
        let start = sql.find('{').unwrap();
        let text = &sql[start..sql.rfind('}').unwrap() + 1];
        let e = parse(sql, at(4, 18), text).unwrap_err().to_string();
        assert!(
            e.contains("a comma is missing before this) at line 6, column 7"),
            "{e}"
        );
        assert!(
            e.contains("LINE 6:       \"aws_secret_access_key\": \"****"),
            "{e}"
        );
        assert!(!e.contains("wJalrXUtnFEMI"), "{e}");
        let caret = e.lines().last().unwrap();
        assert_eq!(caret.find('^'), Some("LINE 6: ".len() + 6), "{e}");
    }

    #[test]
    fn other_syntax_errors_are_pointed_at_with_the_secret_starred() {
        let sql = "CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {\"aws_secret_access_key\": \"TOPSECRET\"} x";
        let e = syntax("Expected: end of statement, found: x at Line: 1, Column: 87".into());
        let e = pointed(e, sql).to_string();
        assert!(e.contains("found: x at line 1, column 87\nLINE 1: "), "{e}");
        assert!(
            e.contains("\"aws_secret_access_key\": \"*********\"} x"),
            "{e}"
        );
        assert!(!e.contains("TOPSECRET") && !e.contains("Line: "), "{e}");
    }

    #[test]
    fn trailing_commas_are_accepted() {
        let p = parse(
            "",
            at(1, 1),
            "{\"bucket\": \"b\", \"endpoint_url\": \"3\",\n}",
        )
        .unwrap();
        assert_eq!(p.get("bucket"), Some(&ParamValue::Str("b".into())));
        assert_eq!(p.get("endpoint_url"), Some(&ParamValue::Str("3".into())));
        let p = parse("", at(1, 1), "{\"bucket\": \"x,}\"}").unwrap();
        assert_eq!(p.get("bucket"), Some(&ParamValue::Str("x,}".into())));
        let e = parse("", at(1, 1), "{\"bucket\": [1]}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"bucket\" takes a string, not an array"), "{e}");
    }

    /// A name ENGINE 's3' does not take is refused as soon as it is read:
    /// every name was kept, each insert scanning those before it, so an
    /// object of 20,000 names took 5.7 s before "unknown parameter"
    /// (review-10b #13e); a malformed rest is not reached.
    #[test]
    fn an_unknown_name_is_refused_as_it_is_read() {
        let e = parse("", at(1, 1), "{\"p0\": \"x\", \"bucket\" \"b\"}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown parameter 'p0' for ENGINE 's3'; accepted: aws_access_key_id"),
            "{e}"
        );
        let many: Vec<String> = (0..200_000).map(|i| format!("\"p{i}\": \"v\"")).collect();
        let text = format!("{{\"bucket\": \"b\", {}}}", many.join(", "));
        let e = parse("", at(1, 1), &text).unwrap_err().to_string();
        assert!(e.contains("unknown parameter 'p0'"), "{e}");
    }

    /// Every parameter of ENGINE 's3' is a string: a number or a boolean
    /// was kept as its text (`1e999` listed as a region) or reached the
    /// secret as an INTEGER; boto3 refuses them. A `\u` escape JSON
    /// refuses was kept as its text.
    #[test]
    fn numbers_booleans_and_bad_escapes_are_refused_where_they_stand() {
        for (text, error) in [
            (
                "{'region_name': 1e999}",
                "\"region_name\" takes a string, not a number (write it in quotes) at line 1, column 17",
            ),
            (
                "{'aws_session_token': 123456789012345678901234567890}",
                "\"aws_session_token\" takes a string, not a number",
            ),
            (
                "{'endpoint_url': -2}",
                "\"endpoint_url\" takes a string, not a number",
            ),
            (
                "{'bucket': TRUE}",
                "\"bucket\" takes a string, not true or false",
            ),
            (
                "{'region_name': \"\\u00\"}",
                "a \\u escape takes four hex digits (a surrogate, \\ud800 to \\udfff, only as the first of a pair) at line 1, column 18",
            ),
            ("{'region_name': \"\\ud800\"}", "a \\u escape takes four"),
            (
                "{'region_name': \"\\ud800\\u0041\"}",
                "a \\u escape takes four",
            ),
            ("{'region_name': \"\\u12g4\"}", "a \\u escape takes four"),
            ("{\"\\uzz\": \"x\"}", "a \\u escape takes four"),
        ] {
            let e = parse("", at(1, 1), text).unwrap_err().to_string();
            assert!(e.contains(error), "{text}: {e}");
        }
        let p = parse("", at(1, 1), "{'region_name': \"\\ud83d\\ude00\\u00e9\"}").unwrap();
        assert_eq!(
            p.get("region_name"),
            Some(&ParamValue::Str("\u{1F600}\u{e9}".into()))
        );
    }

    /// MindsDB's grammar takes names and values in single quotes too, and
    /// null for a parameter not given; a quote inside a value is written
    /// doubled (SQL's way, which the statement's tokenizer lets through;
    /// a backslash before it ends the string there for the tokenizer).
    #[test]
    fn single_quotes_and_null_are_read_as_mindsdb_reads_them() {
        let p = parse(
            "",
            at(1, 1),
            "{'bucket': 'b', \"aws_session_token\": null, 'region_name': \"it's\", 'aws_access_key_id': 'a\\'b\\u00e9', 'aws_secret_access_key': 'it''s', \"endpoint_url\": \"a\"\"b\"}",
        )
        .unwrap();
        assert_eq!(p.get("bucket"), Some(&ParamValue::Str("b".into())));
        assert_eq!(p.get("aws_session_token"), None);
        assert_eq!(p.get("region_name"), Some(&ParamValue::Str("it's".into())));
        assert_eq!(
            p.get("aws_access_key_id"),
            Some(&ParamValue::Str("a'b\u{e9}".into()))
        );
        assert_eq!(
            p.get("aws_secret_access_key"),
            Some(&ParamValue::Str("it's".into()))
        );
        assert_eq!(p.get("endpoint_url"), Some(&ParamValue::Str("a\"b".into())));
        // A name given twice keeps its last value, as MindsDB's dict does.
        let p = parse("", at(1, 1), "{'bucket': 'x', 'bucket': 'y'}").unwrap();
        assert_eq!(p.get("bucket"), Some(&ParamValue::Str("y".into())));
        let p = parse("", at(1, 1), "{}").unwrap();
        assert_eq!(p.iter().count(), 0);
        for (text, error) in [
            ("{bucket: 'b'}", "a parameter name must be a quoted string"),
            ("{'bucket' 'b'}", "expected `:` after the parameter name"),
            ("{'bucket': b}", "a value must be a quoted string, or null"),
            (
                "{'bucket': 'b}",
                "a string is never closed at line 1, column 12",
            ),
            (
                "{'bucket': 'x' 'region_name': 'y'}",
                "a comma is missing before this) at line 1, column 16",
            ),
        ] {
            let e = parse("", at(1, 1), text).unwrap_err().to_string();
            assert!(e.contains(error), "{text}: {e}");
        }
    }

    #[test]
    fn an_error_on_the_first_line_is_placed_after_the_brace() {
        let sql = "CREATE DATABASE d WITH ENGINE='s3', PARAMETERS={\"bucket\" \"b\"}";
        let start = sql.find('{').unwrap();
        let e = parse(sql, at(1, start as u64 + 1), &sql[start..])
            .unwrap_err()
            .to_string();
        // The reader stops at the second string, column 11 of the object.
        assert!(
            e.contains(&format!("at line 1, column {}", start + 11)),
            "{e}"
        );
    }
}
