//! `PARAMETERS = {...}`: the JSON object of a `CREATE DATABASE`, read with
//! serde_json. A malformed object is a syntax error that points at the spot
//! in the statement (line, column and a caret under the echoed line, with
//! the values of sensitive parameters starred out), like every other
//! syntax error.

use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::Location;
use s3sql_secrets::{ParamValue, Parameters};

use crate::error::{PlannerError, Result};

/// The parameters of the JSON object `text`, which starts at `start` in
/// `sql`. Trailing commas are accepted (MindsDB's own example has one).
pub(crate) fn parse(sql: &str, start: Location, text: &str) -> Result<Parameters> {
    let relaxed = without_trailing_commas(text);
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&relaxed)
        .map_err(|e| malformed(sql, start, &e.to_string(), e.line(), e.column()))?;
    let mut parameters = Parameters::new();
    for (name, value) in object {
        let value = match value {
            serde_json::Value::String(s) => ParamValue::Str(s),
            serde_json::Value::Bool(b) => ParamValue::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ParamValue::Int(i),
                None => ParamValue::Str(n.to_string()),
            },
            other => {
                return Err(syntax(format!(
                    "PARAMETERS: \"{name}\" takes a string, not {}",
                    json_kind(&other)
                )));
            }
        };
        parameters.insert(name, value)?;
    }
    Ok(parameters)
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
        _ => "this value",
    }
}

fn syntax(message: String) -> PlannerError {
    PlannerError::Syntax(ParserError::ParserError(message))
}

/// The syntax error for serde_json's `message` at its `line` and `column`
/// (1-based, within the object), placed in the statement.
fn malformed(
    sql: &str,
    start: Location,
    message: &str,
    line: usize,
    column: usize,
) -> PlannerError {
    let reason = message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at]);
    let hint = if reason.starts_with("expected `,` or `}`") {
        " (a comma is missing before this)"
    } else {
        ""
    };
    let at_line = start.line as usize + line.saturating_sub(1);
    let at_column = if line <= 1 {
        start.column as usize + column.saturating_sub(1)
    } else {
        column
    };
    // Lower case "line"/"column": the pointer is already here, so the
    // shell's own (which looks for "Line: ") does not add a second one.
    let text = format!(
        "PARAMETERS is not a valid JSON object: {reason}{hint} at line {at_line}, column {at_column}{}",
        pointer(sql, at_line, at_column)
    );
    syntax(text)
}

/// The statement's line `line` under the error with a caret at `column`
/// (both 1-based), sensitive values starred out; empty when there is no
/// such line.
fn pointer(sql: &str, line: usize, column: usize) -> String {
    let Some(echoed) = sql.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let prefix = format!("LINE {line}: ");
    let indent = prefix.chars().count() + column.saturating_sub(1);
    format!(
        "\n{prefix}{}\n{}^",
        mask_sensitive(echoed),
        " ".repeat(indent)
    )
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

/// `line` with every quoted string on it that is not a name (a string
/// followed by `:`) starred out, in double or single quotes, its length
/// kept so a caret below still points at the right column. Every value,
/// not only those of known sensitive names: a misspelled name
/// (`"aws_secret_key"`), an unquoted one or a value on the line after its
/// name must not be echoed either.
fn mask_sensitive(line: &str) -> String {
    let mut out: Vec<char> = line.chars().collect();
    let mut at = 0;
    while at < out.len() {
        let quote = out[at];
        if quote != '"' && quote != '\'' {
            at += 1;
            continue;
        }
        let begin = at + 1;
        let mut end = begin;
        while end < out.len() && out[end] != quote {
            end += if out[end] == '\\' { 2 } else { 1 };
        }
        let end = end.min(out.len());
        let is_name = out[(end + 1).min(out.len())..]
            .iter()
            .find(|c| !c.is_whitespace())
            == Some(&':');
        if !is_name {
            for c in &mut out[begin..end] {
                *c = '*';
            }
        }
        at = end + 1;
    }
    out.into_iter().collect()
}

/// `text` with each comma that is followed only by white space and a
/// closing brace replaced by a space (columns stay where they were).
fn without_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let mut in_string = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if in_string => i += 1,
            '"' => in_string = !in_string,
            ',' if !in_string => {
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if next == Some(&'}') {
                    out[i] = ' ';
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.into_iter().collect()
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
    fn trailing_commas_are_accepted_and_values_typed() {
        let p = parse(
            "",
            at(1, 1),
            "{\"bucket\": \"b\", \"n\": 3, \"t\": true,\n}",
        )
        .unwrap();
        assert_eq!(p.get("bucket"), Some(&ParamValue::Str("b".into())));
        assert_eq!(p.get("n"), Some(&ParamValue::Int(3)));
        assert_eq!(p.get("t"), Some(&ParamValue::Bool(true)));
        let p = parse("", at(1, 1), "{\"a\": \"x,}\"}").unwrap();
        assert_eq!(p.get("a"), Some(&ParamValue::Str("x,}".into())));
        let e = parse("", at(1, 1), "{\"a\": null}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"a\" takes a string, not null"), "{e}");
    }

    #[test]
    fn an_error_on_the_first_line_is_placed_after_the_brace() {
        let sql = "CREATE DATABASE d WITH ENGINE='s3', PARAMETERS={\"a\" \"b\"}";
        let start = sql.find('{').unwrap();
        let e = parse(sql, at(1, start as u64 + 1), &sql[start..])
            .unwrap_err()
            .to_string();
        // serde_json stops at the second string, column 6 of the object.
        assert!(
            e.contains(&format!("at line 1, column {}", start + 6)),
            "{e}"
        );
    }

    #[test]
    fn every_value_on_an_echoed_line_is_starred_whatever_its_name() {
        for line in [
            r#"{aws_access_key_id: "AKIA", aws_secret_access_key: "TOPSECRET", bucket: "b"}"#,
            r#"{'aws_secret_access_key': "TOPSECRET"}"#,
            r#" "TOPSECRET" x"#,
            r#"{"aws_secret_key": "TOPSECRET",}"#,
            r#"{"aws_secret_access_key": 'TOPSECRET'}"#,
        ] {
            let masked = mask_sensitive(line);
            assert!(!masked.contains("TOPSECRET"), "{line} -> {masked}");
            assert_eq!(masked.chars().count(), line.chars().count(), "{masked}");
        }
        assert_eq!(
            mask_sensitive(r#"  "aws_secret_access_key": "abc","#),
            r#"  "aws_secret_access_key": "***","#
        );
    }
}
