//! Edge cases of group ids, from a non-author review. Each
//! test compares a session with the rule against one without, or checks
//! a property the wrapped `AggregateExec` had.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray, UInt8Array, UInt16Array,
    UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::GroupIdAggregates;
use super::tests::session_with;

fn register(ctx: &SessionContext, name: &str, schema: SchemaRef, parts: Vec<Vec<RecordBatch>>) {
    let table = MemTable::try_new(schema, parts).unwrap();
    ctx.register_table(name, Arc::new(table)).unwrap();
}

async fn rows_and_plan(ctx: &SessionContext, sql: &str) -> (Result<Vec<String>, String>, String) {
    let frame = match ctx.sql(sql).await {
        Ok(f) => f,
        Err(e) => return (Err(e.to_string()), String::new()),
    };
    let plan = match frame.clone().create_physical_plan().await {
        Ok(p) => datafusion::physical_plan::displayable(p.as_ref())
            .indent(true)
            .to_string(),
        Err(e) => return (Err(e.to_string()), String::new()),
    };
    match frame.collect().await {
        Ok(batches) => {
            let text = pretty_format_batches(&batches).unwrap().to_string();
            let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();
            rows.sort();
            (Ok(rows), plan)
        }
        Err(e) => (Err(e.to_string()), plan),
    }
}

/// Runs each query in a session with and one without the rule over the
/// same tables; asserts the rule is used and the answers agree.
async fn compare(
    tables: &[(&str, SchemaRef, Vec<Vec<RecordBatch>>)],
    partitions: usize,
    probe_rows: usize,
    queries: &[&str],
) {
    let plain = session_with(false, partitions, probe_rows);
    let rule = session_with(true, partitions, probe_rows);
    for (name, schema, parts) in tables {
        register(&plain, name, Arc::clone(schema), parts.clone());
        register(&rule, name, Arc::clone(schema), parts.clone());
    }
    let mut failures = Vec::new();
    for sql in queries {
        let (expected, _) = rows_and_plan(&plain, sql).await;
        let (got, plan) = rows_and_plan(&rule, sql).await;
        if !plan.contains("GroupIdAggregateExec") {
            failures.push(format!("{sql}: rule not used\n{plan}"));
            continue;
        }
        let same = match (&expected, &got) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            failures.push(format!("{sql}\nexpected {expected:#?}\ngot {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n-----\n"));
}

fn strings_table() -> (SchemaRef, Vec<Vec<RecordBatch>>) {
    let values: Vec<Option<&str>> = vec![
        None,
        Some(""),
        Some("twelve bytes"),  // 12
        Some("thirteen byte"), // 13
        Some("thirteen bytf"), // 13, same prefix
        Some("twelve byte\0"), // 12 with NUL
        Some("twelve byte"),   // 11
        Some("\0"),
        Some("a longer string that is certainly not inline"),
        Some("a longer string that is certainly not inlinf"),
        Some("\u{1F600}\u{1F600}\u{1F600}"), // 12 bytes of emoji
        Some("\u{1F600}\u{1F600}\u{1F600}x"),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("v", DataType::Utf8View, true),
        Field::new("u", DataType::Utf8, true),
        Field::new("l", DataType::LargeUtf8, true),
        Field::new("n", DataType::Int64, false),
    ]));
    // Several batches built separately (different buffers), rotated so
    // that the same long string sits at different offsets.
    let mut parts = Vec::new();
    for p in 0..3 {
        let mut batches = Vec::new();
        for b in 0..5usize {
            let rows: Vec<Option<&str>> = (0..40)
                .map(|i| values[(i * 7 + b * 3 + p) % values.len()])
                .collect();
            let n: Vec<i64> = (0..40).map(|i| (i + b) as i64).collect();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema) as SchemaRef,
                vec![
                    Arc::new(StringViewArray::from(rows.clone())) as ArrayRef,
                    Arc::new(StringArray::from(rows.clone())),
                    Arc::new(LargeStringArray::from(rows.clone())),
                    Arc::new(Int64Array::from(n)),
                ],
            )
            .unwrap();
            batches.push(batch.slice(b % 3, 40 - b % 3));
            batches.push(batch.slice(0, 0));
        }
        parts.push(batches);
    }
    (schema, parts)
}

#[tokio::test]
async fn probe_edge_strings_agree() {
    let (schema, parts) = strings_table();
    compare(
        &[("t", schema, parts)],
        4,
        100_000,
        &[
            "SELECT v, count(*), sum(n) FROM t GROUP BY v",
            "SELECT u, count(*), sum(n) FROM t GROUP BY u",
            "SELECT l, count(*), sum(n) FROM t GROUP BY l",
            "SELECT v, u, l, count(*) FROM t GROUP BY v, u, l",
            "SELECT v, n % 3 AS k, count(*) FROM t GROUP BY v, n % 3",
            "SELECT length(v), octet_length(u), count(*) FROM t GROUP BY length(v), octet_length(u)",
            "SELECT substr(v, 2), count(*) FROM t GROUP BY substr(v, 2)",
            "SELECT v || 'x' AS w, count(*) FROM t GROUP BY v || 'x'",
            "SELECT min(v), max(u), count(*), l FROM t GROUP BY l",
        ],
    )
    .await;
}

fn ints_table(rows_per_batch: usize) -> (SchemaRef, Vec<Vec<RecordBatch>>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("i8", DataType::Int8, true),
        Field::new("i16", DataType::Int16, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("u8", DataType::UInt8, true),
        Field::new("u16", DataType::UInt16, true),
        Field::new("u32", DataType::UInt32, true),
        Field::new("d", DataType::Date32, true),
        Field::new("f", DataType::Float64, false),
    ]));
    let mut parts = Vec::new();
    for p in 0..2 {
        let mut batches = Vec::new();
        for b in 0..3 {
            let r = |i: usize| (i * 31 + b * 7 + p) % 9;
            let n = rows_per_batch;
            let pick = |i: usize, v: [i64; 9]| -> Option<i64> {
                let k = r(i);
                (k != 8).then_some(v[k])
            };
            let i8s: Vec<Option<i8>> = (0..n)
                .map(|i| pick(i, [-128, 127, 0, -1, 1, 0, -128, 5, 0]).map(|v| v as i8))
                .collect();
            let i16s: Vec<Option<i16>> = (0..n)
                .map(|i| pick(i, [-32768, 32767, 0, -1, 1, 2, 3, 4, 0]).map(|v| v as i16))
                .collect();
            let i32s: Vec<Option<i32>> = (0..n)
                .map(|i| {
                    pick(i, [i32::MIN as i64, i32::MAX as i64, 0, -1, 1, 2, 3, 4, 0])
                        .map(|v| v as i32)
                })
                .collect();
            let i64s: Vec<Option<i64>> = (0..n)
                .map(|i| pick(i, [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, 3, 4, 0]))
                .collect();
            let u8s: Vec<Option<u8>> = (0..n)
                .map(|i| pick(i, [255, 0, 1, 128, 127, 2, 3, 4, 0]).map(|v| v as u8))
                .collect();
            let u16s: Vec<Option<u16>> = (0..n)
                .map(|i| pick(i, [65535, 0, 1, 32768, 2, 3, 4, 5, 0]).map(|v| v as u16))
                .collect();
            let u32s: Vec<Option<u32>> = (0..n)
                .map(|i| pick(i, [u32::MAX as i64, 0, 1, 1 << 31, 2, 3, 4, 5, 0]).map(|v| v as u32))
                .collect();
            let ds: Vec<Option<i32>> = (0..n)
                .map(|i| {
                    pick(i, [-719_162, -1, 0, 2_932_896, 19_000, -100_000, 3, 4, 0])
                        .map(|v| v as i32)
                })
                .collect();
            let fs: Vec<f64> = (0..n).map(|i| (i % 17) as f64).collect();
            batches.push(
                RecordBatch::try_new(
                    Arc::clone(&schema) as SchemaRef,
                    vec![
                        Arc::new(Int8Array::from(i8s)) as ArrayRef,
                        Arc::new(Int16Array::from(i16s)),
                        Arc::new(Int32Array::from(i32s)),
                        Arc::new(Int64Array::from(i64s)),
                        Arc::new(UInt8Array::from(u8s)),
                        Arc::new(UInt16Array::from(u16s)),
                        Arc::new(UInt32Array::from(u32s)),
                        Arc::new(Date32Array::from(ds)),
                        Arc::new(Float64Array::from(fs)),
                    ],
                )
                .unwrap(),
            );
        }
        parts.push(batches);
    }
    (schema, parts)
}

#[tokio::test]
async fn probe_integer_limits_agree() {
    let (schema, parts) = ints_table(100);
    compare(
        &[("t", schema, parts)],
        4,
        100_000,
        &[
            "SELECT i8, count(*), sum(f) FROM t GROUP BY i8",
            "SELECT i16, count(*) FROM t GROUP BY i16",
            "SELECT i32, count(*) FROM t GROUP BY i32",
            "SELECT i64, count(*) FROM t GROUP BY i64",
            "SELECT u8, count(*) FROM t GROUP BY u8",
            "SELECT u16, count(*) FROM t GROUP BY u16",
            "SELECT u32, count(*) FROM t GROUP BY u32",
            "SELECT d, count(*) FROM t GROUP BY d",
            "SELECT i8, i16, i32, i64, u8, u16, u32, d, count(*), sum(f) FROM t GROUP BY i8, i16, i32, i64, u8, u16, u32, d",
            "SELECT -i32 AS n, count(*) FROM t GROUP BY -i32",
            "SELECT i64 - 1 AS n, count(*) FROM t GROUP BY i64 - 1",
        ],
    )
    .await;
}

/// Many grouping columns (12), and a batch with more new groups than
/// MAX_GROUPS.
#[tokio::test]
async fn probe_many_columns_and_a_huge_batch_agree() {
    let n = 200_000usize;
    let schema = Arc::new(Schema::new(
        (0..12)
            .map(|c| Field::new(format!("c{c}"), DataType::Int32, true))
            .chain([Field::new("s", DataType::Utf8View, true)])
            .collect::<Vec<_>>(),
    ));
    let mut columns: Vec<ArrayRef> = (0..12)
        .map(|c| {
            Arc::new(Int32Array::from(
                (0..n)
                    .map(|i| {
                        let v = ((i as u64).wrapping_mul(2_654_435_761) >> (c * 2)) % 7;
                        (v != 6).then_some(v as i32)
                    })
                    .collect::<Vec<_>>(),
            )) as ArrayRef
        })
        .collect();
    let strings: Vec<String> = (0..n)
        .map(|i| format!("key number {} with padding", i % 90_000))
        .collect();
    columns.push(Arc::new(StringViewArray::from(
        strings.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>(),
    )));
    let batch = RecordBatch::try_new(Arc::clone(&schema) as SchemaRef, columns).unwrap();
    let parts = vec![vec![batch.clone()], vec![batch]];
    compare(
        &[("t", schema, parts)],
        2,
        usize::MAX,
        &[
            "SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, count(*) FROM t GROUP BY c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11",
            "SELECT count(*), sum(n) FROM (SELECT s, count(*) AS n FROM t GROUP BY s)",
            "SELECT count(*), sum(n) FROM (SELECT s, c0, count(*) AS n FROM t GROUP BY s, c0)",
        ],
    )
    .await;
}

/// Aggregates with groups accumulators, through the skip path (probe
/// after 1,000 rows, every row its own group).
#[tokio::test]
async fn probe_skip_path_aggregates_agree() {
    let n = 20_000usize;
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let batches: Vec<RecordBatch> = (0..n)
        .step_by(1000)
        .map(|start| {
            RecordBatch::try_new(
                Arc::clone(&schema) as SchemaRef,
                vec![
                    Arc::new(Int64Array::from(
                        (start..start + 1000)
                            .map(|i| (i % 15_000) as i64)
                            .collect::<Vec<_>>(),
                    )) as ArrayRef,
                    Arc::new(Float64Array::from(
                        (start..start + 1000)
                            .map(|i| (i % 5 != 0).then_some((i % 97) as f64))
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(Int64Array::from(
                        (start..start + 1000)
                            .map(|i| (i % 3 != 0).then_some((i % 13) as i64))
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(StringArray::from(
                        (start..start + 1000)
                            .map(|i| (i % 4 != 0).then(|| format!("s{}", i % 11)))
                            .collect::<Vec<_>>(),
                    )),
                ],
            )
            .unwrap()
        })
        .collect();
    let parts = vec![batches[..10].to_vec(), batches[10..].to_vec()];
    compare(
        &[("t", schema, parts)],
        2,
        1000,
        &[
            "SELECT k, count(*), count(x), sum(x), avg(x), min(x), max(s), min(s) FROM t GROUP BY k",
            "SELECT k, stddev(x), var_pop(x), corr(x, CAST(y AS DOUBLE)) FROM t GROUP BY k",
            "SELECT k, median(x), bit_or(y), bit_xor(y), bool_and(y > 3), bool_or(y > 3) FROM t GROUP BY k",
            "SELECT k, approx_distinct(y) FROM t GROUP BY k",
            "SELECT k, array_sort(array_agg(y)) FROM t GROUP BY k",
        ],
    )
    .await;
}

/// Queries of other shapes over the tests' table kind: joins, unions,
/// windows, subqueries, limits, orders.
#[tokio::test]
async fn probe_plan_shapes_agree() {
    let (schema, parts) = strings_table();
    let (ischema, iparts) = ints_table(100);
    compare(
        &[("t", schema, parts), ("i", ischema, iparts)],
        4,
        100_000,
        &[
            "SELECT v, count(*) AS c FROM t GROUP BY v ORDER BY c DESC, v LIMIT 3",
            "SELECT a.v, a.c, b.c FROM (SELECT v, count(*) c FROM t GROUP BY v) a JOIN (SELECT u, count(*) c FROM t GROUP BY u) b ON a.v = b.u",
            "SELECT v, count(*) FROM t GROUP BY v UNION ALL SELECT u, count(*) FROM t GROUP BY u",
            "SELECT v, c, rank() OVER (ORDER BY c, v) FROM (SELECT v, count(*) c FROM t GROUP BY v)",
            "SELECT v, sum(count(*)) OVER () FROM t GROUP BY v",
            "SELECT v FROM t WHERE n IN (SELECT i32 FROM i GROUP BY i32) GROUP BY v",
            "SELECT i8, count(*) FROM i WHERE i8 IN (SELECT CAST(n AS TINYINT) FROM t GROUP BY n) GROUP BY i8",
            "SELECT v, count(*) FROM t GROUP BY v HAVING count(*) > 10",
            "SELECT x.v, count(*) FROM t x JOIN t y ON x.v = y.v GROUP BY x.v",
        ],
    )
    .await;
}

/// A key expression that fails fails the query (not silently).
#[tokio::test]
async fn probe_failing_key_expression_fails_both() {
    let (schema, parts) = ints_table(100);
    let rule = session_with(true, 4, 100_000);
    register(&rule, "t", schema, parts);
    let sql = "SELECT CAST(i64 AS INT) AS k, count(*) FROM t GROUP BY CAST(i64 AS INT)";
    let (got, plan) = rows_and_plan(&rule, sql).await;
    assert!(plan.contains("GroupIdAggregateExec"), "{plan}");
    assert!(got.is_err(), "{got:?}");
}

/// EXPLAIN FORMAT TREE: the node's body lines are `key=value`; the
/// "GroupId" prefix glues onto the first key.
#[tokio::test]
async fn probe_tree_explain_keeps_key_value_lines() {
    let (schema, parts) = strings_table();
    let rule = session_with(true, 4, 100_000);
    register(&rule, "t", schema, parts);
    let batches = rule
        .sql("EXPLAIN FORMAT TREE SELECT v, count(*) FROM t GROUP BY v")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    assert!(!text.contains("GroupIdmode"), "{text}");
}

/// The wrapped AggregateExec's statistics (bounded by input rows, exact
/// row count for a known input) are lost: a node above sees none.
#[tokio::test]
async fn probe_statistics_are_the_aggregates() {
    let (schema, parts) = strings_table();
    let sql = "SELECT v, count(*) FROM t GROUP BY v";
    let mut stats = Vec::new();
    for with_rule in [false, true] {
        let ctx = session_with(with_rule, 4, 100_000);
        register(&ctx, "t", Arc::clone(&schema) as SchemaRef, parts.clone());
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        // Find the partial phase.
        fn partial(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
            let shown = datafusion::physical_plan::displayable(plan.as_ref())
                .one_line()
                .to_string();
            if shown.contains("mode=Partial") {
                return Some(Arc::clone(plan));
            }
            plan.children().into_iter().find_map(partial)
        }
        let node = partial(&plan).unwrap();
        // The statistics an optimizer pass above would read.
        #[allow(deprecated)]
        let rows = node.partition_statistics(None).unwrap().num_rows;
        stats.push(format!("{rows:?}"));
    }
    assert_eq!(stats[0], stats[1]);
}

/// DataFusion's probe decides on the groups a partition holds; group ids
/// count groups made again after each emission of MAX_GROUPS, so a
/// partition of 190,000 keys (each met ~2 times per 400k rows) that
/// DataFusion aggregates is given up on (and one of 100,000 keys emits
/// several times the rows DataFusion's does).
#[tokio::test]
async fn probe_mid_cardinality_reduces_as_datafusion_does() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, false),
        Field::new("b", DataType::Int64, false),
    ]));
    let rows = 400_000usize;
    let parts: Vec<Vec<RecordBatch>> = (0..2)
        .map(|_| {
            (0..rows)
                .step_by(8192)
                .map(|start| {
                    let len = 8192.min(rows - start);
                    let (a, b): (Vec<i64>, Vec<i64>) = (0..len)
                        .map(|_| {
                            let x = next();
                            ((x % 190_000) as i64, ((x >> 32) % 100_000) as i64)
                        })
                        .unzip();
                    RecordBatch::try_new(
                        Arc::clone(&schema) as SchemaRef,
                        vec![
                            Arc::new(Int64Array::from(a)) as ArrayRef,
                            Arc::new(Int64Array::from(b)),
                        ],
                    )
                    .unwrap()
                })
                .collect()
        })
        .collect();
    let mut report = Vec::new();
    for key in ["a", "b"] {
        let sql = format!("EXPLAIN ANALYZE SELECT {key}, count(*) FROM t GROUP BY {key}");
        let mut partial_rows = Vec::new();
        for with_rule in [false, true] {
            let ctx = session_with(with_rule, 2, 100_000);
            register(&ctx, "t", Arc::clone(&schema) as SchemaRef, parts.clone());
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            let text = pretty_format_batches(&batches).unwrap().to_string();
            let line = text
                .lines()
                .find(|l| l.contains("mode=Partial"))
                .unwrap()
                .to_owned();
            let out = line
                .split("output_rows=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_owned();
            let skipped = line
                .split("skipped_aggregation_rows=")
                .nth(1)
                .map(|s| s.split([',', ']']).next().unwrap().to_owned());
            partial_rows.push((out, skipped));
        }
        report.push(format!(
            "GROUP BY {key}: plain {:?} / group ids {:?}",
            partial_rows[0], partial_rows[1]
        ));
        if partial_rows[0] != partial_rows[1] {
            report.push("DIFFERENT".into());
        }
    }
    assert!(!report.iter().any(|r| r == "DIFFERENT"), "{report:#?}");
}

/// A memory pool of 2 MB: DataFusion's partial phase reserves its group
/// table; the group-ids one reserves nothing, so a partial phase that
/// holds many bytes (median keeps every value) is not stopped by the
/// pool.
#[tokio::test]
async fn probe_partial_phase_memory_is_accounted() {
    let n = 400_000usize;
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let batches: Vec<RecordBatch> = (0..n)
        .step_by(8192)
        .map(|start| {
            let len = 8192.min(n - start);
            RecordBatch::try_new(
                Arc::clone(&schema) as SchemaRef,
                vec![
                    Arc::new(Int64Array::from(
                        (start..start + len)
                            .map(|i| (i % 4) as i64)
                            .collect::<Vec<_>>(),
                    )) as ArrayRef,
                    Arc::new(Float64Array::from(
                        (start..start + len).map(|i| i as f64).collect::<Vec<_>>(),
                    )),
                ],
            )
            .unwrap()
        })
        .collect();
    let parts = vec![batches.clone(), batches];
    let mut outcome = Vec::new();
    for with_rule in [false, true] {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(2 << 20, 1.0)
            .build_arc()
            .unwrap();
        let mut config = SessionConfig::new().with_target_partitions(2);
        config
            .options_mut()
            .execution
            .skip_partial_aggregation_probe_rows_threshold = usize::MAX;
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features();
        if with_rule {
            state = state.with_physical_optimizer_rule(Arc::new(GroupIdAggregates));
        }
        let ctx = SessionContext::new_with_state(state.build());
        register(&ctx, "t", Arc::clone(&schema) as SchemaRef, parts.clone());
        let result = ctx
            .sql("EXPLAIN ANALYZE SELECT k, median(x) FROM t GROUP BY k")
            .await
            .unwrap()
            .collect()
            .await;
        outcome.push(match result {
            Ok(b) => {
                let text = pretty_format_batches(&b).unwrap().to_string();
                let line = text
                    .lines()
                    .find(|l| l.contains("mode=Partial"))
                    .unwrap()
                    .to_owned();
                format!("ok: {}", &line[..line.len().min(400)])
            }
            Err(e) => format!("error: {e}"),
        });
    }
    eprintln!("MEMORY OUTCOME {outcome:#?}");
    assert_eq!(
        outcome[0].starts_with("error"),
        outcome[1].starts_with("error"),
        "{outcome:#?}"
    );
}

/// Exclusions the rule's tests do not pin (each would be a wrong answer
/// or a lost optimisation if its check were dropped): sorted input
/// (final phase in Sorted mode), first_value ORDER BY (a groups
/// accumulator with order_bys), LIMIT pushed into the aggregation.
#[tokio::test]
async fn probe_exclusions_keep_datafusions_node_and_answer() {
    use datafusion::logical_expr::{SortExpr, col};
    let (schema, parts) = ints_table(100);
    // Sorted partitions on i32 (declared sort order).
    let sorted_parts: Vec<Vec<RecordBatch>> = parts
        .iter()
        .map(|batches| {
            let all = datafusion::arrow::compute::concat_batches(&schema, batches).unwrap();
            let idx =
                datafusion::arrow::compute::sort_to_indices(all.column(2), None, None).unwrap();
            let cols = all
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::take(c, &idx, None).unwrap())
                .collect();
            vec![RecordBatch::try_new(Arc::clone(&schema) as SchemaRef, cols).unwrap()]
        })
        .collect();
    let mut failures = Vec::new();
    for with_rule in [false, true] {
        let ctx = session_with(with_rule, 4, 100_000);
        let table = MemTable::try_new(Arc::clone(&schema) as SchemaRef, sorted_parts.clone())
            .unwrap()
            .with_sort_order(vec![vec![SortExpr::new(col("i32"), true, false)]]);
        ctx.register_table("s", Arc::new(table)).unwrap();
        register(&ctx, "t", Arc::clone(&schema) as SchemaRef, parts.clone());
        for sql in [
            "SELECT i32, count(*) FROM s GROUP BY i32",
            "SELECT i32, first_value(f ORDER BY f DESC) FROM t GROUP BY i32",
            "SELECT i32, max(f) m FROM t GROUP BY i32 ORDER BY m DESC LIMIT 2",
            "SELECT DISTINCT i16 FROM t LIMIT 3",
        ] {
            let (rows, plan) = rows_and_plan(&ctx, sql).await;
            if with_rule && plan.contains("GroupId") {
                failures.push(format!("{sql}: rule used\n{plan}"));
            }
            if rows.is_err() {
                failures.push(format!("{sql}: {rows:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
