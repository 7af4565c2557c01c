//! Deterministic sample data for the demo and `cargo xtask server`: the same
//! seed always writes the same bytes, so a result printed in README or an
//! issue can be reproduced by anyone.
//!
//! Layout of bucket [`BUCKET`]:
//! - `trips/trips.parquet`: [`TRIP_ROWS`] taxi-like trips (the large file).
//! - `trips_csv/trips.csv`: the first [`CSV_ROWS`] of the same trips as CSV.
//! - `events/day=NN.jsonl`: newline-delimited JSON events with a nested object.
//! - `multi/file1.parquet`, `multi/file2.parquet`: for lists and `*.parquet`.
//! - `folder1/1001/t1.parquet` ...: for `folder*/100?/t[0-9].parquet`.
//! - `sales/year=YYYY/month=MM/data_0.parquet`: hive-partitioned sales.

use std::sync::Arc;

use anyhow::Result;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use s3sql_s3_client::{MultipartWriter, PutObjectRequest, S3Client};

/// The bucket every sample object lives in.
pub const BUCKET: &str = "demo";
/// Rows of `trips/trips.parquet` (about 200 MB with snappy).
pub const TRIP_ROWS: usize = 5_000_000;
/// Rows of `trips_csv/trips.csv`.
pub const CSV_ROWS: usize = 1_000_000;
/// Rows written per Parquet row group and per generated batch.
const BATCH_ROWS: usize = 122_880;
const PAYMENT_TYPES: [&str; 4] = ["card", "cash", "app", "voucher"];
const CITIES: [&str; 6] = ["Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Oslo"];
/// 2024-01-01T00:00:00Z in microseconds.
const EPOCH_2024_US: i64 = 1_704_067_200_000_000;

/// What was written, for the summary line.
#[derive(Debug, Default)]
pub struct Written {
    /// Objects written.
    pub objects: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes every sample object into [`BUCKET`] (created if missing).
pub async fn seed(client: &S3Client) -> Result<Written> {
    if client.head_bucket(BUCKET).await.is_err() {
        client.create_bucket(BUCKET).await?;
    }
    let mut written = Written::default();
    let mut put = async |key: &str, body: Vec<u8>| -> Result<()> {
        written.objects += 1;
        written.bytes += body.len() as u64;
        upload(client, key, body).await
    };

    put("trips/trips.parquet", parquet(trips(0, TRIP_ROWS))?).await?;
    put("trips_csv/trips.csv", trips_csv(CSV_ROWS)).await?;
    for day in 1..=3 {
        put(&format!("events/day={day:02}.jsonl"), events(day, 50_000)).await?;
    }
    put("multi/file1.parquet", parquet(trips(0, 3))?).await?;
    put("multi/file2.parquet", parquet(trips(3, 3))?).await?;
    for (folder, dir, table) in [
        ("folder1", "1001", "t1"),
        ("folder1", "1002", "t2"),
        ("folder2", "1003", "t3"),
        ("folder2", "2001", "t4"),
        ("other", "1001", "t5"),
    ] {
        let key = format!("{folder}/{dir}/{table}.parquet");
        put(&key, parquet(trips(0, 100))?).await?;
    }
    for year in 2023..=2024 {
        for month in 1..=12 {
            let key = format!("sales/year={year}/month={month:02}/data_0.parquet");
            put(&key, parquet(sales(year, month))?).await?;
        }
    }
    Ok(written)
}

/// The data set of `cargo xtask bench query` in `bucket`: a big Parquet file
/// of `big_rows` trips, 1,000 small ones, a 1M-row CSV, a big CSV of
/// `big_csv_rows`, and the hive-partitioned sales. Returns the bytes written.
pub async fn seed_bench(
    client: &S3Client,
    bucket: &str,
    big_rows: usize,
    big_csv_rows: usize,
) -> Result<u64> {
    client.create_bucket(bucket).await?;
    let mut bytes = 0u64;
    let mut put = async |key: &str, body: Vec<u8>| -> Result<()> {
        bytes += body.len() as u64;
        upload_to(client, bucket, key, body).await
    };
    put("big/trips.parquet", parquet(trips(0, big_rows))?).await?;
    for i in 0..1_000 {
        put(
            &format!("small/part-{i:04}.parquet"),
            parquet(trips(i * 100, 100))?,
        )
        .await?;
    }
    put("csv/trips.csv", trips_csv(CSV_ROWS)).await?;
    put("csv_big/trips.csv", trips_csv(big_csv_rows)).await?;
    for year in 2023..=2024 {
        for month in 1..=12 {
            let key = format!("sales/year={year}/month={month:02}/data_0.parquet");
            put(&key, parquet(sales(year, month))?).await?;
        }
    }
    Ok(bytes)
}

async fn upload(client: &S3Client, key: &str, body: Vec<u8>) -> Result<()> {
    upload_to(client, BUCKET, key, body).await
}

async fn upload_to(client: &S3Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
    let mut writer = MultipartWriter::new(client, bucket, key, PutObjectRequest::default());
    writer.write(&body).await?;
    writer.finish().await?;
    Ok(())
}

/// One trip per row: the same `first..first+rows` always gives the same rows.
fn trips(first: usize, rows: usize) -> impl Iterator<Item = Result<RecordBatch>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("trip_id", DataType::Int64, false),
        Field::new(
            "pickup_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("passenger_count", DataType::Int32, false),
        Field::new("distance_km", DataType::Float64, false),
        Field::new("fare", DataType::Float64, false),
        Field::new("payment_type", DataType::Utf8, false),
        Field::new("city", DataType::Utf8, false),
    ]));
    (first..first + rows).step_by(BATCH_ROWS).map(move |start| {
        let end = (start + BATCH_ROWS).min(first + rows);
        let trip = (start..end).map(Trip::new).collect::<Vec<_>>();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(trip.iter().map(|t| t.id))),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                trip.iter().map(|t| t.pickup_at_us),
            )),
            Arc::new(Int32Array::from_iter_values(
                trip.iter().map(|t| t.passengers),
            )),
            Arc::new(Float64Array::from_iter_values(
                trip.iter().map(|t| t.distance),
            )),
            Arc::new(Float64Array::from_iter_values(trip.iter().map(|t| t.fare))),
            Arc::new(StringArray::from_iter_values(
                trip.iter().map(|t| t.payment),
            )),
            Arc::new(StringArray::from_iter_values(trip.iter().map(|t| t.city))),
        ];
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    })
}

/// One generated trip, a pure function of its id.
struct Trip {
    id: i64,
    pickup_at_us: i64,
    passengers: i32,
    distance: f64,
    fare: f64,
    payment: &'static str,
    city: &'static str,
}

impl Trip {
    fn new(row: usize) -> Trip {
        let mut rng = fastrand::Rng::with_seed(row as u64);
        let distance = (rng.f64() * 30.0 * 100.0).round() / 100.0;
        Trip {
            id: row as i64,
            // One trip every 6 s from 2024-01-01: 5M trips span ~a year.
            pickup_at_us: EPOCH_2024_US + row as i64 * 6_000_000,
            passengers: rng.i32(1..=4),
            distance,
            fare: ((2.5 + distance * 1.7 + rng.f64() * 3.0) * 100.0).round() / 100.0,
            payment: PAYMENT_TYPES[rng.usize(..PAYMENT_TYPES.len())],
            city: CITIES[rng.usize(..CITIES.len())],
        }
    }
}

fn trips_csv(rows: usize) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows * 64);
    out.push_str("trip_id,pickup_at,passenger_count,distance_km,fare,payment_type,city\n");
    for row in 0..rows {
        let t = Trip::new(row);
        let pickup = chrono_like(t.pickup_at_us);
        let _ = writeln!(
            out,
            "{},{pickup},{},{},{},{},{}",
            t.id, t.passengers, t.distance, t.fare, t.payment, t.city
        );
    }
    out.into_bytes()
}

/// `YYYY-MM-DD HH:MM:SS` for a 2024 timestamp, without a date library:
/// 2024 is a leap year and every generated trip falls inside it or early 2025.
fn chrono_like(us: i64) -> String {
    let secs = (us - EPOCH_2024_US) / 1_000_000;
    let (mut day, rem) = (secs / 86_400, secs % 86_400);
    let mut year = 2024;
    let mut month = 0;
    loop {
        let leap = year % 4 == 0;
        let lengths = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if day < lengths[month] {
            break;
        }
        day -= lengths[month];
        month += 1;
        if month == 12 {
            month = 0;
            year += 1;
        }
    }
    format!(
        "{year}-{:02}-{:02} {:02}:{:02}:{:02}",
        month + 1,
        day + 1,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn events(day: u32, rows: usize) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows * 96);
    for i in 0..rows {
        let mut rng = fastrand::Rng::with_seed(u64::from(day) << 32 | i as u64);
        let kind = ["view", "click", "purchase"][rng.usize(..3)];
        let _ = writeln!(
            out,
            r#"{{"id":{},"day":{day},"kind":"{kind}","user":{{"id":{},"country":"{}"}},"amount":{}}}"#,
            u64::from(day) * 1_000_000 + i as u64,
            rng.u32(1..5_000),
            ["PT", "ES", "FR", "DE", "NO"][rng.usize(..5)],
            if kind == "purchase" {
                format!("{:.2}", rng.f64() * 200.0)
            } else {
                "null".into()
            },
        );
    }
    out.into_bytes()
}

fn sales(year: i32, month: i32) -> impl Iterator<Item = Result<RecordBatch>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("product", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let mut rng = fastrand::Rng::with_seed((year * 100 + month) as u64);
    let rows = 1_000;
    let base = i64::from(year * 100 + month) * 10_000;
    let ids = Int64Array::from_iter_values((0..rows).map(|i| base + i));
    let products = StringArray::from_iter_values(
        (0..rows).map(|_| ["widget", "gadget", "gizmo"][rng.usize(..3)]),
    );
    let amounts =
        Float64Array::from_iter_values((0..rows).map(|_| (rng.f64() * 100_000.0).round() / 100.0));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(ids), Arc::new(products), Arc::new(amounts)],
    );
    std::iter::once(batch.map_err(Into::into))
}

fn parquet(batches: impl Iterator<Item = Result<RecordBatch>>) -> Result<Vec<u8>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(BATCH_ROWS))
        .build();
    let mut writer = None;
    for batch in batches {
        let batch = batch?;
        let writer = match &mut writer {
            Some(writer) => writer,
            None => writer.insert(ArrowWriter::try_new(
                Vec::new(),
                batch.schema(),
                Some(props.clone()),
            )?),
        };
        writer.write(&batch)?;
    }
    let Some(writer) = writer else {
        anyhow::bail!("no rows to write");
    };
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_the_calendar_says() {
        assert_eq!(chrono_like(EPOCH_2024_US), "2024-01-01 00:00:00");
        // 2024-02-29 12:34:56 is day 59 of the leap year.
        let us = EPOCH_2024_US + (59 * 86_400 + 12 * 3600 + 34 * 60 + 56) * 1_000_000;
        assert_eq!(chrono_like(us), "2024-02-29 12:34:56");
        let us = EPOCH_2024_US + 366 * 86_400 * 1_000_000;
        assert_eq!(chrono_like(us), "2025-01-01 00:00:00");
    }

    #[test]
    fn the_same_row_is_the_same_trip() {
        let (a, b) = (Trip::new(42), Trip::new(42));
        assert_eq!((a.fare, a.city, a.payment), (b.fare, b.city, b.payment));
        let csv = trips_csv(3);
        assert_eq!(csv, trips_csv(3));
        assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 4);
    }
}
