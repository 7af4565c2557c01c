//! [`NestedText`]: the text of a LIST, STRUCT or MAP value as DuckDB 1.5.5
//! writes it (its cast to VARCHAR, which CSV fields and partition names
//! use): `[a, NULL, 'b c']`, `{'k': v, 'n': 1}`, `{k=v}`. An element that
//! is not nested is its own text ([`DuckText`]), put in `'...'` when that
//! text is empty, reads as NULL (any case), starts or ends with
//! whitespace, or holds any of `"'(),:=[]{}`; inside the quotes `'` and
//! `\` are escaped with `\`. A struct's field names are always quoted.
//! Measured against DuckDB's own COPY (`copy_duckdb` tests), not read from
//! its source.

use datafusion::arrow::array::{Array, AsArray, FixedSizeListArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::FormatOptions;

use super::text::{DuckText, is_null};
use crate::error::Result;

/// One nested column's values as DuckDB's text.
pub(crate) struct NestedText<'a> {
    array: &'a dyn Array,
    shape: Shape<'a>,
}

/// How the values are laid out, with the text of their elements.
enum Shape<'a> {
    /// LIST and LARGE LIST: each value a range of `values`.
    List {
        offsets: Offsets<'a>,
        values: Box<Element<'a>>,
    },
    /// FIXED SIZE LIST: a fixed number of elements per value.
    Fixed {
        list: &'a FixedSizeListArray,
        values: Box<Element<'a>>,
    },
    /// STRUCT: one element per field.
    Struct {
        names: Vec<&'a str>,
        fields: Vec<Element<'a>>,
    },
    /// MAP: each value a range of key/value pairs.
    Map {
        offsets: &'a [i32],
        keys: Box<Element<'a>>,
        values: Box<Element<'a>>,
    },
}

/// A list's offsets, 32- or 64-bit.
enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

impl Offsets<'_> {
    fn range(&self, row: usize) -> std::ops::Range<usize> {
        let bound = |v: i64| usize::try_from(v).unwrap_or_default();
        match self {
            Offsets::Small(o) => bound(i64::from(o[row]))..bound(i64::from(o[row + 1])),
            Offsets::Large(o) => bound(o[row])..bound(o[row + 1]),
        }
    }
}

/// The elements of a nested value: nested themselves, or leaves.
enum Element<'a> {
    Nested(NestedText<'a>),
    Leaf(DuckText<'a>),
}

impl<'a> Element<'a> {
    fn try_new(array: &'a dyn Array, name: &'a str, options: &FormatOptions<'a>) -> Result<Self> {
        Ok(match NestedText::try_new(array, name, options)? {
            Some(nested) => Element::Nested(nested),
            None => Element::Leaf(DuckText::try_new(array, name, options)?),
        })
    }

    /// Appends the element at `row`: `NULL`, a nested value, or a leaf's
    /// text quoted when DuckDB quotes it.
    fn push(&self, row: usize, out: &mut String) -> Result<()> {
        let array = match self {
            Element::Nested(n) => n.array,
            Element::Leaf(t) => t.array(),
        };
        if is_null(array, row) {
            out.push_str("NULL");
            return Ok(());
        }
        match self {
            Element::Nested(n) => n.push(row, out),
            Element::Leaf(t) => {
                let start = out.len();
                t.push(row, out)?;
                if needs_quotes(&out[start..]) {
                    let text = out.split_off(start);
                    push_quoted(&text, out);
                }
                Ok(())
            }
        }
    }
}

impl<'a> NestedText<'a> {
    /// The text of `array`'s values when it is nested (LIST, LARGE LIST,
    /// FIXED SIZE LIST, STRUCT, MAP); `None` for any other type.
    pub(crate) fn try_new(
        array: &'a dyn Array,
        name: &'a str,
        options: &FormatOptions<'a>,
    ) -> Result<Option<Self>> {
        let element = |child: &'a dyn Array| Element::try_new(child, name, options).map(Box::new);
        let shape = match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                Shape::List {
                    offsets: Offsets::Small(list.offsets()),
                    values: element(list.values().as_ref())?,
                }
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                Shape::List {
                    offsets: Offsets::Large(list.offsets()),
                    values: element(list.values().as_ref())?,
                }
            }
            DataType::FixedSizeList(..) => {
                let list: &FixedSizeListArray = array.as_fixed_size_list();
                Shape::Fixed {
                    list,
                    values: element(list.values().as_ref())?,
                }
            }
            DataType::Struct(fields) => {
                let array = array.as_struct();
                Shape::Struct {
                    names: fields.iter().map(|f| f.name().as_str()).collect(),
                    fields: array
                        .columns()
                        .iter()
                        .map(|c| Element::try_new(c.as_ref(), name, options))
                        .collect::<Result<_>>()?,
                }
            }
            DataType::Map(..) => {
                let map = array.as_map();
                Shape::Map {
                    offsets: map.offsets(),
                    keys: element(map.keys().as_ref())?,
                    values: element(map.values().as_ref())?,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(Self { array, shape }))
    }

    /// Appends the (non-null) value at `row`.
    pub(crate) fn push(&self, row: usize, out: &mut String) -> Result<()> {
        match &self.shape {
            Shape::List { offsets, values } => push_list(offsets.range(row), values, out),
            Shape::Fixed { list, values } => {
                let start = usize::try_from(list.value_offset(row)).unwrap_or_default();
                let size = usize::try_from(list.value_length()).unwrap_or_default();
                push_list(start..start + size, values, out)
            }
            Shape::Struct { names, fields } => {
                out.push('{');
                for (i, (name, field)) in names.iter().zip(fields).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    push_quoted(name, out);
                    out.push_str(": ");
                    field.push(row, out)?;
                }
                out.push('}');
                Ok(())
            }
            Shape::Map {
                offsets,
                keys,
                values,
            } => {
                let range = Offsets::Small(offsets).range(row);
                out.push('{');
                for (n, entry) in range.enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    keys.push(entry, out)?;
                    out.push('=');
                    values.push(entry, out)?;
                }
                out.push('}');
                Ok(())
            }
        }
    }
}

/// `[a, b]` of the elements in `range`.
fn push_list(range: std::ops::Range<usize>, values: &Element<'_>, out: &mut String) -> Result<()> {
    out.push('[');
    for (n, element) in range.enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        values.push(element, out)?;
    }
    out.push(']');
    Ok(())
}

/// Whether DuckDB quotes an element whose text is `text`.
fn needs_quotes(text: &str) -> bool {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            space(first)
                || space(last)
                || text.eq_ignore_ascii_case("null")
                || bytes.iter().any(|b| {
                    matches!(
                        b,
                        b'"' | b'\'' | b'(' | b')' | b',' | b':' | b'=' | b'[' | b']' | b'{' | b'}'
                    )
                })
        }
        _ => true,
    }
}

/// `'text'`, with `'` and `\` escaped by `\`.
fn push_quoted(text: &str, out: &mut String) {
    out.push('\'');
    for c in text.chars() {
        if matches!(c, '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What DuckDB 1.5.5 wrote for `[v]` (COPY to CSV, the list's text).
    #[test]
    fn elements_are_quoted_and_escaped_as_duckdb_quotes_them() {
        for (value, quoted) in [
            ("", true),
            ("NULL", true),
            ("nUlL", true),
            ("nul", false),
            ("NULLx", false),
            (" a", true),
            ("a\t", true),
            ("\u{b}a", true),
            ("a b", false),
            ("a\nb", false),
            ("a\\b", false),
            ("x#y;z|w/é", false),
            ("\u{a0}a", false),
        ] {
            assert_eq!(needs_quotes(value), quoted, "{value:?}");
        }
        for special in "\"'(),:=[]{}".chars() {
            assert!(needs_quotes(&format!("a{special}b")), "{special}");
        }
        let mut out = String::new();
        push_quoted("it's a\\b", &mut out);
        assert_eq!(out, r"'it\'s a\\b'");
    }
}
