use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
use datafusion::sql::sqlparser::parser::Parser;

use super::{keywords::KEYWORDS, name_items};
use crate::dialect::DuckDb;

/// The name `name_items` gives the one item of `SELECT {item} FROM s1`.
fn named(item: &str) -> String {
    let sql = format!("SELECT {item} FROM s1");
    let mut statements = Parser::parse_sql(&DuckDb, &sql).unwrap();
    let Statement::Query(query) = &mut statements[0] else {
        panic!("{sql}: not a query")
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        panic!("{sql}: not a SELECT")
    };
    name_items(&mut select.projection);
    match &select.projection[0] {
        SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
        other => format!("(unaliased: {other})"),
    }
}

/// Each item and the column name DuckDB 1.5.5 gives it (`SELECT {item}
/// FROM s1` run in DuckDB 1.5.5, `description[0][0]`; s1 has columns a,
/// b, d, dt, "my col", l).
const AS_DUCKDB: &[(&str, &str)] = &[
    ("sum(a)", "sum(a)"),
    ("SUM(a)", "sum(a)"),
    ("sum(A)", "sum(A)"),
    ("SUM(\"a\")", "sum(a)"),
    ("sum(\"my col\")", "sum(\"my col\")"),
    ("sum(\"year\")", "sum(\"year\")"),
    ("count(DISTINCT b)", "count(DISTINCT b)"),
    ("count(*)", "count_star()"),
    ("count(*) + 1", "(count_star() + 1)"),
    ("count(a)", "count(a)"),
    ("min(a+1)", "min((a + 1))"),
    ("a+1", "(a + 1)"),
    ("a + 1 * 2", "(a + (1 * 2))"),
    ("(a+1)*2", "((a + 1) * 2)"),
    ("s1.a + 1", "(s1.a + 1)"),
    ("\"my col\" + 1", "(\"my col\" + 1)"),
    ("-a", "-(a)"),
    ("-1", "-1"),
    ("-1.5", "-1.5"),
    ("a - -1", "(a - -1)"),
    ("a*-1", "(a * -1)"),
    ("abs(-a)", "abs(-(a))"),
    ("NOT (a=1)", "(a != 1)"),
    ("NOT (a > 1)", "(a <= 1)"),
    ("NOT a", "(NOT a)"),
    ("a = 1", "(a = 1)"),
    ("a <> 1", "(a != 1)"),
    ("a != 1", "(a != 1)"),
    ("a % 2 = 0", "((a % 2) = 0)"),
    ("a = 1 OR a = 2", "((a = 1) OR (a = 2))"),
    (
        "a > 1 and a < 3 and a <> 2",
        "((a > 1) AND (a < 3) AND (a != 2))",
    ),
    ("a::DOUBLE", "CAST(a AS \"DOUBLE\")"),
    ("CAST(a AS DOUBLE)", "CAST(a AS \"DOUBLE\")"),
    ("a::VARCHAR", "CAST(a AS VARCHAR)"),
    ("a::TEXT", "CAST(a AS VARCHAR)"),
    ("a::INT4", "CAST(a AS INTEGER)"),
    ("a::REAL", "CAST(a AS FLOAT)"),
    ("a::TINYINT", "CAST(a AS \"TINYINT\")"),
    ("a::DECIMAL(10,2)", "CAST(a AS DECIMAL(10, 2))"),
    ("a::NUMERIC(5,1)", "CAST(a AS DECIMAL(5, 1))"),
    ("a::VARCHAR(10)", "CAST(a AS VARCHAR(10))"),
    ("a::JSON", "CAST(a AS \"JSON\")"),
    ("TRY_CAST(a AS INT)", "TRY_CAST(a AS INTEGER)"),
    ("sum(a)::BIGINT", "CAST(sum(a) AS BIGINT)"),
    ("a::BIGINT + 1", "(CAST(a AS BIGINT) + 1)"),
    ("DATE '2024-01-01'", "CAST('2024-01-01' AS \"DATE\")"),
    (
        "TIMESTAMP '2024-01-01 00:00:00'",
        "CAST('2024-01-01 00:00:00' AS TIMESTAMP)",
    ),
    (
        "now() - interval '1 day'",
        "(now() - CAST('1 day' AS INTERVAL))",
    ),
    ("COALESCE(b,'z')", "COALESCE(b, 'z')"),
    ("ifnull(a, 1)", "COALESCE(a, 1)"),
    ("nullif(a, 1)", "\"nullif\"(a, 1)"),
    ("upper(b)", "upper(b)"),
    ("lower(upper(b))", "lower(upper(b))"),
    ("b || 'q'", "(b || 'q')"),
    ("'x' || b || 'y'", "(('x' || b) || 'y')"),
    ("'lit'", "'lit'"),
    ("'it''s'", "'it''s'"),
    ("1", "1"),
    ("1.5", "1.5"),
    ("0.10", "0.10"),
    ("1e3", "1000.0"),
    ("NULL", "NULL"),
    ("true", "CAST('t' AS BOOLEAN)"),
    ("false", "CAST('f' AS BOOLEAN)"),
    ("a IS NULL", "(a IS NULL)"),
    ("a IS NOT NULL", "(a IS NOT NULL)"),
    ("a is distinct from 1", "(a IS DISTINCT FROM 1)"),
    ("a BETWEEN 1 AND 2", "(a BETWEEN 1 AND 2)"),
    ("a NOT BETWEEN 1 AND 2", "(NOT (a BETWEEN 1 AND 2))"),
    ("a IN (1,2)", "(a IN (1, 2))"),
    ("a NOT IN (1)", "(a NOT IN (1))"),
    ("b IN ('x','y')", "(b IN ('x', 'y'))"),
    ("b LIKE 'x%'", "(b ~~ 'x%')"),
    ("b NOT LIKE 'q'", "(b !~~ 'q')"),
    ("b ILIKE 'X'", "(b ~~* 'X')"),
    ("b SIMILAR TO 'x'", "regexp_full_match(b, 'x')"),
    ("b NOT SIMILAR TO 'x'", "(NOT regexp_full_match(b, 'x'))"),
    (
        "CASE WHEN a=1 THEN 'y' ELSE 'n' END",
        "CASE  WHEN ((a = 1)) THEN ('y') ELSE 'n' END",
    ),
    (
        "CASE a WHEN 1 THEN 'y' END",
        "CASE  WHEN ((a = 1)) THEN ('y') ELSE NULL END",
    ),
    ("avg(d)", "avg(d)"),
    ("round(d, 1)", "round(d, 1)"),
    ("median(a)", "median(a)"),
    ("quantile_cont(a, 0.5)", "quantile_cont(a, 0.5)"),
    ("sum(DISTINCT a)", "sum(DISTINCT a)"),
    ("date_trunc('month', dt)", "date_trunc('month', dt)"),
    ("strftime(dt, '%Y')", "strftime(dt, '%Y')"),
    (
        "string_agg(b, ',' ORDER BY b)",
        "string_agg(b, ',' ORDER BY b)",
    ),
    (
        "max(a) FILTER (WHERE a > 0)",
        "max(a) FILTER (WHERE (a > 0))",
    ),
    ("row_number() OVER ()", "row_number() OVER ()"),
    (
        "sum(a) OVER (PARTITION BY b)",
        "sum(a) OVER (PARTITION BY b)",
    ),
    ("now()", "now()"),
    ("(select 1)", "(SELECT 1)"),
    ("exists(select 1)", "EXISTS(SELECT 1)"),
    ("l[1]", "l[1]"),
];

#[test]
fn unaliased_items_are_named_as_duckdb_names_them() {
    let wrong: Vec<String> = AS_DUCKDB
        .iter()
        .filter_map(|(item, duckdb)| {
            let ours = named(item);
            (ours != *duckdb).then(|| format!("{item}: {ours} (DuckDB: {duckdb})"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn column_references_aliases_and_wildcards_keep_their_names() {
    let sql = "SELECT a, s1.b, d AS e, *, s1.* FROM s1";
    let mut statements = Parser::parse_sql(&DuckDb, sql).unwrap();
    let Statement::Query(query) = &mut statements[0] else {
        unreachable!()
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        unreachable!()
    };
    let before = select.projection.clone();
    name_items(&mut select.projection);
    assert_eq!(select.projection, before);
}

#[test]
fn keywords_are_sorted_for_the_binary_search() {
    assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(KEYWORDS.binary_search(&"year").is_ok());
    assert!(KEYWORDS.binary_search(&"id").is_err());
}
