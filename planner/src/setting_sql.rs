//! `SET [GLOBAL | SESSION] s3_region = 'eu-west-1'` (or `TO`), `RESET
//! s3_region`, `SHOW s3_region` and `current_setting('s3_region')` for
//! DuckDB's `s3_*` and `http_*` settings. Other names (`SET
//! datafusion.execution.batch_size = ...`) go on to DataFusion untouched.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::FieldRef;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::sql::sqlparser::ast::{Expr, UnaryOperator, Value};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::error::{PlannerError, Result};
use crate::settings::{Settings, is_ours, is_sensitive};
use crate::statement::unexpected;

/// A parsed setting statement.
#[derive(Debug)]
pub(crate) enum SettingStatement {
    /// `SET name = value`. The value may be a secret (`s3_secret_access_key`),
    /// so `Debug` leaves it out.
    Set { name: String, value: SetValue },
    /// `RESET name`.
    Reset { name: String },
    /// `SHOW name`.
    Show { name: String },
}

impl SettingStatement {
    /// Whether it sets a value that must never be shown.
    pub(crate) fn is_sensitive(&self) -> bool {
        match self {
            SettingStatement::Set { name, .. } => is_sensitive(name),
            _ => false,
        }
    }
}

/// A SET value, kept out of `Debug` output.
pub(crate) struct SetValue(String);

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<value>")
    }
}

/// The word at `n` tokens ahead, upper-cased.
fn word(parser: &Parser<'_>, n: usize) -> Option<String> {
    match parser.peek_nth_token(n).token {
        Token::Word(w) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Parses SET / RESET / SHOW of an `s3_*` or `http_*` name; `None`
/// (nothing consumed) for anything else.
pub(crate) fn parse(parser: &mut Parser<'_>) -> Result<Option<SettingStatement>> {
    let Some(verb) = word(parser, 0) else {
        return Ok(None);
    };
    if !matches!(verb.as_str(), "SET" | "RESET" | "SHOW") {
        return Ok(None);
    }
    let scoped = verb != "SHOW"
        && matches!(
            word(parser, 1).as_deref(),
            Some("GLOBAL" | "SESSION" | "LOCAL")
        );
    let at = if scoped { 2 } else { 1 };
    let name = match parser.peek_nth_token(at).token {
        Token::Word(w) if is_ours(&w.value) => w.value.to_ascii_lowercase(),
        _ => return Ok(None),
    };
    for _ in 0..=at {
        parser.next_token();
    }
    let statement = parse_rest(parser, &verb, name.clone());
    if is_sensitive(&name) {
        // sqlparser's messages quote what they found, maybe the secret.
        return statement.map(Some).map_err(crate::statement::hide_literals);
    }
    statement.map(Some)
}

/// What follows `SET name`, `RESET name` or `SHOW name`.
fn parse_rest(parser: &mut Parser<'_>, verb: &str, name: String) -> Result<SettingStatement> {
    Ok(match verb {
        "SET" => {
            if !parser.consume_token(&Token::Eq) && !parser.parse_keyword(Keyword::TO) {
                return Err(unexpected(parser, "= or TO").into());
            }
            let expr = parser.parse_expr()?;
            // The value is not echoed: it may be a secret.
            let value = setting_value(&expr).ok_or_else(|| PlannerError::Setting {
                name: name.clone(),
                message: "the value must be a literal: a quoted string, a number or true/false"
                    .into(),
            })?;
            SettingStatement::Set {
                name,
                value: SetValue(value),
            }
        }
        "RESET" => SettingStatement::Reset { name },
        _ => SettingStatement::Show { name },
    })
}

/// A literal's text: strings, numbers (as written), booleans, bare words.
fn setting_value(expr: &Expr) -> Option<String> {
    match expr {
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => setting_value(expr).map(|v| format!("-{v}")),
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => Some(b.to_string()),
            Value::Number(n, _) => Some(n.to_string()),
            other => other.clone().into_string(),
        },
        Expr::Identifier(ident) => Some(ident.value.clone()),
        _ => None,
    }
}

/// Runs a setting statement: SET and RESET return no rows, SHOW one row
/// of `name` and `value`.
pub(crate) fn execute(settings: &Settings, statement: SettingStatement) -> Result<RecordBatch> {
    match statement {
        SettingStatement::Set { name, value } => settings.set(&name, &value.0)?,
        SettingStatement::Reset { name } => settings.reset(&name)?,
        SettingStatement::Show { name } => {
            let (name, value) = settings.show(&name)?;
            return name_value(name, value.as_deref());
        }
    }
    Ok(RecordBatch::new_empty(Arc::new(Schema::empty())))
}

fn name_value(name: &str, value: Option<&str>) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![name])),
            Arc::new(StringArray::from(vec![value])),
        ],
    )?)
}

/// `current_setting('name')`, DuckDB's function, for this session's
/// settings, typed as DuckDB types them (sensitive values read `redacted`,
/// where DuckDB 1.5 shows them in plain text).
pub(crate) fn current_setting(settings: Arc<Settings>) -> ScalarUDF {
    ScalarUDF::new_from_impl(CurrentSetting {
        settings,
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Stable),
    })
}

#[derive(Debug)]
struct CurrentSetting {
    settings: Arc<Settings>,
    signature: Signature,
}

impl PartialEq for CurrentSetting {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.settings, &other.settings)
    }
}

impl Eq for CurrentSetting {}

impl Hash for CurrentSetting {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.settings).hash(state);
    }
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        // Only reached without a constant name, which invoke refuses.
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs<'_>,
    ) -> datafusion::error::Result<FieldRef> {
        let name = match args.scalar_arguments {
            [Some(value)] => value.try_as_str().flatten(),
            _ => None,
        };
        let Some(name) = name else {
            return plan_err!("current_setting takes one constant setting name");
        };
        let data_type =
            Settings::data_type(name).map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let name = match args.args.as_slice() {
            [ColumnarValue::Scalar(value)] => value.try_as_str().flatten(),
            _ => None,
        };
        let Some(name) = name else {
            return exec_err!("current_setting takes one constant setting name");
        };
        let value = self
            .settings
            .typed(name)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(ColumnarValue::Scalar(value))
    }
}
