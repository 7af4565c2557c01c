//! DuckDB's BLOB beside DataFusion's `Binary` (a Parquet BYTE_ARRAY
//! without a string annotation, MindsDB's `files.content`): the type names
//! `BLOB`, `BYTEA`, `BINARY` and `VARBINARY` ([`blob_type`]); a string
//! cast to BLOB reads DuckDB's `\xHH` escapes (`'\xFF\x00abc'::BLOB` is
//! five bytes, and so is a column holding that text) and refuses other
//! non-ASCII text, as DuckDB's cast does ([`BlobCasts`]); `decode(blob)`
//! reads a BLOB's bytes as UTF-8 and `encode(text)` gives the bytes of a
//! text, as DuckDB's functions ([`Decode`], [`Encode`]; the cast of a BLOB
//! to VARCHAR escapes its bytes, crate::timestamp_text); `octet_length`
//! measures a BLOB ([`OctetLength`]); and the text functions DuckDB
//! refuses a BLOB (`length`, `upper`, `lower`) refuse it while the
//! statement is planned ([`no_blob`]), where DataFusion cast the bytes to
//! text and failed on the first invalid UTF-8 in the middle of the query,
//! after fetching every object's content.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, BinaryBuilder};
use datafusion::arrow::compute::kernels::length::length;
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{
    DFSchema, Result, ScalarValue, exec_datafusion_err, exec_err, plan_datafusion_err, plan_err,
};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExprSchemable, LogicalPlan, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;
use datafusion::sql::sqlparser::ast;

/// Whether `data_type` holds bytes: DuckDB's BLOB.
fn is_blob(data_type: &DataType) -> bool {
    match data_type {
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        DataType::Dictionary(_, values) => is_blob(values),
        _ => false,
    }
}

/// DuckDB's binder error for `name` called with `arg_types`.
fn no_function<T>(name: &str, arg_types: &[DataType]) -> Result<T> {
    let types: Vec<String> = arg_types
        .iter()
        .map(crate::describe::duckdb_type_name)
        .collect();
    plan_err!(
        "Binder Error: No function matches the given name and argument types '{name}({})'. \
         You might need to add explicit type casts (a BLOB's bytes are no text: read them \
         as UTF-8 with decode(x), show them escaped with ::VARCHAR, or measure them with \
         octet_length; encode(text) makes a BLOB of a text)",
        types.join(", ")
    )
}

/// `Binary` when `sql_type` is one of the names DuckDB gives its BLOB
/// (planned by [`crate::sql_types::DuckTypes`]).
pub(crate) fn blob_type(sql_type: &ast::DataType) -> Option<DataType> {
    match sql_type {
        ast::DataType::Blob(_)
        | ast::DataType::Bytea
        | ast::DataType::Binary(_)
        | ast::DataType::Varbinary(_) => Some(DataType::Binary),
        _ => None,
    }
}

/// The bytes of `text` cast to DuckDB's BLOB: `\xHH` is the byte HH,
/// other ASCII characters themselves; any other backslash, or a character
/// past ASCII, is DuckDB's conversion error.
pub(crate) fn blob_of(text: &str) -> Result<Vec<u8>> {
    blob_bytes(text).map_err(|why| plan_datafusion_err!("{why}"))
}

/// [`blob_of`] with DuckDB's message for the text it refuses.
fn blob_bytes(text: &str) -> std::result::Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    let refused = |why: &str| {
        format!(
            "Conversion Error: Invalid hex escape code encountered in string -> blob \
             conversion of string \"{text}\": {why}"
        )
    };
    while let Some(&b) = bytes.get(at) {
        if b == b'\\' {
            let Some(code) = bytes.get(at..at + 4) else {
                return Err(refused("unterminated escape code at end of blob"));
            };
            let hex = |c: u8| char::from(c).to_digit(16);
            match (code[1], hex(code[2]), hex(code[3])) {
                (b'x', Some(high), Some(low)) => out.extend(u8::try_from(high * 16 + low).ok()),
                _ => return Err(refused(&String::from_utf8_lossy(code))),
            }
            at += 4;
        } else if b.is_ascii() {
            out.push(b);
            at += 1;
        } else {
            return Err(format!(
                "Conversion Error: Invalid byte encountered in STRING -> BLOB conversion of \
                 string \"{text}\". All non-ascii characters must be escaped with hex codes \
                 (e.g. \\xAA)"
            ));
        }
    }
    Ok(out)
}

/// Casts of strings to a BLOB as DuckDB's: a literal (`'\xFF'::BLOB`, or
/// a literal compared with a BLOB) becomes the bytes DuckDB's cast makes
/// of it, and a cast of any other text (a column) a call of
/// [`TextToBlob`], where DataFusion's cast kept the escapes' text and took
/// any UTF-8 (`s::BLOB` of `\x41\x42` was 8 bytes, not 2).
#[derive(Debug)]
pub(crate) struct BlobCasts;

impl BlobCasts {
    /// `expr` as a BLOB literal, or a call of [`TextToBlob`], when it
    /// casts a string to bytes.
    fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
        let (inner, to, try_cast) = match &expr {
            Expr::Cast(cast) => (&cast.expr, cast.field.data_type(), false),
            Expr::TryCast(cast) => (&cast.expr, cast.field.data_type(), true),
            _ => return Ok(Transformed::no(expr)),
        };
        if !is_blob(to) {
            return Ok(Transformed::no(expr));
        }
        let Expr::Literal(
            ScalarValue::Utf8(text) | ScalarValue::LargeUtf8(text) | ScalarValue::Utf8View(text),
            metadata,
        ) = inner.as_ref()
        else {
            if !inner.get_type(schema).is_ok_and(|t| is_text(&t)) {
                return Ok(Transformed::no(expr));
            }
            let call = TextToBlob::udf(try_cast).call(vec![inner.as_ref().clone()]);
            return Ok(Transformed::yes(match to {
                DataType::Binary => call,
                to => Expr::Cast(Cast::new(Box::new(call), to.clone())),
            }));
        };
        let bytes = match text.as_deref().map(blob_of).transpose() {
            Ok(bytes) => bytes,
            // TRY_CAST gives NULL where the cast fails.
            Err(_) if try_cast => None,
            Err(e) => return Err(e),
        };
        let value = ScalarValue::Binary(bytes).cast_to(to)?;
        Ok(Transformed::yes(Expr::Literal(value, metadata.clone())))
    }
}

impl AnalyzerRule for BlobCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        // An unnamed `'..'::BLOB` keeps the cast's name.
        plan.transform_up_with_subqueries(|plan| rewrite_expressions(plan, Self::rewrite))
            .data()
    }

    fn name(&self) -> &str {
        "blob_casts"
    }
}

/// `f` of the one argument of `args`: a scalar gives a scalar, an array
/// an array.
pub(crate) fn of_one_argument(
    name: &str,
    args: ScalarFunctionArgs,
    f: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    match args.args.as_slice() {
        [ColumnarValue::Array(array)] => Ok(ColumnarValue::Array(f(array)?)),
        [ColumnarValue::Scalar(value)] => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &f(&value.to_array()?)?,
            0,
        )?)),
        _ => exec_err!("{name} takes one argument"),
    }
}

/// A string's text as DuckDB's cast to BLOB reads it ([`blob_of`]), row
/// by row; TRY_CAST's gives NULL for the text the cast refuses.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct TextToBlob {
    signature: Signature,
    try_cast: bool,
}

impl TextToBlob {
    /// The function for a CAST, or for a TRY_CAST.
    fn udf(try_cast: bool) -> Arc<ScalarUDF> {
        static CAST: LazyLock<[Arc<ScalarUDF>; 2]> = LazyLock::new(|| {
            [false, true].map(|try_cast| {
                Arc::new(ScalarUDF::new_from_impl(TextToBlob {
                    signature: Signature::any(1, Volatility::Immutable),
                    try_cast,
                }))
            })
        });
        Arc::clone(&CAST[usize::from(try_cast)])
    }
}

impl ScalarUDFImpl for TextToBlob {
    fn name(&self) -> &str {
        match self.try_cast {
            false => "duckdb_blob",
            true => "try_duckdb_blob",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        of_one_argument(self.name(), args, |array| {
            let text = cast(array, &DataType::Utf8)?;
            let mut out = BinaryBuilder::with_capacity(text.len(), text.len() * 8);
            for value in text.as_string::<i32>() {
                match value.map(blob_bytes) {
                    None => out.append_null(),
                    Some(Ok(bytes)) => out.append_value(bytes),
                    Some(Err(_)) if self.try_cast => out.append_null(),
                    Some(Err(why)) => return exec_err!("{why}"),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// DuckDB's `decode(blob)`: the bytes read as UTF-8 text, an error on
/// bytes that are not UTF-8 (its cast to VARCHAR escapes them instead).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Decode {
    signature: Signature,
}

impl Decode {
    /// The function, to register over DataFusion's (`decode(x, 'hex')`,
    /// not DuckDB's).
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for Decode {
    fn name(&self) -> &str {
        "decode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        // A string becomes a BLOB by DuckDB's cast (its escapes read).
        match arg_types {
            [t] if is_blob(t) || is_text(t) || t.is_null() => Ok(vec![DataType::Binary]),
            _ => no_function(self.name(), arg_types),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        of_one_argument(self.name(), args, |bytes| {
            let strict = CastOptions {
                safe: false,
                ..CastOptions::default()
            };
            cast_with_options(bytes, &DataType::Utf8, &strict).map_err(|_| {
                exec_datafusion_err!(
                    "Conversion Error: Failure in decode: could not convert blob to UTF8 \
                     string, the blob contained invalid UTF8 characters (its cast to VARCHAR \
                     shows the bytes escaped, \\xFF)"
                )
            })
        })
    }
}

/// DuckDB's `encode(text)`: the text's UTF-8 bytes as a BLOB, backslashes
/// as they are (a cast reads `\xHH` escapes).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Encode {
    signature: Signature,
}

impl Encode {
    /// The function, to register over DataFusion's (`encode(x, 'hex')`).
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for Encode {
    fn name(&self) -> &str {
        "encode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_text(t) || t.is_null() => Ok(vec![DataType::Utf8]),
            _ => no_function(self.name(), arg_types),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        of_one_argument(self.name(), args, |text| Ok(cast(text, &DataType::Binary)?))
    }
}

/// Whether `data_type` holds text.
fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// `octet_length` of a BLOB as of text, a BIGINT as DuckDB's.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct OctetLength {
    signature: Signature,
}

impl OctetLength {
    /// The function, to register over DataFusion's (text only).
    pub(crate) fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for OctetLength {
    fn name(&self) -> &str {
        "octet_length"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [arg] = arg_types else {
            return no_function(self.name(), arg_types);
        };
        let to = match arg {
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View => arg.clone(),
            DataType::FixedSizeBinary(_) | DataType::Null => DataType::Binary,
            DataType::Dictionary(_, values) => return self.coerce_types(&[(**values).clone()]),
            _ => return no_function(self.name(), arg_types),
        };
        Ok(vec![to])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        of_one_argument(self.name(), args, |array| {
            let lengths = length(array.as_ref())?;
            Ok(cast_with_options(
                &lengths,
                &DataType::Int64,
                &CastOptions::default(),
            )?)
        })
    }
}

/// The text functions DuckDB does not call on a BLOB, each with its aliases.
const TEXT_ONLY: [&str; 3] = ["character_length", "upper", "lower"];

/// DataFusion's text function `inner` refusing a BLOB argument while the
/// statement is planned, where DataFusion would cast the bytes to text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NoBlob {
    inner: ScalarUDF,
    signature: Signature,
}

/// The functions of [`TEXT_ONLY`] among `functions`, each refusing a BLOB,
/// to register over them.
pub(crate) fn no_blob<'f>(
    functions: impl IntoIterator<Item = &'f Arc<ScalarUDF>>,
) -> Vec<ScalarUDF> {
    functions
        .into_iter()
        .filter(|f| TEXT_ONLY.contains(&f.name()))
        .map(|f| {
            ScalarUDF::new_from_impl(NoBlob {
                inner: f.as_ref().clone(),
                signature: Signature::user_defined(f.signature().volatility),
            })
        })
        .collect()
}

impl ScalarUDFImpl for NoBlob {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.iter().any(is_blob) {
            return no_function(self.name(), arg_types);
        }
        let fields: Vec<FieldRef> = arg_types
            .iter()
            .map(|t| Arc::new(Field::new("", t.clone(), true)))
            .collect();
        Ok(fields_with_udf(&fields, &self.inner)?
            .iter()
            .map(|f| f.data_type().clone())
            .collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_becomes_the_bytes_duckdb_makes_of_it() {
        assert_eq!(blob_of("\\xFF\\x00abc").unwrap(), b"\xFF\x00abc");
        assert_eq!(blob_of("\\xfF\\x41").unwrap(), b"\xFFA");
        assert_eq!(blob_of("").unwrap(), b"");
        for (text, why) in [
            ("x\\q", "unterminated escape code at end of blob"),
            ("\\x4", "unterminated escape code at end of blob"),
            ("\\xZZ", ": \\xZZ"),
            ("\\q12", ": \\q12"),
            ("é", "All non-ascii characters must be escaped"),
        ] {
            let e = blob_of(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
