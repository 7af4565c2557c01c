//! The columns a scan adds to the files' own: hive partitions (typed, from
//! glob-list's [`HiveSchema`]) and `filename`, as DataFusion partition
//! columns whose values are set per file.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use s3sql_glob_list::{HiveSchema, PartitionType, PartitionValue};

use crate::error::{PlannerError, Result};
use crate::scan::request::{OptionValue, ScanRequest};

/// The extra columns of one scan.
#[derive(Debug, Default)]
pub(crate) struct ExtraColumns {
    hive: Option<HiveSchema>,
    filename: Option<String>,
}

fn data_type(ty: PartitionType) -> DataType {
    match ty {
        PartitionType::Date => DataType::Date32,
        PartitionType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        PartitionType::BigInt => DataType::Int64,
        PartitionType::Varchar => DataType::Utf8,
    }
}

/// DuckDB's type names a `hive_types` entry may use.
fn partition_type(function: &str, column: &str, name: &str) -> Result<PartitionType> {
    Ok(match name.to_ascii_uppercase().as_str() {
        "BIGINT" | "INTEGER" | "INT" | "INT8" | "INT4" | "SMALLINT" | "TINYINT" | "HUGEINT"
        | "UBIGINT" | "UINTEGER" => PartitionType::BigInt,
        "DATE" => PartitionType::Date,
        "TIMESTAMP" | "DATETIME" => PartitionType::Timestamp,
        "VARCHAR" | "STRING" | "TEXT" => PartitionType::Varchar,
        other => {
            return Err(PlannerError::argument(
                function,
                format!(
                    "hive_types: column '{column}' has type {other}; use BIGINT, INTEGER, DATE, TIMESTAMP or VARCHAR"
                ),
            ));
        }
    })
}

fn value(v: PartitionValue, ty: &DataType) -> Result<ScalarValue> {
    Ok(match v {
        PartitionValue::Null => ScalarValue::try_from(ty)?,
        PartitionValue::BigInt(i) => ScalarValue::Int64(Some(i)),
        PartitionValue::Varchar(s) => ScalarValue::Utf8(Some(s)),
        PartitionValue::Date(d) => {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let days = d.signed_duration_since(epoch).num_days();
            ScalarValue::Date32(Some(i32::try_from(days).unwrap_or(i32::MAX)))
        }
        PartitionValue::Timestamp(t) => {
            ScalarValue::TimestampMicrosecond(Some(t.and_utc().timestamp_micros()), None)
        }
    })
}

impl ExtraColumns {
    /// The columns `request` asks for over files with these keys.
    pub(crate) fn of(request: &ScanRequest, keys: &[&str]) -> Result<Self> {
        let overrides: HashMap<String, PartitionType> = match request.option("hive_types") {
            None => HashMap::new(),
            Some(OptionValue::Struct(entries)) => entries
                .iter()
                .map(|(c, t)| {
                    let OptionValue::Str(t) = t else {
                        return Err(PlannerError::argument(
                            &request.function,
                            format!("hive_types: give column '{c}' a type name, e.g. 'BIGINT'"),
                        ));
                    };
                    Ok((c.clone(), partition_type(&request.function, c, t)?))
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(PlannerError::argument(
                    &request.function,
                    "hive_types takes a struct of column types, e.g. {'year': 'INTEGER'}",
                ));
            }
        };
        // DuckDB detects hive partitions unless told not to.
        let hive_wanted = request.flag("hive_partitioning")?.unwrap_or(true);
        let mut hive = if hive_wanted {
            HiveSchema::detect(keys, &overrides)
        } else {
            None
        };
        // hive_types_autocast = false: values stay VARCHAR unless hive_types types them.
        if !request.flag("hive_types_autocast")?.unwrap_or(true) {
            for (name, ty) in hive.iter_mut().flat_map(|h| h.columns.iter_mut()) {
                if !overrides.contains_key(name) {
                    *ty = PartitionType::Varchar;
                }
            }
        }
        let filename = match request.option("filename") {
            None | Some(OptionValue::Bool(false)) => None,
            Some(OptionValue::Bool(true)) => Some("filename".to_owned()),
            Some(OptionValue::Str(name)) => Some(name.clone()),
            Some(_) => {
                return Err(PlannerError::argument(
                    &request.function,
                    "filename takes true, false or a column name",
                ));
            }
        };
        Ok(Self { hive, filename })
    }

    /// Refuses a `filename` column named as a column of the files
    /// (`file_columns`, in any case) or a hive column, with DuckDB 1.5.5's
    /// message: the two columns would clash (review-8e #24: DataFusion
    /// said "Ambiguous reference to table __s3sql_scan_0").
    pub(crate) fn check_filename(&self, function: &str, file_columns: &Schema) -> Result<()> {
        let Some(name) = &self.filename else {
            return Ok(());
        };
        let in_files = file_columns
            .fields()
            .iter()
            .any(|f| f.name().eq_ignore_ascii_case(name));
        let in_paths = self
            .hive_columns()
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name));
        let place = match (in_files, in_paths) {
            (true, _) => "file",
            (false, true) => "hive partitions of the path",
            (false, false) => return Ok(()),
        };
        Err(PlannerError::argument(
            function,
            format!(
                "Option filename adds column \"{name}\", but a column with this name is also in \
                 the {place}. Try setting a different name: filename='<filename column name>'"
            ),
        ))
    }

    /// Hive column names, for partition pruning.
    pub(crate) fn hive_columns(&self) -> Vec<String> {
        self.hive
            .iter()
            .flat_map(|h| h.columns.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    /// The partition fields: `filename` first, then the hive columns, in
    /// DuckDB 1.5.5's order.
    pub(crate) fn fields(&self) -> Vec<FieldRef> {
        let hive = self.hive.iter().flat_map(|h| {
            h.columns
                .iter()
                .map(|(name, ty)| Arc::new(Field::new(name, data_type(*ty), true)))
        });
        self.filename
            .iter()
            .map(|name| Arc::new(Field::new(name, DataType::Utf8, false)))
            .chain(hive)
            .collect()
    }

    /// The values of one file, in [`Self::fields`] order.
    pub(crate) fn values(&self, key: &str, url: &str) -> Result<Vec<ScalarValue>> {
        let mut out = Vec::new();
        if self.filename.is_some() {
            out.push(ScalarValue::Utf8(Some(url.to_owned())));
        }
        if let Some(hive) = &self.hive {
            for (v, (_, ty)) in hive.values(key)?.into_iter().zip(&hive.columns) {
                out.push(value(v, &data_type(*ty))?);
            }
        }
        Ok(out)
    }
}
