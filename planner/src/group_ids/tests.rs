//! Group ids against DataFusion's own group table: the same queries over
//! the same rows, one session with the rule and one without, give the
//! same groups and aggregates.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::GroupIdAggregates;
use super::column_ids::ColumnIds;

const ROWS: usize = 320_000;

/// A deterministic table of 4 partitions: short and long text (view and
/// plain), integers of few and of many values, dates, exact doubles, and
/// NULLs in every key column.
fn table() -> MemTable {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let short = ["Lisbon", "Porto", "", "Oslo", "a\u{e9}b", "twelve bytes"];
    let long = [
        "a string longer than twelve",
        "a string longer than twelve bytes",
        "another string longer than twelve",
        "thirteen byte",
    ];
    let mut s: Vec<Option<&str>> = Vec::new();
    let mut l: Vec<Option<&str>> = Vec::new();
    let mut p: Vec<Option<&str>> = Vec::new();
    let mut i: Vec<Option<i32>> = Vec::new();
    let mut u: Vec<i64> = Vec::new();
    let mut d: Vec<Option<i32>> = Vec::new();
    let mut f: Vec<f64> = Vec::new();
    for row in 0..ROWS {
        let x = next();
        let null = x % 17 == 0;
        s.push((!null).then_some(short[(x >> 8) as usize % short.len()]));
        l.push((x % 13 != 0).then_some(long[(x >> 16) as usize % long.len()]));
        p.push((x % 11 != 0).then_some(short[(x >> 24) as usize % short.len()]));
        i.push((x % 7 != 0).then_some((x >> 32) as i32 % 5 - 2));
        u.push((row as i64 * 7919) % 150_001);
        d.push((x % 5 != 0).then_some(19_000 + (x >> 40) as i32 % 3));
        f.push(((x >> 20) % 1000) as f64 / 4.0);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("s", DataType::Utf8View, true),
        Field::new("l", DataType::Utf8View, true),
        Field::new("p", DataType::Utf8, true),
        Field::new("i", DataType::Int32, true),
        Field::new("u", DataType::Int64, false),
        Field::new("d", DataType::Date32, true),
        Field::new("f", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringViewArray::from(s)),
        Arc::new(StringViewArray::from(l)),
        Arc::new(StringArray::from(p)),
        Arc::new(Int32Array::from(i)),
        Arc::new(Int64Array::from(u)),
        Arc::new(Date32Array::from(d)),
        Arc::new(Float64Array::from(f)),
    ];
    let whole = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    let quarter = ROWS / 4;
    let partitions = (0..4)
        .map(|n| {
            (0..quarter)
                .step_by(8192)
                .map(|start| {
                    let len = 8192.min(quarter - start);
                    whole.slice(n * quarter + start, len)
                })
                .collect()
        })
        .collect();
    MemTable::try_new(schema, partitions).unwrap()
}

fn session(with_rule: bool) -> SessionContext {
    session_probing(with_rule, 100_000)
}

/// A session whose partial phases give up aggregating after `probe_rows`
/// rows if they do not reduce (DataFusion's skip-partial probe).
fn session_probing(with_rule: bool, probe_rows: usize) -> SessionContext {
    let ctx = session_with(with_rule, 4, probe_rows);
    ctx.register_table("t", Arc::new(table())).unwrap();
    ctx
}

/// A session of `partitions` target partitions and that probe, with or
/// without the rule, and no tables.
pub(super) fn session_with(
    with_rule: bool,
    partitions: usize,
    probe_rows: usize,
) -> SessionContext {
    let mut config = SessionConfig::new().with_target_partitions(partitions);
    config
        .options_mut()
        .execution
        .skip_partial_aggregation_probe_rows_threshold = probe_rows;
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    if with_rule {
        state = state.with_physical_optimizer_rule(Arc::new(GroupIdAggregates));
    }
    SessionContext::new_with_state(state.build())
}

/// The query's rows, sorted as text, and its physical plan's text.
async fn run(ctx: &SessionContext, sql: &str) -> (Vec<String>, String) {
    let frame = ctx.sql(sql).await.unwrap();
    let plan = frame.clone().create_physical_plan().await.unwrap();
    let shown = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    let batches = frame.collect().await.unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();
    rows.sort();
    (rows, shown)
}

const GROUPED: &[&str] = &[
    "SELECT s, i, count(*), sum(f), avg(f), min(l), max(p) FROM t GROUP BY s, i",
    "SELECT l, count(*), count(s) FROM t GROUP BY l",
    "SELECT p, s, count(*) FROM t GROUP BY p, s",
    "SELECT s, l, d, count(f), sum(i) FROM t GROUP BY s, l, d",
    "SELECT DISTINCT s, i FROM t",
    "SELECT u, count(*), sum(i), max(s) FROM t GROUP BY u",
    "SELECT u % 70000 AS k, s, count(*) FROM t GROUP BY u % 70000, s",
    "SELECT d, count(*) FROM t WHERE s = 'Porto' GROUP BY d",
    "SELECT s, count(DISTINCT i) FROM t GROUP BY s",
];

#[tokio::test]
async fn group_ids_answer_as_datafusions_group_table() {
    let (plain, with_rule) = (session(false), session(true));
    for sql in GROUPED {
        let (expected, _) = run(&plain, sql).await;
        let (got, plan) = run(&with_rule, sql).await;
        assert!(
            plan.contains("GroupIdAggregateExec: mode=Partial"),
            "{sql}\n{plan}"
        );
        assert!(expected.len() > 4, "{sql}: too few rows to compare");
        assert_eq!(got, expected, "{sql}");
    }
}

#[tokio::test]
async fn a_partial_phase_that_does_not_reduce_passes_rows_on_as_state() {
    let (plain, with_rule) = (session_probing(false, 1000), session_probing(true, 1000));
    let sql = "SELECT u, count(*), sum(i), max(s), avg(f) FROM t GROUP BY u";
    let (expected, _) = run(&plain, sql).await;
    let (got, _) = run(&with_rule, sql).await;
    assert_eq!(got, expected);
    let (analyzed, _) = run(&with_rule, &format!("EXPLAIN ANALYZE {sql}")).await;
    let partial = analyzed
        .iter()
        .find(|row| row.contains("GroupIdAggregateExec"))
        .expect("the partial phase is group ids'");
    let skipped = partial
        .split("skipped_aggregation_rows=")
        .nth(1)
        .and_then(|rest| rest.split([',', ']']).next())
        .expect("the metric is shown");
    assert!(skipped.ends_with(" K"), "some thousands skipped: {partial}");
    // A query that reduces never skips.
    let (analyzed, _) = run(
        &with_rule,
        "EXPLAIN ANALYZE SELECT s, count(*) FROM t GROUP BY s",
    )
    .await;
    let partial = analyzed
        .iter()
        .find(|row| row.contains("GroupIdAggregateExec"))
        .unwrap();
    assert!(partial.contains("skipped_aggregation_rows=0"), "{partial}");
}

#[tokio::test]
async fn other_aggregations_keep_datafusions_node() {
    let ctx = session(true);
    for sql in [
        "SELECT f, count(*) FROM t GROUP BY f",
        "SELECT s, count(DISTINCT i), count(*) FROM t GROUP BY s",
        "SELECT s, count(*) FILTER (WHERE i > 0) FROM t GROUP BY s",
        "SELECT s, array_agg(i ORDER BY i) FROM t GROUP BY s",
        "SELECT s, i, count(*) FROM t GROUP BY ROLLUP (s, i)",
        "SELECT count(*) FROM t",
    ] {
        let (_, plan) = run(&ctx, sql).await;
        assert!(!plan.contains("GroupId"), "{sql}\n{plan}");
    }
}

#[test]
fn a_short_strings_view_is_the_key_the_map_assumes() {
    let array = StringViewArray::from(vec!["", "Lisbon", "twelve bytes", "a\u{e9}b"]);
    for (view, text) in array.views().iter().zip(array.iter()) {
        assert!(ColumnIds::is_inline_view_of(
            *view,
            text.unwrap().as_bytes()
        ));
    }
}

#[test]
fn a_long_view_means_its_string_only_within_its_own_array() {
    // Two arrays built apart: each long string sits at offset 0 of
    // buffer 0 with the same length and first four bytes, so the two
    // views are equal though the strings are not.
    let first: ArrayRef = Arc::new(StringViewArray::from(vec!["a string longer than twelve X"]));
    let second: ArrayRef = Arc::new(StringViewArray::from(vec!["a string longer than twelve Y"]));
    assert_eq!(
        first.as_string_view().views(),
        second.as_string_view().views()
    );
    let mut ids = ColumnIds::new(DataType::Utf8View);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    ids.assign(&first, &mut a).unwrap();
    ids.assign(&second, &mut b).unwrap();
    assert_ne!(a, b);
    assert_eq!(ids.len(), 2);
}
