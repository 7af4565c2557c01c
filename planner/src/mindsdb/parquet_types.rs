//! The Parquet types a Parquet object's new version is written with.
//! DataFusion reads a Parquet column into an Arrow type, and arrow-rs
//! writes an Arrow type back as one Parquet type: types that share an
//! Arrow type come back as the plainest one. DuckDB's UUID (16 bytes
//! annotated UUID) would come back a BLOB, and its JSON (text annotated
//! JSON) a VARCHAR, for every reader and for the old rows too. So the old
//! file's footer is read (pinned to its ETag) and each column is written
//! with its old annotation when the bytes are the same and only the
//! annotation differs (UUID, JSON, BSON, ENUM and the geospatial types);
//! any other column whose type would change is refused, naming it, before
//! anything is written.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use datafusion::parquet::arrow::ArrowSchemaConverter;
use datafusion::parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use datafusion::parquet::file::metadata::ParquetMetaDataReader;
use datafusion::parquet::schema::types::{ColumnDescriptor, SchemaDescriptor, Type, TypePtr};
use s3sql_s3_client::{ByteRange, GetObjectRequest, ObjectUrl, S3Client};

use super::insert::{InsertTarget, OldObject};
use crate::error::{PlannerError, Result};

/// Bytes read from the end of the object at first: most footers fit.
const FIRST_READ: u64 = 64 * 1024;

/// The Parquet schema to write `old`'s rows and the new ones with: the one
/// arrow-rs derives from the columns, each column's annotation the old
/// file's where only that differs. A column whose type would change
/// otherwise is an error naming it.
pub(crate) async fn kept_types(
    client: &S3Client,
    url: &ObjectUrl,
    target: &InsertTarget,
    old: &OldObject,
) -> Result<SchemaDescriptor> {
    let footer = footer(client, url, target, old).await?;
    let written = ArrowSchemaConverter::new()
        .convert(&Schema::new(old.schema.fields().clone()))
        .map_err(DataFusionError::from)?;
    keep(footer.file_metadata().schema_descr(), &written).map_err(|e| target.error(e))
}

/// The old file's metadata, read from its end by GETs pinned to its ETag.
async fn footer(
    client: &S3Client,
    url: &ObjectUrl,
    target: &InsertTarget,
    old: &OldObject,
) -> Result<datafusion::parquet::file::metadata::ParquetMetaData> {
    let tail = |n: u64| GetObjectRequest {
        range: Some(ByteRange::Bounded {
            start: old.size.saturating_sub(n),
            end: old.size,
        }),
        if_match: Some(old.etag.clone()),
        size: Some(old.size),
        ..GetObjectRequest::default()
    };
    let broken =
        || target.error("the object does not end in a Parquet footer; nothing was written");
    let mut bytes = client
        .get_object_bytes(url.bucket(), url.key(), &tail(FIRST_READ))
        .await?;
    if bytes.len() < 8 || &bytes[bytes.len() - 4..] != b"PAR1" {
        return Err(broken());
    }
    let at = bytes.len() - 8;
    let length = u64::from(u32::from_le_bytes([
        bytes[at],
        bytes[at + 1],
        bytes[at + 2],
        bytes[at + 3],
    ]));
    if length + 8 > old.size {
        return Err(broken());
    }
    if length + 8 > bytes.len() as u64 {
        bytes = client
            .get_object_bytes(url.bucket(), url.key(), &tail(length + 8))
            .await?;
    }
    let end = bytes.len() - 8;
    let start = end - length as usize;
    Ok(
        ParquetMetaDataReader::decode_metadata(&bytes[start..end])
            .map_err(DataFusionError::from)?,
    )
}

/// `written` with each leaf column annotated as in `old` where only the
/// annotation differs; an error naming the first column whose type would
/// change otherwise.
fn keep(
    old: &SchemaDescriptor,
    written: &SchemaDescriptor,
) -> std::result::Result<SchemaDescriptor, String> {
    if old.num_columns() != written.num_columns() {
        return Err(format!(
            "the object's Parquet schema has {} leaf columns but s3sql would write {}; nothing was written (append with DuckDB or pyarrow instead)",
            old.num_columns(),
            written.num_columns()
        ));
    }
    let mut kept = Vec::with_capacity(old.num_columns());
    for (was, will) in old.columns().iter().zip(written.columns()) {
        if same_meaning(was, will) {
            kept.push(None);
        } else if annotation_only(was, will) {
            kept.push(Some((
                was.logical_type_ref().cloned(),
                was.converted_type(),
            )));
        } else {
            return Err(format!(
                "column {} is {} in the object's Parquet file, and s3sql would write it as {}, changing its type for every reader; nothing was written (append with DuckDB or pyarrow instead)",
                was.path().string(),
                described(was),
                described(will)
            ));
        }
    }
    let mut leaf = 0;
    let root = annotated(written.root_schema(), &kept, &mut leaf).map_err(|e| e.to_string())?;
    Ok(SchemaDescriptor::new(root))
}

/// A Parquet leaf's type in words: physical type and annotation.
fn described(column: &ColumnDescriptor) -> String {
    match (column.logical_type_ref(), column.converted_type()) {
        (Some(logical), _) => format!("{} {logical:?}", column.physical_type()),
        (None, ConvertedType::NONE) => column.physical_type().to_string(),
        (None, converted) => format!("{} {converted}", column.physical_type()),
    }
}

/// Whether readers see the same type in both columns. A converted type
/// says as much as the logical type it stands for (DuckDB writes a
/// string's converted type only), an INT32/INT64 is a signed integer
/// annotated or not, and a legacy INT96 timestamp is a timestamp.
fn same_meaning(old: &ColumnDescriptor, new: &ColumnDescriptor) -> bool {
    if old.physical_type() == PhysicalType::INT96
        && matches!(new.logical_type_ref(), Some(LogicalType::Timestamp(_)))
    {
        return true;
    }
    if converted(old) != converted(new) {
        return false;
    }
    match (old.logical_type_ref(), new.logical_type_ref()) {
        (Some(a), Some(b)) => a == b,
        // A logical type with no converted type says what nothing else does.
        (Some(l), None) | (None, Some(l)) => converted_of(l) != ConvertedType::NONE,
        (None, None) => true,
    }
}

/// The column's converted type, from its logical type when it has one;
/// a signed 32/64-bit integer annotation counts as none.
fn converted(column: &ColumnDescriptor) -> ConvertedType {
    let converted = match column.logical_type_ref() {
        Some(logical) => converted_of(logical),
        None => column.converted_type(),
    };
    match (converted, column.physical_type()) {
        (ConvertedType::INT_32, PhysicalType::INT32)
        | (ConvertedType::INT_64, PhysicalType::INT64) => ConvertedType::NONE,
        (c, _) => c,
    }
}

/// The converted type `logical` stands for (NONE for those without one).
fn converted_of(logical: &LogicalType) -> ConvertedType {
    match logical {
        // ConvertedType::from panics on widths Parquet does not define.
        LogicalType::Integer(int) if !matches!(int.bit_width, 8 | 16 | 32 | 64) => {
            ConvertedType::NONE
        }
        logical => ConvertedType::from(Some(logical.clone())),
    }
}

/// Whether `old` differs from `new` only by an annotation that does not
/// change how the bytes are read: UUID on 16 bytes, JSON, BSON or ENUM on
/// text or bytes, a geospatial type on bytes, a time of day adjusted to
/// UTC or not (DuckDB's TIMETZ; arrow-rs reads both as one type).
fn annotation_only(old: &ColumnDescriptor, new: &ColumnDescriptor) -> bool {
    if let (Some(LogicalType::Time(a)), Some(LogicalType::Time(b))) =
        (old.logical_type_ref(), new.logical_type_ref())
    {
        return a.unit == b.unit && old.physical_type() == new.physical_type();
    }
    let plain = matches!(new.logical_type_ref(), None | Some(LogicalType::String));
    let kept = match old.logical_type_ref() {
        Some(
            LogicalType::Uuid
            | LogicalType::Json
            | LogicalType::Bson
            | LogicalType::Enum
            | LogicalType::Geometry(_)
            | LogicalType::Geography(_),
        ) => true,
        None => matches!(
            old.converted_type(),
            ConvertedType::JSON | ConvertedType::BSON | ConvertedType::ENUM
        ),
        Some(_) => false,
    };
    plain
        && kept
        && old.physical_type() == new.physical_type()
        && (old.physical_type() != PhysicalType::FIXED_LEN_BYTE_ARRAY
            || old.type_length() == new.type_length())
}

/// `written` rebuilt with the leaves' annotations in `kept` (leaf order).
fn annotated(
    written: &Type,
    kept: &[Option<(Option<LogicalType>, ConvertedType)>],
    leaf: &mut usize,
) -> Result<TypePtr> {
    let info = written.get_basic_info();
    let built = match written {
        Type::PrimitiveType {
            physical_type,
            type_length,
            scale,
            precision,
            ..
        } => {
            let at = *leaf;
            *leaf += 1;
            let Some((logical, converted)) = kept.get(at).cloned().flatten() else {
                return Ok(Arc::new(written.clone()));
            };
            Type::primitive_type_builder(info.name(), *physical_type)
                .with_repetition(info.repetition())
                .with_logical_type(logical)
                .with_converted_type(converted)
                .with_length(*type_length)
                .with_scale(*scale)
                .with_precision(*precision)
                .with_id(info.has_id().then(|| info.id()))
                .build()
        }
        Type::GroupType { fields, .. } => {
            let fields = fields
                .iter()
                .map(|f| annotated(f, kept, leaf))
                .collect::<Result<Vec<_>>>()?;
            let mut group = Type::group_type_builder(info.name())
                .with_fields(fields)
                .with_logical_type(info.logical_type_ref().cloned())
                .with_converted_type(info.converted_type())
                .with_id(info.has_id().then(|| info.id()));
            if info.has_repetition() {
                group = group.with_repetition(info.repetition());
            }
            group.build()
        }
    };
    Ok(Arc::new(built.map_err(|e| {
        PlannerError::from(DataFusionError::from(e))
    })?))
}

#[cfg(test)]
mod tests {
    use datafusion::parquet::basic::{Repetition, TimeUnit};

    use super::*;

    /// A schema of one leaf column `c` of `physical` type annotated `logical`.
    fn one(physical: PhysicalType, length: i32, logical: Option<LogicalType>) -> SchemaDescriptor {
        let leaf = Type::primitive_type_builder("c", physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_length(length)
            .with_logical_type(logical)
            .build()
            .unwrap();
        let root = Type::group_type_builder("schema")
            .with_fields(vec![Arc::new(leaf)])
            .build()
            .unwrap();
        SchemaDescriptor::new(Arc::new(root))
    }

    #[test]
    fn an_annotation_only_the_old_file_has_is_kept() {
        let fixed = PhysicalType::FIXED_LEN_BYTE_ARRAY;
        let kept = keep(
            &one(fixed, 16, Some(LogicalType::Uuid)),
            &one(fixed, 16, None),
        )
        .unwrap();
        assert_eq!(kept.column(0).logical_type_ref(), Some(&LogicalType::Uuid));
        let text = PhysicalType::BYTE_ARRAY;
        let kept = keep(
            &one(text, -1, Some(LogicalType::Json)),
            &one(text, -1, Some(LogicalType::String)),
        )
        .unwrap();
        assert_eq!(kept.column(0).logical_type_ref(), Some(&LogicalType::Json));
        assert_eq!(kept.column(0).converted_type(), ConvertedType::JSON);
        let utc = LogicalType::time(true, TimeUnit::MICROS);
        let local = LogicalType::time(false, TimeUnit::MICROS);
        let kept = keep(
            &one(PhysicalType::INT64, -1, Some(utc.clone())),
            &one(PhysicalType::INT64, -1, Some(local)),
        )
        .unwrap();
        assert_eq!(kept.column(0).logical_type_ref(), Some(&utc));
        // The same meaning written differently is left as arrow-rs writes it.
        let kept = keep(
            &one(
                PhysicalType::INT32,
                -1,
                Some(LogicalType::integer(32, true)),
            ),
            &one(PhysicalType::INT32, -1, None),
        )
        .unwrap();
        assert_eq!(kept.column(0).logical_type_ref(), None);
    }

    #[test]
    fn a_column_whose_type_would_change_is_refused_naming_it() {
        // A UUID on bytes of another length, a timestamp in another unit.
        let refused = [
            keep(
                &one(
                    PhysicalType::FIXED_LEN_BYTE_ARRAY,
                    16,
                    Some(LogicalType::Uuid),
                ),
                &one(PhysicalType::BYTE_ARRAY, -1, None),
            ),
            keep(
                &one(
                    PhysicalType::INT64,
                    -1,
                    Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
                ),
                &one(
                    PhysicalType::INT64,
                    -1,
                    Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
                ),
            ),
        ];
        for error in refused {
            let error = error.unwrap_err();
            assert!(
                error.starts_with("column c is ") && error.contains("nothing was written"),
                "{error}"
            );
        }
    }
}
