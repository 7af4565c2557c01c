//! Parameters as a statement gives them (`KEY_ID 'x', USE_SSL false`), and
//! their checking against what a secret's type and provider accept.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SecretError};

/// Parameter names whose values are secret: never printed, never echoed in
/// an error. Compared case-insensitively.
pub const SENSITIVE_PARAMETERS: [&str; 4] = [
    "secret",
    "session_token",
    "aws_secret_access_key",
    "aws_session_token",
];

/// Whether a parameter's value must never be shown.
pub fn is_sensitive(name: &str) -> bool {
    SENSITIVE_PARAMETERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// A parameter's value as SQL wrote it: a string (quoted or a bare word such
/// as `credential_chain`), a boolean, an integer, or a list of strings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A string literal or a bare identifier.
    Str(String),
    /// `['a', 'b']`.
    List(Vec<String>),
}

impl ParamValue {
    /// The SQL type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Bool(_) => "BOOLEAN",
            Self::Int(_) => "INTEGER",
            Self::Str(_) => "VARCHAR",
            Self::List(_) => "VARCHAR[]",
        }
    }

    /// The value as a SQL literal (used for listings of non-secret values).
    fn render(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Int(i) => i.to_string(),
            Self::Str(s) => s.clone(),
            Self::List(items) => format!("[{}]", items.join(", ")),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// Parameters in the order given, names kept as written but compared
/// case-insensitively. `Debug` redacts sensitive values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters(Vec<(String, ParamValue)>);

impl Parameters {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter; a name given twice is an error.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> Result<()> {
        let name = name.into();
        if self.get(&name).is_some() {
            return Err(SecretError::DuplicateParameter(name.to_ascii_uppercase()));
        }
        self.0.push((name, value.into()));
        Ok(())
    }

    /// Builder form of [`Self::insert`], for tests and literal tables.
    pub fn with(mut self, name: &str, value: impl Into<ParamValue>) -> Result<Self> {
        self.insert(name, value)?;
        Ok(self)
    }

    /// The value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Removes and returns `name`'s value.
    pub fn take(&mut self, name: &str) -> Option<ParamValue> {
        let at = self
            .0
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(self.0.remove(at).1)
    }

    /// Names and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// `NAME=value` pairs with sensitive values replaced by `redacted`, as
    /// DuckDB's `duckdb_secrets()` shows them.
    pub fn redacted(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| {
                let shown = if is_sensitive(n) {
                    "redacted".to_owned()
                } else {
                    v.render()
                };
                (n.to_ascii_lowercase(), shown)
            })
            .collect()
    }
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.redacted()).finish()
    }
}

impl fmt::Debug for ParamValue {
    /// Shows the type only: a lone value does not know whether it is secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParamValue({})", self.type_name())
    }
}

/// Reads typed values out of [`Parameters`], producing errors that name the
/// parameter and what it takes.
pub(crate) struct Reader<'a> {
    pub(crate) params: &'a mut Parameters,
}

impl Reader<'_> {
    fn wrong(name: &str, expected: &str, value: &ParamValue) -> SecretError {
        let got = if is_sensitive(name) {
            value.type_name().to_owned()
        } else {
            format!("{} {}", value.type_name(), value.render())
        };
        SecretError::WrongType {
            name: name.to_ascii_uppercase(),
            expected: expected.to_owned(),
            got,
        }
    }

    /// A non-empty string.
    pub(crate) fn string(&mut self, name: &str) -> Result<Option<String>> {
        match self.params.take(name) {
            None => Ok(None),
            Some(ParamValue::Str(s)) if !s.is_empty() => Ok(Some(s)),
            Some(ParamValue::Str(_)) => Err(SecretError::Invalid(format!(
                "parameter {} is empty; give a value or leave it out",
                name.to_ascii_uppercase()
            ))),
            Some(other) => Err(Self::wrong(name, "a VARCHAR", &other)),
        }
    }

    /// A non-empty string of visible ASCII only, for values that go into
    /// request headers (KEY_ID and REGION into the Authorization header,
    /// SESSION_TOKEN, ENDPOINT): a line break pasted with a key made the
    /// signer panic. The error names the parameter, never the value.
    pub(crate) fn header_value(&mut self, name: &str) -> Result<Option<String>> {
        let value = self.string(name)?;
        if let Some(at) = value
            .as_deref()
            .and_then(|v| v.chars().position(|c| !c.is_ascii_graphic()))
        {
            return Err(SecretError::Invalid(format!(
                "parameter {} holds a line break, control character, white space or non-ASCII character (character {} of its value); give it again without it",
                name.to_ascii_uppercase(),
                at + 1
            )));
        }
        Ok(value)
    }

    /// A boolean: `true`/`false`, or a string or integer DuckDB casts to one.
    pub(crate) fn boolean(&mut self, name: &str) -> Result<Option<bool>> {
        let Some(value) = self.params.take(name) else {
            return Ok(None);
        };
        let parsed = match &value {
            ParamValue::Bool(b) => Some(*b),
            ParamValue::Int(0) => Some(false),
            ParamValue::Int(1) => Some(true),
            ParamValue::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Some(true),
                "false" | "f" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| Self::wrong(name, "a BOOLEAN (true or false)", &value))
    }

    /// One of a few words, case-insensitively; returns it lowercased.
    pub(crate) fn choice(&mut self, name: &str, options: &[&str]) -> Result<Option<String>> {
        let Some(value) = self.params.take(name) else {
            return Ok(None);
        };
        if let ParamValue::Str(s) = &value {
            let lower = s.to_ascii_lowercase();
            if options.contains(&lower.as_str()) {
                return Ok(Some(lower));
            }
        }
        let expected = options
            .iter()
            .map(|o| format!("'{o}'"))
            .collect::<Vec<_>>()
            .join(" or ");
        Err(Self::wrong(name, &expected, &value))
    }

    /// A string or a list of strings.
    pub(crate) fn strings(&mut self, name: &str) -> Result<Option<Vec<String>>> {
        match self.params.take(name) {
            None => Ok(None),
            Some(ParamValue::Str(s)) => Ok(Some(vec![s])),
            Some(ParamValue::List(items)) if !items.is_empty() => Ok(Some(items)),
            Some(other) => Err(Self::wrong(name, "a VARCHAR or a list of VARCHAR", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_unique() {
        let mut p = Parameters::new();
        p.insert("Key_Id", "AKIA").unwrap();
        assert!(p.get("KEY_ID").is_some());
        let err = p.insert("key_id", "other").unwrap_err().to_string();
        assert!(err.contains("KEY_ID is given twice"), "{err}");
    }

    #[test]
    fn debug_and_errors_never_show_secret_values() {
        let mut p = Parameters::new()
            .with("KEY_ID", "AKIAVISIBLE")
            .unwrap()
            .with("secret", "hunter2-secret")
            .unwrap()
            .with("SESSION_TOKEN", "tok-123-secret")
            .unwrap();
        let printed = format!("{p:?} {:?}", p.get("secret"));
        assert!(printed.contains("AKIAVISIBLE"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("tok-123"), "{printed}");
        let mut r = Reader { params: &mut p };
        let err = r.boolean("secret").unwrap_err().to_string();
        assert!(err.contains("expects a BOOLEAN"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn booleans_follow_duckdb_casts() {
        for (v, want) in [
            (ParamValue::Bool(true), Some(true)),
            ("false".into(), Some(false)),
            ("T".into(), Some(true)),
            ("0".into(), Some(false)),
            (ParamValue::Int(1), Some(true)),
            ("maybe".into(), None),
            (ParamValue::Int(2), None),
        ] {
            let mut p = Parameters::new().with("USE_SSL", v).unwrap();
            let got = Reader { params: &mut p }.boolean("use_ssl");
            match want {
                Some(b) => assert_eq!(got.unwrap(), Some(b)),
                None => {
                    let err = got.unwrap_err().to_string();
                    assert!(err.contains("USE_SSL expects a BOOLEAN"), "{err}");
                }
            }
        }
    }
}
