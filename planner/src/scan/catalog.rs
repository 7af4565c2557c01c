//! The secret manager as tables: `duckdb_secrets()` (values of SECRET and
//! SESSION_TOKEN redacted, as the manager's listing already holds them) and
//! `which_secret(url, type)`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::datasource::TableProvider;
use s3sql_secrets::{SecretManager, SecretType};

use crate::error::Result;

fn table(columns: Vec<(&str, ArrayRef)>) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// `duckdb_secrets()`: name, type, provider, persistent, storage, scope,
/// secret_string.
pub(crate) fn secrets_table(secrets: &SecretManager) -> Result<Arc<dyn TableProvider>> {
    let listing = secrets.list()?;
    let mut scopes = ListBuilder::new(StringBuilder::new());
    for secret in &listing {
        for scope in &secret.scope {
            scopes.values().append_value(scope);
        }
        scopes.append(true);
    }
    let types: Vec<String> = listing.iter().map(|s| s.secret_type.to_string()).collect();
    let providers: Vec<String> = listing.iter().map(|s| s.provider.to_string()).collect();
    let rendered: Vec<String> = listing.iter().map(ToString::to_string).collect();
    table(vec![
        ("name", strings(listing.iter().map(|s| s.name.as_str()))),
        ("type", strings(types.iter().map(String::as_str))),
        ("provider", strings(providers.iter().map(String::as_str))),
        (
            "persistent",
            Arc::new(BooleanArray::from_iter(
                listing.iter().map(|s| Some(s.persistent)),
            )),
        ),
        ("storage", strings(listing.iter().map(|s| s.storage))),
        ("scope", Arc::new(scopes.finish())),
        (
            "secret_string",
            strings(rendered.iter().map(String::as_str)),
        ),
    ])
}

/// `which_secret(url, type)`: name, persistent, storage; no row when no
/// secret of that type covers the URL.
pub(crate) fn which_secret_table(
    secrets: &SecretManager,
    args: &[String],
) -> Result<Arc<dyn TableProvider>> {
    let (url, type_name) = match args {
        [url, type_name] => (url.as_str(), type_name.as_str()),
        _ => ("", ""),
    };
    let found = secrets.which_secret(url, SecretType::parse(type_name)?)?;
    let found: Vec<_> = found.into_iter().collect();
    table(vec![
        ("name", strings(found.iter().map(|m| m.name.as_str()))),
        // DuckDB's which_secret says TEMPORARY or PERSISTENT here, where
        // duckdb_secrets() has a BOOLEAN.
        (
            "persistent",
            strings(found.iter().map(|m| match m.persistence {
                s3sql_secrets::Persistence::Persistent => "PERSISTENT",
                s3sql_secrets::Persistence::Temporary => "TEMPORARY",
            })),
        ),
        (
            "storage",
            strings(found.iter().map(|m| m.persistence.storage())),
        ),
    ])
}
