//! MindsDB's S3 integration (DESIGN.md's second dialect): `CREATE DATABASE
//! ds WITH ENGINE = 's3', PARAMETERS = {...}` ([`parse`], [`params`]), the
//! session's databases ([`database`]), ``SELECT * FROM ds.`folder/file.csv` ``
//! planned as the scan of `s3://bucket/folder/file.csv` signed by the
//! database ([`resolve`]), `ds.files` ([`files`]), ``INSERT INTO ds.`key` ``
//! writing a new version of the object, its old content then the new rows
//! ([`insert`], [`append`], [`splice`], [`landed`]),
//! and `SHOW DATABASES` / `SHOW TABLES FROM ds`.

mod append;
mod database;
mod dated;
mod error;
mod files;
mod insert;
mod landed;
mod params;
mod parquet_types;
mod parse;
mod resolve;
mod splice;

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use futures::TryStreamExt;
use s3sql_formats::detect_from_path;
use s3sql_s3_client::ListObjectsV2Request;
use s3sql_secrets::Parameters;

pub(crate) use append::append;
pub(crate) use database::{Database, Databases};
pub use error::DatabaseError;
pub(crate) use files::files_table;
pub(crate) use insert::{InsertStatement, InsertTarget, OldObject, Resolved};
pub(crate) use params::pointed;
pub(crate) use parse::{DatabaseStatement, hint, parse, parse_insert};
pub(crate) use resolve::{missing_database, names_an_object, refuse_explained_insert, resolve};

use crate::error::{PlannerError, Result};
use crate::secret_sql::success;
use crate::settings::Settings;

/// The session's catalog and schema names: a database so named would take
/// over `public.t` and `information_schema.tables` (refused at CREATE, and
/// a stored one so named, from before the check, does not load).
const RESERVED: [&str; 3] = ["datafusion", "public", "information_schema"];

/// Runs a database statement; its rows.
pub(crate) async fn execute(
    statement: DatabaseStatement,
    databases: &Databases,
    settings: &Settings,
) -> Result<RecordBatch> {
    match statement {
        DatabaseStatement::Create {
            name,
            if_not_exists,
            or_replace,
            parameters,
        } => {
            if RESERVED.contains(&name.as_str()) {
                return Err(DatabaseError::Reserved { name }.into());
            }
            if databases.is_schema(&name) {
                return Err(DatabaseError::IsSchema { name }.into());
            }
            databases.can_store(&name)?;
            if or_replace {
                // MindsDB's CREATE OR REPLACE: the new one is checked first,
                // so a failed check leaves the old one in place.
                let database = connect(&name, parameters, settings).await?;
                databases.replace(database)?;
                return success(true);
            }
            if if_not_exists && databases.is_taken(&name) {
                return success(false);
            }
            if databases.find(&name)?.is_some() {
                return Err(DatabaseError::Exists { name }.into());
            }
            let database = connect(&name, parameters, settings).await?;
            match databases.insert(database) {
                Ok(()) => success(true),
                // Stored by another process while this one connected.
                Err(PlannerError::Database(DatabaseError::StoredElsewhere { .. }))
                    if if_not_exists =>
                {
                    success(false)
                }
                Err(e) => Err(e),
            }
        }
        DatabaseStatement::Drop { name, if_exists } => {
            if !databases.remove(&name)? && !if_exists {
                return Err(DatabaseError::NotFound { name }.into());
            }
            success(true)
        }
        DatabaseStatement::Show => show_databases(databases),
        DatabaseStatement::ShowTables { name } => {
            let database = databases.require(&name)?;
            show_tables(&database, settings).await
        }
    }
}

/// Builds the database and checks its connection: GetBucketLocation (when
/// no `region_name` is given) and HeadBucket for a bucket, ListBuckets
/// without one. Nothing is kept when a check fails. The bucket's region,
/// found by GetBucketLocation or taught by HeadBucket's redirect, is kept.
async fn connect(name: &str, parameters: Parameters, settings: &Settings) -> Result<Database> {
    let database = Database::new(name, parameters.clone(), None)?;
    let (client, _) = database.client(settings).await?;
    let Some(bucket) = database.bucket().map(str::to_owned) else {
        client
            .list_buckets()
            .await
            .map_err(|error| DatabaseError::Connection {
                check: "ListBuckets".into(),
                error,
            })?;
        return Ok(database);
    };
    let database = if database::has_string(&parameters, "region_name") {
        database
    } else {
        // A server without GetBucketLocation (or a key without the
        // permission) leaves the region to HeadBucket's redirect.
        match client.get_bucket_location(&bucket).await {
            Ok(region) => Database::new(name, parameters.clone(), Some(region))?,
            Err(e) => {
                tracing::debug!(%e, "GetBucketLocation failed; the region redirect decides");
                database
            }
        }
    };
    let (client, _) = database.client(settings).await?;
    if let Err(error) = client.head_bucket(&bucket).await {
        // A HEAD answer has no body, so no S3 error code: a wrong secret,
        // an unknown key id and an expired token all read "403 Forbidden".
        // GetBucketLocation's answer has one; it is what the user needs.
        if let Some(status @ (400 | 403)) = error.status()
            && matches!(error.code(), Some("Forbidden" | "HTTP400"))
            && let Err(coded) = client.get_bucket_location(&bucket).await
            && coded.status() == Some(status)
            && !matches!(coded.code(), Some("Forbidden" | "HTTP400"))
        {
            return Err(DatabaseError::Connection {
                check: format!(
                    "HeadBucket check answered HTTP {status} without an S3 error code, and the GetBucketLocation"
                ),
                error: coded,
            }
            .into());
        }
        return Err(DatabaseError::Connection {
            check: "HeadBucket".into(),
            error,
        }
        .into());
    }
    // The region HeadBucket's redirect taught (GetBucketLocation refused
    // or not served) is stored with the database, so a later process
    // signs for it at once instead of paying the redirect again.
    if database.found_region().is_none()
        && !database::has_string(&parameters, "region_name")
        && let Some(region) = client.known_region(&bucket)
    {
        return Database::new(name, parameters, Some(region));
    }
    Ok(database)
}

/// `SHOW DATABASES` (and `mindsdb_databases()`, the same rows as a table
/// to query): name, engine, bucket, region, the parameters (secrets
/// redacted), the directory it is stored in (`memory` for none) and, for
/// a stored database that does not load, the problem and how to fix it.
pub(crate) fn show_databases(databases: &Databases) -> Result<RecordBatch> {
    struct Row {
        name: String,
        bucket: Option<String>,
        region: Option<String>,
        parameters: Option<String>,
        problem: Option<String>,
    }
    databases.refresh();
    let mut rows: Vec<Row> = databases
        .list()
        .iter()
        .map(|d| Row {
            name: d.name().to_owned(),
            bucket: d.bucket().map(str::to_owned),
            region: d
                .found_region()
                .map(str::to_owned)
                .or_else(|| d.secret().settings().region.clone()),
            parameters: Some(d.redacted_parameters()),
            problem: None,
        })
        .collect();
    rows.extend(databases.unloadable().into_iter().map(|(name, u)| Row {
        problem: Some(u.problem(&name)),
        name,
        bucket: None,
        region: None,
        parameters: u.parameters,
    }));
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let text = |f: &dyn Fn(&Row) -> Option<String>| {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Database", DataType::Utf8, false),
        Field::new("engine", DataType::Utf8, false),
        Field::new("bucket", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("parameters", DataType::Utf8, true),
        Field::new("storage", DataType::Utf8, false),
        Field::new("problem", DataType::Utf8, true),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            text(&|r| Some(r.name.clone())),
            text(&|_| Some("s3".to_owned())),
            text(&|r| r.bucket.clone()),
            text(&|r| r.region.clone()),
            text(&|r| r.parameters.clone()),
            text(&|_| Some(databases.storage())),
            text(&|r| r.problem.clone()),
        ],
    )?)
}

/// `SHOW TABLES FROM ds`: `files`, then every object s3sql can query, by
/// key (with the bucket first when the database names none).
async fn show_tables(database: &Database, settings: &Settings) -> Result<RecordBatch> {
    let (client, _) = database.client(settings).await?;
    let buckets = match database.bucket() {
        Some(bucket) => vec![bucket.to_owned()],
        None => client
            .list_buckets()
            .await?
            .into_iter()
            .map(|b| b.name)
            .collect(),
    };
    let mut names = vec!["files".to_owned()];
    for bucket in &buckets {
        let mut pages = client.list_objects_v2(bucket, ListObjectsV2Request::default());
        while let Some(page) = pages.try_next().await? {
            for object in page.objects {
                if detect_from_path(&object.key).is_some() {
                    names.push(match database.bucket() {
                        Some(_) => object.key,
                        None => format!("{bucket}/{}", object.key),
                    });
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        format!("Tables_in_{}", database.name()),
        DataType::Utf8,
        false,
    )]));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(names))],
    )?)
}
