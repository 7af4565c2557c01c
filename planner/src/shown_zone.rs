//! A TIMESTAMP WITH TIME ZONE is an instant, and DuckDB shows it, casts
//! it to text and writes it to CSV and JSON in the session's `TimeZone`,
//! whatever zone the value came with. Arrow keeps a zone per column: a
//! Parquet column adjusted to UTC is read as `UTC`, a literal gets the
//! session's zone, a file written by pyarrow may name any. So results,
//! casts to text and text COPYs retype their zoned timestamps (nested
//! ones too) into the session's zone: the same instants, labelled for
//! their text. Hive partition names are the exception: DuckDB 1.5.5 names
//! `t=2024-01-01 12:00:00+00` in UTC whatever the session's zone.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

/// The zone hive partition names are written in.
pub(crate) const UTC: &str = "UTC";

/// The session's `TimeZone` (DataFusion's `execution.time_zone`), or
/// UTC where arrow cannot name it (`SET TimeZone = DEFAULT` stores
/// `default`; the `SystemV` zones with daylight saving): a result is then
/// shown in UTC, never refused (review of 0d60fee, H1).
pub(crate) fn session_zone(options: &ConfigOptions) -> &str {
    let zone = options.execution.time_zone.as_deref().unwrap_or(UTC);
    match zone.parse::<datafusion::arrow::array::timezone::Tz>() {
        Ok(_) => zone,
        Err(_) => UTC,
    }
}

/// `array` with every zoned timestamp in it labelled `zone`; the array
/// itself when none needs it (no copy).
pub(crate) fn in_zone(array: &ArrayRef, zone: &str) -> Result<ArrayRef> {
    match retyped(array.data_type(), zone) {
        Some(to) => Ok(cast(array, &to)?),
        None => Ok(Arc::clone(array)),
    }
}

/// `field` as [`in_zone`] retypes its values.
pub(crate) fn field_in_zone(field: &Field, zone: &str) -> Field {
    match retyped(field.data_type(), zone) {
        Some(to) => field.clone().with_data_type(to),
        None => field.clone(),
    }
}

/// `stream`'s batches with their zoned timestamps labelled `zone`; the
/// stream itself when its schema has none that needs it.
pub(crate) fn stream_in_zone(
    stream: SendableRecordBatchStream,
    zone: &str,
) -> SendableRecordBatchStream {
    let schema = stream.schema();
    let Some(shown) = schema_in_zone(&schema, zone) else {
        return stream;
    };
    let zone = zone.to_owned();
    let batches_schema = Arc::clone(&shown);
    let batches = stream.map(move |batch| {
        let batch = batch?;
        let columns = batch
            .columns()
            .iter()
            .map(|column| in_zone(column, &zone))
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&batches_schema), columns)?)
    });
    Box::pin(RecordBatchStreamAdapter::new(shown, batches))
}

/// `schema` with its zoned timestamps labelled `zone`, if any needs it.
fn schema_in_zone(schema: &SchemaRef, zone: &str) -> Option<SchemaRef> {
    if !schema
        .fields()
        .iter()
        .any(|f| retyped(f.data_type(), zone).is_some())
    {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| field_in_zone(f, zone))
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

/// `data_type` with its zoned timestamps in `zone`, when one is in
/// another; a timestamp without a zone stays one.
fn retyped(data_type: &DataType, zone: &str) -> Option<DataType> {
    use DataType::*;
    match data_type {
        Timestamp(unit, Some(z)) if z.as_ref() != zone => Some(Timestamp(*unit, Some(zone.into()))),
        List(f) => child(f, zone).map(List),
        LargeList(f) => child(f, zone).map(LargeList),
        FixedSizeList(f, n) => child(f, zone).map(|f| FixedSizeList(f, *n)),
        Map(f, sorted) => child(f, zone).map(|f| Map(f, *sorted)),
        Dictionary(key, values) => {
            retyped(values, zone).map(|v| Dictionary(key.clone(), Box::new(v)))
        }
        Struct(fields) => {
            let any = fields
                .iter()
                .any(|f| retyped(f.data_type(), zone).is_some());
            any.then(|| {
                Struct(Fields::from(
                    fields
                        .iter()
                        .map(|f| field_in_zone(f, zone))
                        .collect::<Vec<_>>(),
                ))
            })
        }
        _ => None,
    }
}

fn child(field: &FieldRef, zone: &str) -> Option<FieldRef> {
    retyped(field.data_type(), zone).map(|to| Arc::new(field.as_ref().clone().with_data_type(to)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, ListArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{Int32Type, TimeUnit};

    fn zoned(zone: &str) -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(vec![Some(1_704_110_400_000_000), None])
                .with_timezone(zone),
        )
    }

    #[test]
    fn a_zoned_timestamp_keeps_its_instants_under_the_new_label() {
        let shown = in_zone(&zoned("UTC"), "America/New_York").unwrap();
        assert_eq!(
            shown.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("America/New_York".into()))
        );
        let shown = shown
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(shown.value(0), 1_704_110_400_000_000);
        assert!(shown.is_null(1));
    }

    #[test]
    fn naive_timestamps_and_timestamps_already_in_the_zone_are_not_copied() {
        let naive: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1]));
        assert!(Arc::ptr_eq(
            &in_zone(&naive, "America/New_York").unwrap(),
            &naive
        ));
        let same = zoned("America/New_York");
        assert!(Arc::ptr_eq(
            &in_zone(&same, "America/New_York").unwrap(),
            &same
        ));
    }

    #[test]
    fn nested_timestamps_are_retyped_too() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
        let values = zoned("UTC").slice(0, 1);
        let field = Arc::new(Field::new("item", values.data_type().clone(), true));
        let list: ArrayRef = Arc::new(ListArray::new(field, list.offsets().clone(), values, None));
        let shown = in_zone(&list, "Asia/Kolkata").unwrap();
        let DataType::List(item) = shown.data_type() else {
            panic!("{}", shown.data_type())
        };
        assert_eq!(
            item.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("Asia/Kolkata".into()))
        );
        let dictionary = DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(zoned("UTC").data_type().clone()),
        );
        assert!(retyped(&dictionary, "Asia/Kolkata").is_some());
        assert!(retyped(&DataType::Int64, "Asia/Kolkata").is_none());
    }
}
