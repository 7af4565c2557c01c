//! A row's group id from its grouping columns' ids: the first column's
//! id, then for each further column a map from (id so far, the column's
//! id) to the next id. Each step hashes one `u64`, where a general group
//! table compares every column of a candidate row.

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::common::{Result, internal_err};
use foldhash::fast::FixedState;

use super::column_ids::ColumnIds;
use super::memo::Memo;

/// The groups met so far and the way back from a group id to each
/// column's value.
#[derive(Debug)]
pub(super) struct GroupIds {
    columns: Vec<ColumnIds>,
    /// One per column past the first.
    levels: Vec<Level>,
    scratch: Vec<u32>,
    rows: Vec<u32>,
}

/// The ids of (id so far, next column's id) pairs.
#[derive(Debug)]
struct Level {
    ids: HashMap<u64, u32, FixedState>,
    /// The pairs met lately.
    memo: Memo<u64>,
    /// Each id's parts: the id it extends and its column's id.
    parts: Vec<(u32, u32)>,
}

impl GroupIds {
    /// No groups yet, for grouping columns of these ids.
    pub(super) fn new(columns: Vec<ColumnIds>) -> Self {
        let levels = (1..columns.len())
            .map(|_| Level {
                ids: HashMap::default(),
                memo: Memo::new(),
                parts: Vec::new(),
            })
            .collect();
        Self {
            columns,
            levels,
            scratch: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// The number of groups met.
    pub(super) fn len(&self) -> usize {
        match self.levels.last() {
            Some(level) => level.parts.len(),
            None => self.columns.first().map_or(0, |c| c.len() as usize),
        }
    }

    /// The bytes held, roughly.
    pub(super) fn size(&self) -> usize {
        let columns: usize = self.columns.iter().map(ColumnIds::size).sum();
        let levels: usize = self
            .levels
            .iter()
            .map(|level| {
                level.ids.capacity() * 16 + level.parts.capacity() * 8 + Memo::<u64>::BYTES
            })
            .sum();
        columns + levels + (self.rows.capacity() + self.scratch.capacity()) * 4
    }

    /// Writes the group id of each row of `keys` (one array per grouping
    /// column) into `groups`.
    pub(super) fn assign(&mut self, keys: &[ArrayRef], groups: &mut Vec<usize>) -> Result<()> {
        let Some((first, rest)) = self.columns.split_first_mut() else {
            return internal_err!("group ids need a grouping column");
        };
        first.assign(&keys[0], &mut self.rows)?;
        for ((column, level), key) in rest.iter_mut().zip(&mut self.levels).zip(&keys[1..]) {
            column.assign(key, &mut self.scratch)?;
            for (row, id) in self.rows.iter_mut().zip(&self.scratch) {
                *row = level.id(*row, *id);
            }
        }
        groups.clear();
        groups.extend(self.rows.iter().map(|id| *id as usize));
        Ok(())
    }

    /// Each grouping column's values, one row per group in id order.
    pub(super) fn values(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = self.len();
        let mut ids: Vec<Vec<u32>> = vec![Vec::with_capacity(groups); self.columns.len()];
        for group in 0..groups as u32 {
            let mut id = group;
            for (column, level) in self.levels.iter().enumerate().rev() {
                let (parent, own) = level.parts[id as usize];
                ids[column + 1].push(own);
                id = parent;
            }
            ids[0].push(id);
        }
        self.columns
            .iter_mut()
            .zip(ids)
            .map(|(column, ids)| {
                let values = column.values()?;
                Ok(take(&values, &UInt32Array::from(ids), None)?)
            })
            .collect()
    }
}

impl Level {
    fn id(&mut self, parent: u32, own: u32) -> u32 {
        let key = (u64::from(parent) << 32) | u64::from(own);
        if let Some(id) = self.memo.get(key) {
            return id;
        }
        let next = self.parts.len() as u32;
        let id = *self.ids.entry(key).or_insert_with(|| {
            self.parts.push((parent, own));
            next
        });
        self.memo.put(key, id);
        id
    }
}
