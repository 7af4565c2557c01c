//! CSV lines and records as DuckDB 1.5.5 reads them where the planner's
//! own reader (several files matched by header, `skip`, one-column files)
//! finds them: lone-CR line ends, a quoted line break or a comment line
//! before the header, empty lines of a one-column file; and the errors of
//! such reads naming the right file and line.

use crate::support::{Bucket, duckdb, duckdb_rows, error_of, query, table_rows};

/// Each statement's rows from s3sql and from DuckDB, for one assertion.
pub(crate) async fn compare(bucket: &Bucket, sqls: &[String]) {
    let theirs = duckdb(Some(bucket), sqls);
    let session = bucket.session().await;
    let mut differ = Vec::new();
    for (sql, rows) in sqls.iter().zip(&theirs) {
        let ours = table_rows(&query(&session, sql).await);
        let theirs = duckdb_rows(rows);
        if ours != theirs {
            differ.push(format!("{sql}\n  s3sql:  {ours:?}\n  DuckDB: {theirs:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// Files whose lines end in a lone CR (classic Mac exports) read as
/// DuckDB reads them, two at a time and with `skip` (review-8e #27: a glob
/// of them gave no rows, the whole file taken for the header).
#[tokio::test]
async fn lone_cr_files_read_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("crs/cr1.csv", "a,b\r1,\"x\ry\"\r2,z\r").await;
    bucket.put("crs/cr2.csv", "a,b\r3,w\r4,v\r").await;
    let (glob, cr2) = (bucket.url("crs/*.csv"), bucket.url("crs/cr2.csv"));
    let sqls = [
        format!("SELECT count(*), sum(a) FROM '{glob}'"),
        format!("SELECT a, length(b), ascii(b) FROM '{glob}' ORDER BY a"),
        format!("SELECT * FROM read_csv('{glob}', union_by_name = true) ORDER BY a"),
        format!("SELECT * FROM read_csv('{cr2}', union_by_name = true) ORDER BY a"),
        format!("SELECT * FROM read_csv('{cr2}', skip = 1, header = false) ORDER BY 1"),
    ];
    compare(&bucket, &sqls).await;
}

/// A header whose cell holds a quoted line break (Excel's wrapped header)
/// and a comment line before the header, in a read of several files
/// (review-8e #19: "expected 2 columns, found 1").
#[tokio::test]
async fn a_wrapped_or_commented_header_reads_across_files_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("mh/g1.csv", "a,\"b\nx\"\n7,8\n").await;
    bucket.put("mh/g2.csv", "a,\"b\nx\"\n9,10\n").await;
    bucket
        .put("cmt/c1.csv", "# exported 2024\na,b\n1,2\n")
        .await;
    bucket
        .put("cmt/c2.csv", "# exported 2024\na,b\n3,4\n")
        .await;
    let (wrapped, commented) = (bucket.url("mh/g*.csv"), bucket.url("cmt/*.csv"));
    let sqls = [
        format!("SELECT * FROM '{wrapped}' ORDER BY a"),
        format!("SELECT * FROM read_csv('{wrapped}', union_by_name = true) ORDER BY a"),
        format!("SELECT \"b\nx\" - a FROM '{wrapped}' ORDER BY 1"),
        format!("SELECT * FROM read_csv('{commented}', comment = '#') ORDER BY a"),
    ];
    compare(&bucket, &sqls).await;
}

/// An empty line in a one-column CSV is a NULL row, as in DuckDB: inside
/// the file, at its end, after CRLF, in a list of files; two-column files
/// skip it (review-8e #7: the row was dropped, count(*) 3 where DuckDB
/// counts 4). Not with `nullstr`: DuckDB then skips it.
#[tokio::test]
async fn an_empty_line_of_a_one_column_file_is_a_null_row_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("blank/inside.csv", "c\n1\n2\n\n3\n").await;
    bucket.put("blank/end.csv", "c\n1\n2\n3\n\n").await;
    bucket.put("blank/crlf.csv", "c\r\n1\r\n\r\n2\r\n").await;
    bucket.put("blank/two.csv", "c,d\n1,2\n\n3,4\n").await;
    let mut sqls = Vec::new();
    for name in ["inside", "end", "crlf", "two"] {
        let url = bucket.url(&format!("blank/{name}.csv"));
        sqls.push(format!("SELECT count(*), count(c), sum(c) FROM '{url}'"));
    }
    let (inside, end) = (bucket.url("blank/inside.csv"), bucket.url("blank/end.csv"));
    sqls.push(format!(
        "SELECT count(*), count(c) FROM read_csv(['{inside}', '{end}'])"
    ));
    sqls.push(format!(
        "SELECT count(*), count(c) FROM read_csv('{inside}', nullstr = 'NA')"
    ));
    compare(&bucket, &sqls).await;
}

/// A bad value in the second file of a list names its line in that file,
/// as a read of the file alone does (review-8e #3: one line too low).
#[tokio::test]
async fn a_bad_value_in_a_later_file_names_its_own_line() {
    let bucket = Bucket::new().await;
    bucket.put("bad/f1.csv", "a,b\n1,2\n3,4\n").await;
    bucket.put("bad/f2.csv", "a,b\n5,6\n7,zz\n").await;
    let (f1, f2) = (bucket.url("bad/f1.csv"), bucket.url("bad/f2.csv"));
    let session = bucket.session().await;
    for list in [
        format!("['{f1}', '{f2}']"),
        format!("['{f2}']"),
        format!("['{f1}', '{f2}'], union_by_name = true"),
    ] {
        let sql = format!("SELECT * FROM read_csv({list}, types = {{'b': 'BIGINT'}})");
        let error = error_of(&session, &sql).await;
        assert!(
            error.contains(&format!("file {f2}, line 3, column 2")),
            "{sql}: {error}"
        );
    }
}

/// A later file lacking a column of the first file's header: the error
/// names both files (review-8e #4: "this file's header").
#[tokio::test]
async fn a_schema_mismatch_names_both_files() {
    let bucket = Bucket::new().await;
    bucket.put("mis/s1.csv", "a,b\n1,x\n").await;
    bucket.put("mis/s2.csv", "b,c\ny,2\n").await;
    let session = bucket.session().await;
    let error = error_of(
        &session,
        &format!("SELECT * FROM '{}'", bucket.url("mis/s*.csv")),
    )
    .await;
    let (s1, s2) = (bucket.url("mis/s1.csv"), bucket.url("mis/s2.csv"));
    assert!(
        error.contains(&format!(
            "the header of {s2} lacks column \"a\" of the first file's, {s1}"
        )),
        "{error}"
    );
}

/// A cut `.gz` or `.zst` in a list of files: the error names it
/// (review-8e #15: "IO error: unexpected end of file", no file named).
#[tokio::test]
async fn a_cut_gzip_file_is_named_in_the_error() {
    use std::io::Write;
    let bucket = Bucket::new().await;
    let mut text = String::from("a,b\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", i * 7));
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    let whole = encoder.finish().unwrap();
    let cut = whole[..whole.len() / 2].to_vec();
    bucket.put("gz/good.csv.gz", whole).await;
    bucket.put("gz/cut.csv.gz", cut).await;
    let zstd = zstd::encode_all(text.as_bytes(), 3).unwrap();
    bucket
        .put("gz/cut.csv.zst", zstd[..zstd.len() / 2].to_vec())
        .await;
    let (good, cut) = (bucket.url("gz/good.csv.gz"), bucket.url("gz/cut.csv.gz"));
    let session = bucket.session().await;
    let zst = bucket.url("gz/cut.csv.zst");
    // Its sample, sniffed for the types (files_to_sniff), is cut too.
    let sql = format!("SELECT count(*) FROM read_csv(['{good}', '{zst}'])");
    let error = error_of(&session, &sql).await;
    assert!(
        error.contains(&format!("schema of {zst}")) && error.contains("the data ends early"),
        "{error}"
    );
    for list in [format!("['{good}', '{cut}']"), format!("['{cut}']")] {
        let sql = format!("SELECT count(*) FROM read_csv({list})");
        let error = error_of(&session, &sql).await;
        assert!(
            error.contains(&format!("file {cut}: the data ends early")),
            "{sql}: {error}"
        );
    }
}
