//! The rewrite behind MindsDB's INSERT: the old object's rows, streamed
//! from its scan (pinned to the ETag it was listed with), then the new
//! rows, through COPY's encoder for the object's own format and dialect,
//! into a multipart upload of the same key whose completion carries
//! `If-Match` with the old ETag. So the new version replaces the old only
//! once it is whole, and only if nobody replaced the old one meanwhile: a
//! concurrent writer makes the completion fail (412), which is reported,
//! and any failure aborts the upload, leaving the old object as it was.
//! A server that ignores `If-Match` on CompleteMultipartUpload (moto 5.2
//! does; S3 evaluates it) is guarded by a HEAD with `If-Match` before the
//! last part and the completion, which leaves a window of those two
//! requests.
//! Memory is COPY's for one file: the encoder's state and the upload's
//! parts; neither the old nor the new rows are collected.

use std::sync::Arc;

use datafusion::execution::SendableRecordBatchStream;
use s3sql_s3_client::{GetObjectRequest, ObjectUrl, PutObjectRequest};

use super::error::DatabaseError;
use super::insert::{InsertTarget, Mapping, OldObject};
use crate::copy::{
    CopyError, CopyMonitor, FileWriter, Sink, content_type, count, next_batch, upload_budget,
};
use crate::error::{PlannerError, Result};
use crate::settings::Settings;

/// Rewrites `target`'s object as `old_rows` then `new_rows`; answers
/// DuckDB's `Count` of an INSERT: the rows inserted.
pub(crate) async fn append(
    target: &InsertTarget,
    old: &OldObject,
    mut old_rows: SendableRecordBatchStream,
    mut new_rows: SendableRecordBatchStream,
    settings: &Settings,
    monitor: &CopyMonitor,
) -> Result<SendableRecordBatchStream> {
    let old_mapping = Mapping::identity(target, old);
    let new_mapping = Mapping::new_rows(target, old, &new_rows.schema())?;
    let _running = monitor.start();
    let (client, _) = target.database.client(settings).await?;
    let url = ObjectUrl::parse(&target.url)?;
    let put = PutObjectRequest {
        content_type: Some(content_type(old.options.format).to_owned()),
        if_match: Some(old.etag.clone()),
        ..PutObjectRequest::default()
    };
    let sink = Sink::s3_with(
        &client,
        url.bucket(),
        url.key(),
        put,
        &upload_budget(&client),
    );
    let mut file = FileWriter::new(sink, Arc::clone(&old.schema), &old.options).await?;
    let written = async {
        while let Some(batch) = next_batch(&mut old_rows, monitor).await? {
            file.write(&old_mapping.apply(&batch)?, monitor).await?;
        }
        let mut inserted = 0u64;
        while let Some(batch) = next_batch(&mut new_rows, monitor).await? {
            let rows = new_mapping.apply(&batch)?;
            inserted += rows.num_rows() as u64;
            file.write(&rows, monitor).await?;
        }
        Ok::<_, PlannerError>(inserted)
    }
    .await;
    let inserted = match written {
        Ok(inserted) => inserted,
        Err(e) => return Err(left_open(e, file.abort().await)),
    };
    let conflict = |e: PlannerError| match e {
        PlannerError::Client(e) if e.is_precondition_failed() => DatabaseError::InsertConflict {
            table: target.name.clone(),
            url: target.url.clone(),
            etag: old.etag.clone(),
        }
        .into(),
        other => other,
    };
    // Servers that ignore If-Match on CompleteMultipartUpload (moto 5.2)
    // are still caught unless the change lands in the last moments.
    let unchanged = GetObjectRequest {
        if_match: Some(old.etag.clone()),
        ..GetObjectRequest::default()
    };
    if let Err(e) = client
        .head_object_if(url.bucket(), url.key(), &unchanged)
        .await
    {
        return Err(left_open(conflict(e.into()), file.abort().await));
    }
    // The writer aborts its upload itself when completing fails.
    if let Err(unfinished) = file.finish().await {
        return Err(left_open(conflict(unfinished.error), unfinished.left_open));
    }
    monitor.add_file();
    count(inserted)
}

/// `error`, naming the upload that may stay open when its abort failed.
fn left_open(error: PlannerError, left: Option<String>) -> PlannerError {
    match left {
        None => error,
        Some(left) => CopyError::Failed {
            error: Box::new(error),
            finished: Vec::new(),
            not_aborted: vec![left],
        }
        .into(),
    }
}
