//! One grouping column's distinct values, each given a dense id as it is
//! first met. A string of at most 12 bytes is looked up by its whole
//! arrow view (length and bytes in one `u128`), so the common short key
//! costs one integer hash; longer strings by their bytes.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, StringViewArray, StringViewBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, internal_err};
use foldhash::fast::FixedState;

use super::memo::Memo;

/// The longest string an arrow view holds inline.
const INLINE: u32 = 12;

/// Whether a grouping column of this type can be given ids here: text,
/// and integers (or dates) that an `i64` holds exactly.
pub(super) fn supported(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date32
    )
}

/// A column's ids: its distinct values in the order they were met, and
/// the maps that find a value's id.
#[derive(Debug)]
pub(super) struct ColumnIds {
    data_type: DataType,
    short: HashMap<u128, u32, FixedState>,
    long: HashMap<Box<[u8]>, u32, FixedState>,
    integers: HashMap<i64, u32, FixedState>,
    null: Option<u32>,
    /// Each id's value (text columns): rebuilt into the output column.
    texts: StringViewBuilder,
    /// Each id's value (integer columns).
    numbers: Vec<Option<i64>>,
    /// Bytes of text held (long strings twice: map key and value).
    text_bytes: usize,
    len: u32,
    /// The views met in the array being assigned.
    views: Memo<u128>,
    /// The integers met lately (values: valid across arrays).
    numbers_seen: Memo<i64>,
}

impl ColumnIds {
    /// No ids yet, for a column of `data_type` (one [`supported`]).
    pub(super) fn new(data_type: DataType) -> Self {
        Self {
            data_type,
            short: HashMap::default(),
            long: HashMap::default(),
            integers: HashMap::default(),
            null: None,
            texts: StringViewBuilder::new(),
            numbers: Vec::new(),
            text_bytes: 0,
            len: 0,
            views: Memo::new(),
            numbers_seen: Memo::new(),
        }
    }

    /// The number of distinct values seen.
    pub(super) fn len(&self) -> u32 {
        self.len
    }

    /// Writes the id of each of `column`'s rows into `ids`.
    pub(super) fn assign(&mut self, column: &ArrayRef, ids: &mut Vec<u32>) -> Result<()> {
        ids.clear();
        ids.reserve(column.len());
        if column.data_type() != &self.data_type {
            return internal_err!(
                "group ids: a {} key arrived as {}",
                self.data_type,
                column.data_type()
            );
        }
        match &self.data_type {
            DataType::Utf8View => self.assign_views(column.as_string_view(), ids),
            DataType::Utf8 | DataType::LargeUtf8 => {
                let views = cast(column, &DataType::Utf8View)?;
                self.assign_views(views.as_string_view(), ids)
            }
            _ => {
                let numbers = cast(column, &DataType::Int64)?;
                self.assign_integers(numbers.as_primitive::<Int64Type>(), ids);
                Ok(())
            }
        }
    }

    fn assign_views(&mut self, column: &StringViewArray, ids: &mut Vec<u32>) -> Result<()> {
        // Equal views are equal strings, long ones too (same buffer,
        // offset and length), but only within one array: a long view
        // names a place in this array's buffers.
        self.views.clear();
        let nulls = column.nulls().filter(|nulls| nulls.null_count() > 0);
        for (row, view) in column.views().iter().enumerate() {
            if let Some(nulls) = nulls
                && nulls.is_null(row)
            {
                ids.push(self.null_id());
                continue;
            }
            if let Some(id) = self.views.get(*view) {
                ids.push(id);
                continue;
            }
            let id = if (*view as u32) <= INLINE {
                self.short_id(*view)?
            } else {
                self.long_id(column.value(row))
            };
            self.views.put(*view, id);
            ids.push(id);
        }
        Ok(())
    }

    fn assign_integers(&mut self, column: &Int64Array, ids: &mut Vec<u32>) {
        let nulls = column.nulls().filter(|nulls| nulls.null_count() > 0);
        for (row, value) in column.values().iter().enumerate() {
            if let Some(nulls) = nulls
                && nulls.is_null(row)
            {
                ids.push(self.null_id());
                continue;
            }
            let id = match self.numbers_seen.get(*value) {
                Some(id) => id,
                None => {
                    let id = self.integer_id(*value);
                    self.numbers_seen.put(*value, id);
                    id
                }
            };
            ids.push(id);
        }
    }

    fn short_id(&mut self, view: u128) -> Result<u32> {
        if let Some(id) = self.short.get(&view) {
            return Ok(*id);
        }
        // An inline view: 4 bytes of length, then the string's bytes.
        let len = view as u32 as usize;
        let bytes = view.to_le_bytes();
        let Ok(text) = std::str::from_utf8(&bytes[4..4 + len]) else {
            return internal_err!("group ids: a string view that is not UTF-8");
        };
        let id = self.next_id();
        self.short.insert(view, id);
        self.texts.append_value(text);
        self.text_bytes += len;
        Ok(id)
    }

    fn long_id(&mut self, text: &str) -> u32 {
        if let Some(id) = self.long.get(text.as_bytes()) {
            return *id;
        }
        let id = self.next_id();
        self.long.insert(text.as_bytes().into(), id);
        self.texts.append_value(text);
        self.text_bytes += 2 * text.len();
        id
    }

    fn integer_id(&mut self, value: i64) -> u32 {
        if let Some(id) = self.integers.get(&value) {
            return *id;
        }
        let id = self.next_id();
        self.integers.insert(value, id);
        self.numbers.push(Some(value));
        id
    }

    fn null_id(&mut self) -> u32 {
        if let Some(id) = self.null {
            return id;
        }
        let id = self.next_id();
        self.null = Some(id);
        self.texts.append_null();
        self.numbers.push(None);
        id
    }

    fn next_id(&mut self) -> u32 {
        let id = self.len;
        self.len += 1;
        id
    }

    /// The bytes held, roughly: maps, values and memos.
    pub(super) fn size(&self) -> usize {
        self.short.capacity() * 24
            + self.long.capacity() * 24
            + self.integers.capacity() * 16
            + self.numbers.capacity() * 16
            + self.len as usize * 16
            + self.text_bytes
            + 2 * Memo::<u128>::BYTES
    }

    /// The values of the ids, in id order, as the column's own type.
    pub(super) fn values(&mut self) -> Result<ArrayRef> {
        let values: ArrayRef = match self.data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let texts = self.texts.finish();
                if texts.len() != self.len as usize {
                    return internal_err!("group ids: {} texts for {} ids", texts.len(), self.len);
                }
                Arc::new(texts)
            }
            _ => Arc::new(Int64Array::from(std::mem::take(&mut self.numbers))),
        };
        Ok(cast(&values, &self.data_type)?)
    }

    /// Whether `view` is an inline view of `bytes` (a test's check of
    /// the one assumption the short map rests on).
    #[cfg(test)]
    pub(super) fn is_inline_view_of(view: u128, bytes: &[u8]) -> bool {
        bytes.len() <= INLINE as usize
            && datafusion::arrow::array::builder::make_view(bytes, 0, 0) == view
    }
}
