//! A reader option's value as SQL gives it, and the coercions DuckDB applies
//! to it (`header = 'true'` and `header = 1` mean `header = true`).

use std::fmt;

use crate::FormatError;

/// One DuckDB reader option value as SQL gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A string literal (or a bare identifier).
    Str(String),
    /// `[a, b, ...]`.
    List(Vec<OptionValue>),
    /// `{'name': value, ...}`.
    Struct(Vec<(String, OptionValue)>),
}

impl OptionValue {
    /// The value as DuckDB casts it to BOOLEAN: `true`/`false`, `1`/`0`,
    /// or one of the words [`parse_bool`] takes; `None` for anything else.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            OptionValue::Bool(b) => Some(*b),
            OptionValue::Int(0) => Some(false),
            OptionValue::Int(1) => Some(true),
            OptionValue::Str(s) => parse_bool(s),
            _ => None,
        }
    }
}

/// DuckDB's words for a BOOLEAN, any case: `true`/`t`/`1`/`on`/`yes` and
/// `false`/`f`/`0`/`off`/`no`. One table for reader options, COPY options
/// and settings, so they accept the same spellings.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "on" | "yes" => Some(true),
        "false" | "f" | "0" | "off" | "no" => Some(false),
        _ => None,
    }
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Bool(b) => write!(f, "{b}"),
            OptionValue::Int(i) => write!(f, "{i}"),
            OptionValue::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            OptionValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            OptionValue::Struct(fields) => {
                f.write_str("{")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{}': {value}", name.replace('\'', "''"))?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Coercions of one option's value; `option` is the canonical name, for errors.
pub(crate) struct Coerce<'a> {
    pub(crate) option: &'static str,
    pub(crate) value: &'a OptionValue,
}

impl Coerce<'_> {
    pub(crate) fn invalid(&self, expected: &'static str) -> FormatError {
        FormatError::InvalidOptionValue {
            option: self.option,
            expected,
            got: self.value.to_string(),
        }
    }

    pub(crate) fn bool(&self) -> Result<bool, FormatError> {
        self.value
            .as_bool()
            .ok_or_else(|| self.invalid("true or false"))
    }

    pub(crate) fn string(&self) -> Result<String, FormatError> {
        match self.value {
            OptionValue::Str(s) => Ok(s.clone()),
            _ => Err(self.invalid("a string")),
        }
    }

    pub(crate) fn int(&self) -> Result<i64, FormatError> {
        match self.value {
            OptionValue::Int(i) => Ok(*i),
            OptionValue::Str(s) => s.trim().parse().map_err(|_| self.invalid("an integer")),
            _ => Err(self.invalid("an integer")),
        }
    }

    pub(crate) fn non_negative(&self) -> Result<u64, FormatError> {
        u64::try_from(self.int()?).map_err(|_| self.invalid("an integer of 0 or more"))
    }

    /// A single ASCII character, DuckDB's escapes `\t`, `\n`, `\r` and `\\`
    /// understood; `''` is `None` (the feature off, as for `quote = ''`).
    pub(crate) fn optional_char(&self) -> Result<Option<u8>, FormatError> {
        const EXPECTED: &str = "a single ASCII character such as ',' or '\\t' (or '' for none)";
        let s = match self.value {
            OptionValue::Str(s) => s.as_str(),
            _ => return Err(self.invalid(EXPECTED)),
        };
        match s.as_bytes() {
            [] => Ok(None),
            [b'\\', b't'] => Ok(Some(b'\t')),
            [b'\\', b'n'] => Ok(Some(b'\n')),
            [b'\\', b'r'] => Ok(Some(b'\r')),
            [b'\\', b'\\'] => Ok(Some(b'\\')),
            [b] if b.is_ascii() => Ok(Some(*b)),
            _ => Err(self.invalid(EXPECTED)),
        }
    }

    /// A single ASCII character that must be present.
    pub(crate) fn char(&self) -> Result<u8, FormatError> {
        self.optional_char()?
            .ok_or_else(|| self.invalid("a single ASCII character such as ',' or '\\t'"))
    }

    /// A string or a list of strings.
    pub(crate) fn strings(&self) -> Result<Vec<String>, FormatError> {
        const EXPECTED: &str = "a string or a list of strings";
        match self.value {
            OptionValue::Str(s) => Ok(vec![s.clone()]),
            OptionValue::List(items) => items
                .iter()
                .map(|item| match item {
                    OptionValue::Str(s) => Ok(s.clone()),
                    _ => Err(self.invalid(EXPECTED)),
                })
                .collect(),
            _ => Err(self.invalid(EXPECTED)),
        }
    }

    /// `{'name': 'TYPE', ...}` as (name, type name) pairs.
    pub(crate) fn name_type_pairs(&self) -> Result<Vec<(String, String)>, FormatError> {
        const EXPECTED: &str = "a struct of column name to type, such as {'a': 'INTEGER'}";
        match self.value {
            OptionValue::Struct(fields) => fields
                .iter()
                .map(|(name, value)| match value {
                    OptionValue::Str(ty) => Ok((name.clone(), ty.clone())),
                    _ => Err(self.invalid(EXPECTED)),
                })
                .collect(),
            _ => Err(self.invalid(EXPECTED)),
        }
    }
}
