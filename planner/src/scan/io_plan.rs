//! What a file scan will read, for `EXPLAIN`: the patterns listed and how
//! (each ListObjectsV2 or HEAD the listing plan takes, and the requests it
//! made), the files matched and how many hive filters pruned, the bytes in
//! them, and the secret signing them (by name; a secret's values never
//! reach a plan).

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{TableProvider, source_as_provider};
use datafusion::logical_expr::LogicalPlan;
use s3sql_s3_client::ObjectUrl;
use s3sql_secrets::{SecretManager, SecretType};

use crate::error::Result;
use crate::scan::ScanMonitor;
use crate::scan::scan_store::ReadStats;
use crate::scan::table::FileTable;

/// How a scan's S3 patterns were listed: each one's listing plan (glob-list's
/// `ListingPlan` text: which prefixes, with or without `delimiter=/`) and
/// the requests the listing took.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Each S3 pattern's plan, in order.
    pub(crate) plans: Vec<String>,
    /// ListObjectsV2 and HEAD requests made.
    pub(crate) requests: u64,
}

/// One scan's I/O, filled in while it is listed and planned.
#[derive(Debug)]
pub(crate) struct IoPlan {
    /// `read_parquet(...)` or `FROM`, as written.
    function: String,
    /// The URLs or patterns listed, in order.
    patterns: Vec<String>,
    /// Files matched by the listing, and their total size.
    matched: (usize, u64),
    /// Who signs the requests: secret names, "unsigned" or "local files".
    signers: Vec<String>,
    /// Files and bytes left after hive partition pruning in the last
    /// physical plan; `None` before one was made.
    kept: Mutex<Option<(usize, u64)>>,
    /// How the patterns were listed.
    listing: Listing,
    /// The counters of each store reading the files.
    reads: Vec<ReadStats>,
    /// The statement's progress, told the files kept when planned.
    monitor: ScanMonitor,
}

impl IoPlan {
    /// The plan of a scan of `patterns` by `function`, listed as `listing`
    /// says.
    pub(crate) fn new(function: &str, patterns: &[String], listing: Listing) -> Self {
        Self {
            function: function.to_owned(),
            patterns: patterns.to_vec(),
            matched: (0, 0),
            signers: Vec::new(),
            kept: Mutex::new(None),
            listing,
            reads: Vec::new(),
            monitor: ScanMonitor::default(),
        }
    }

    /// Keeps the counters of the stores reading the files, and has
    /// `monitor` (the statement's progress) watch them and count the
    /// files the physical plan keeps.
    pub(crate) fn set_reads(&mut self, reads: Vec<ReadStats>, monitor: &ScanMonitor) {
        monitor.watch(&reads);
        self.reads = reads;
        self.monitor = monitor.clone();
    }

    /// Counts one matched file of `size` bytes.
    pub(crate) fn add_file(&mut self, size: u64) {
        self.matched.0 += 1;
        self.matched.1 = self.matched.1.saturating_add(size);
    }

    /// Records who signs the requests for `url` (a matched file's URL, or
    /// `None` for a local file). `set_credentials`: whether
    /// `SET s3_access_key_id` supplies keys where no secret does.
    pub(crate) fn add_signer(
        &mut self,
        secrets: &SecretManager,
        set_credentials: bool,
        url: Option<&str>,
    ) -> Result<()> {
        let signer = match url {
            None => "local files".to_owned(),
            Some(url) => {
                let location = ObjectUrl::parse(url)?;
                match secrets.which_secret(url, SecretType::for_url(&location))? {
                    Some(m) => format!("secret {} ({})", m.name, m.persistence.storage()),
                    None if set_credentials => {
                        "SET s3_access_key_id (no secret covers it)".to_owned()
                    }
                    None => "unsigned (no secret covers it)".to_owned(),
                }
            }
        };
        if !self.signers.contains(&signer) {
            self.signers.push(signer);
        }
        Ok(())
    }

    /// Notes that a database's own credentials sign the reads.
    pub(crate) fn add_database_signer(&mut self, database: &str) {
        let signer = format!("database {database}");
        if !self.signers.contains(&signer) {
            self.signers.push(signer);
        }
    }

    /// Records what the latest physical plan keeps after pruning.
    pub(crate) fn set_kept(&self, files: usize, bytes: u64) {
        self.monitor.add_objects(files as u64, bytes);
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some((files, bytes));
    }
}

impl fmt::Display for IoPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.patterns.iter().map(|p| format!("'{p}'")).collect();
        writeln!(f, "{}: {}", self.function, quoted.join(", "))?;
        if !self.listing.plans.is_empty() {
            let requests = self.listing.requests;
            writeln!(
                f,
                "  listing: {} ({requests} request{})",
                self.listing.plans.join("; "),
                if requests == 1 { "" } else { "s" }
            )?;
        }
        // The bytes in the files, not a bound on the read: a projection,
        // a LIMIT or row-group statistics read less, a CSV split into
        // ranges reads its sample and record starts besides (review-8e #17).
        let (matched, matched_bytes) = self.matched;
        let kept = *self.kept.lock().unwrap_or_else(|p| p.into_inner());
        match kept {
            Some((files, bytes)) if files < matched => writeln!(
                f,
                "  files: {files} of {matched} matched ({} pruned by partition filters), {} in them",
                matched - files,
                human_bytes(bytes)
            )?,
            _ => writeln!(
                f,
                "  files: {matched} matched, {} in them",
                human_bytes(matched_bytes)
            )?,
        }
        write!(f, "  signed by: {}", self.signers.join(", "))
    }
}

/// The tables `plan` scans, also inside the views it reads (and views of
/// views), in plan order: a view's file scans are not among the ones its
/// query's text names.
pub(crate) fn scanned_tables(plan: &LogicalPlan) -> Vec<Arc<dyn TableProvider>> {
    let mut tables = Vec::new();
    add_scanned_tables(plan, &mut tables);
    tables
}

fn add_scanned_tables(plan: &LogicalPlan, tables: &mut Vec<Arc<dyn TableProvider>>) {
    // The closure never fails, so neither does the walk.
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            match scan.source.get_logical_plan() {
                Some(view) => add_scanned_tables(&view, tables),
                None => tables.extend(source_as_provider(&scan.source).ok()),
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

/// The file tables among `tables`, each as the statement reads it (a
/// view's listed again: [`FileTable::listed_now`]), each once.
fn read_file_tables(tables: &[Arc<dyn TableProvider>]) -> Vec<Arc<dyn TableProvider>> {
    let mut read: Vec<Arc<dyn TableProvider>> = Vec::new();
    for table in tables {
        let Some(file_table) = table.downcast_ref::<FileTable>() else {
            continue;
        };
        let table = file_table.listed_now().unwrap_or_else(|| Arc::clone(table));
        if !read.iter().any(|t| Arc::ptr_eq(t, &table)) {
            read.push(table);
        }
    }
    read
}

/// An `EXPLAIN` result with one `io_plan` row per file scan among
/// `tables` appended (its plan text as [`IoPlan`] displays it), and with
/// `analyze` an `io_cost` row for the statement ([`cost`]).
pub(crate) fn with_io_plans(
    batches: Vec<RecordBatch>,
    tables: &[Arc<dyn TableProvider>],
    analyze: bool,
) -> Result<Vec<RecordBatch>> {
    let Some(schema) = batches.first().map(RecordBatch::schema) else {
        return Ok(batches);
    };
    let tables = read_file_tables(tables);
    let plans: Vec<&IoPlan> = tables
        .iter()
        .filter_map(|t| t.downcast_ref::<FileTable>())
        .map(FileTable::io_plan)
        .collect();
    if plans.is_empty() || schema.fields().len() != 2 {
        return Ok(batches);
    }
    let mut kinds = vec!["io_plan"; plans.len()];
    let mut texts: Vec<String> = plans.iter().map(ToString::to_string).collect();
    if analyze {
        kinds.push("io_cost");
        texts.push(cost(&plans));
    }
    let io = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(kinds)),
            Arc::new(StringArray::from(texts)),
        ],
    )?;
    let all = concat_batches(&schema, batches.iter().chain([&io]))?;
    Ok(vec![all])
}

/// What the statement's scans cost, for `EXPLAIN ANALYZE`: requests sent
/// (listing, then footers, samples and data, retries included) and bytes
/// of object data received. One figure for the statement: scans of one
/// (bucket, secret) share the store registered last, so their reads cannot
/// be told apart, but every request and byte is counted once.
fn cost(plans: &[&IoPlan]) -> String {
    let listing: u64 = plans.iter().map(|p| p.listing.requests).sum();
    let reads = plans.iter().flat_map(|p| &p.reads);
    let requests: u64 = reads.clone().map(ReadStats::requests).sum();
    let bytes: u64 = reads.map(ReadStats::bytes).sum();
    format!(
        "requests: {} ({listing} listing, {requests} reading), {} read",
        listing + requests,
        human_bytes(bytes)
    )
}

/// `1.5 MiB`-style sizes (EXPLAIN's I/O plan, the CLI's COPY progress).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn pruning_is_shown_once_planned() {
        let listing = Listing {
            plans: vec!["ListObjectsV2 prefix 'sales/…' delimiter '/' (descend)".into()],
            requests: 1,
        };
        let mut plan = IoPlan::new(
            "read_parquet",
            &["s3://b/sales/*/*.parquet".into()],
            listing,
        );
        plan.add_file(1000);
        plan.add_file(3000);
        plan.signers.push("secret s (memory)".into());
        let text = plan.to_string();
        assert!(text.contains("files: 2 matched, 3.9 KiB in them"), "{text}");
        assert!(
            text.contains(
                "listing: ListObjectsV2 prefix 'sales/…' delimiter '/' (descend) (1 request)"
            ),
            "{text}"
        );
        plan.set_kept(1, 3000);
        let text = plan.to_string();
        assert!(
            text.contains("files: 1 of 2 matched (1 pruned by partition filters), 2.9 KiB in them"),
            "{text}"
        );
    }
}
