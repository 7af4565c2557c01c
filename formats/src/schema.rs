//! The schema a scan reads with: the one DataFusion inferred, reshaped by
//! DuckDB's options (`names`, `columns`, `types`) and DuckDB's naming of
//! header-less columns (`column0`, `column1`, ...), so a user gets the
//! columns and types DuckDB gives, or an error naming the option.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::{ColumnTypes, FormatError, ReadOptions};

/// DuckDB's name for column `index` (0-based) of a file with `count` columns
/// and no header: `column0`..`column9`, or zero-padded to the width of the
/// last index (`column00`..`column10` for eleven columns).
pub fn duckdb_column_name(index: usize, count: usize) -> String {
    let width = count.saturating_sub(1).max(1).to_string().len();
    format!("column{index:0width$}")
}

/// The CSV schema to read with: `inferred` (DataFusion's, whose header-less
/// columns arrow names `column_1`, ...) with DuckDB's names for header-less
/// files and for empty header names, header names made unique as DuckDB
/// does (`a`, `a_1`), sniffed timestamps in microseconds (DuckDB's
/// TIMESTAMP; arrow infers seconds for `2024-01-31 12:00:00`), then `names`,
/// `columns` and `types` applied. Every column is nullable, as DuckDB's are.
pub fn csv_schema(
    inferred: &Schema,
    options: &ReadOptions,
    has_header: bool,
) -> Result<Schema, FormatError> {
    let count = inferred.fields().len();
    let mut columns: Vec<(String, DataType)> = inferred
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = if has_header && !f.name().is_empty() {
                f.name().clone()
            } else {
                duckdb_column_name(i, count)
            };
            let data_type = match f.data_type() {
                DataType::Timestamp(_, zone) => {
                    DataType::Timestamp(TimeUnit::Microsecond, zone.clone())
                }
                // No value in any sample: text, as DuckDB types it.
                DataType::Null => DataType::Utf8,
                other => other.clone(),
            };
            (name, data_type)
        })
        .collect();
    if has_header {
        make_unique(&mut columns);
    }
    if options.names.is_some() && options.columns.is_some() {
        return Err(FormatError::ConflictingOptions {
            options: "names and columns",
        });
    }
    if let Some(names) = &options.names {
        if names.len() > count {
            return Err(FormatError::TooManyColumns {
                option: "names",
                given: names.len(),
                found: count,
            });
        }
        for (column, name) in columns.iter_mut().zip(names) {
            column.0.clone_from(name);
        }
    }
    if let Some(given) = &options.columns {
        if given.len() != count {
            return Err(FormatError::ColumnCount {
                given: given.len(),
                found: count,
            });
        }
        columns.clone_from(given);
    }
    if let Some(types) = &options.types {
        apply_types(&mut columns, types)?;
    }
    if let Some((name, data_type)) = columns.iter().find(|(_, t)| !csv_readable(t)) {
        return Err(FormatError::UnreadableType {
            column: name.clone(),
            data_type: data_type.to_string(),
        });
    }
    Ok(Schema::new(
        columns
            .into_iter()
            .map(|(name, data_type)| Field::new(name, data_type, true))
            .collect::<Vec<_>>(),
    ))
}

/// Renames repeated column names (any case) as DuckDB does: `a, a, a` is
/// `a, a_1, a_2`, and a suffixed name already taken gets another suffix.
fn make_unique(columns: &mut [(String, DataType)]) {
    unique_names(columns.iter_mut().map(|(name, _)| name));
}

/// Header names made unique as DuckDB does (`a`, `a`, `A` -> `a`, `a_1`,
/// `A_2`): the names a scan's columns get, and the names each file's header
/// is matched by.
pub fn unique_names<'a>(names: impl IntoIterator<Item = &'a mut String>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names {
        while let Some(count) = seen.get_mut(&name.to_lowercase()) {
            *name = format!("{name}_{count}");
            *count += 1;
        }
        seen.insert(name.to_lowercase(), 1);
    }
}

/// The JSON schema to read with: `columns` when given (arrow-json then reads
/// those keys only, as DuckDB does), else `inferred`.
pub fn json_schema(inferred: &Schema, options: &ReadOptions) -> Schema {
    match &options.columns {
        Some(columns) => Schema::new(
            columns
                .iter()
                .map(|(name, data_type)| Field::new(name, data_type.clone(), true))
                .collect::<Vec<_>>(),
        ),
        None => inferred.clone(),
    }
}

/// `types` over the columns: by name (every name must exist) or by position.
fn apply_types(columns: &mut [(String, DataType)], types: &ColumnTypes) -> Result<(), FormatError> {
    match types {
        ColumnTypes::ByName(pairs) => {
            for (name, data_type) in pairs {
                let Some(at) = columns.iter().position(|(c, _)| c == name) else {
                    return Err(FormatError::UnknownColumn {
                        option: "types",
                        name: name.clone(),
                        columns: column_list(columns.iter().map(|(c, _)| c.as_str())),
                    });
                };
                columns[at].1 = data_type.clone();
            }
        }
        ColumnTypes::ByPosition(list) => {
            if list.len() > columns.len() {
                return Err(FormatError::TooManyColumns {
                    option: "types",
                    given: list.len(),
                    found: columns.len(),
                });
            }
            for (column, data_type) in columns.iter_mut().zip(list) {
                column.1 = data_type.clone();
            }
        }
    }
    Ok(())
}

/// Whether arrow-csv can decode a column of this type (it has no BLOB,
/// INTERVAL or list parser).
fn csv_readable(data_type: &DataType) -> bool {
    !matches!(
        data_type,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
            | DataType::Interval(_)
            | DataType::Duration(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
    )
}

fn column_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
