//! Column types and dialects the CSV sniffer decides as DuckDB 1.5.5's
//! does, where a naive one would read no row: a date or timestamp column
//! whose sample holds an impossible value, a `#` comment line before the
//! header.

use crate::csv_lines::compare;
use crate::support::{Bucket, error_of};

/// An impossible date or time in the sample makes the column VARCHAR, as
/// in DuckDB, and every row reads (review-8e #6: typed DATE or TIMESTAMP,
/// then no row of the file could be read).
#[tokio::test]
async fn an_impossible_date_in_the_sample_keeps_the_column_text_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put("sn/baddate.csv", "a\n2024-13-01\n2024-01-01\n")
        .await;
    bucket
        .put("sn/bd3.csv", "a,b\n1,2024-02-29\n2,2023-02-29\n")
        .await;
    bucket
        .put(
            "sn/bts.csv",
            "a\n2024-01-01 25:00:00\n2024-01-01 10:00:00\n",
        )
        .await;
    bucket
        .put("sn/good.csv", "a,b\n1,2024-02-29\n2,2024-01-01\n")
        .await;
    let mut sqls = Vec::new();
    for name in ["baddate", "bd3", "bts", "good"] {
        let url = bucket.url(&format!("sn/{name}.csv"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

/// A `#` comment line before the header is sniffed, as DuckDB sniffs it
/// (review-8e #28: "Expected 1 records, found 2 records at line 2"); a
/// value starting with `#` in a data row stays a value.
#[tokio::test]
async fn a_comment_line_before_the_header_is_sniffed_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put("cm/c1.csv", "# exported 2024\na,b\n1,2\n3,4\n")
        .await;
    bucket.put("cm/tag.csv", "a,b\nx,1\n#y,2\nz,3\n").await;
    let mut sqls = Vec::new();
    for name in ["c1", "tag"] {
        let url = bucket.url(&format!("cm/{name}.csv"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

/// A glob's column types come from its first 10 files' samples (DuckDB's
/// `files_to_sniff`), widened as DuckDB widens them: a later file's `zz`
/// makes the column VARCHAR, its `2.5` DOUBLE; a first file holding only a
/// header, or an empty column, types nothing (review-8e #2: the first
/// file's types alone, then "cannot read 'zz' as Int64", or VARCHAR
/// columns and `sum(Utf8)`). `files_to_sniff = -1` sniffs every file.
#[tokio::test]
async fn a_glob_takes_its_types_from_its_first_files_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("bad/f1.csv", "a,b\n1,2\n3,4\n").await;
    bucket.put("bad/f2.csv", "a,b\n5,6\n7,zz\n").await;
    bucket.put("wd/w1.csv", "a,b\n1,2\n").await;
    bucket.put("wd/w2.csv", "a,b\n3,2.5\n").await;
    bucket.put("hd/h0.csv", "a,b\n").await;
    bucket.put("hd/h1.csv", "a,b\n1,x\n2,y\n").await;
    bucket.put("em/e1.csv", "a,b\n1,\n2,\n").await;
    bucket.put("em/e2.csv", "a,b\n3,4\n").await;
    for i in 1..=12 {
        let b = if i == 12 {
            "zz".to_string()
        } else {
            i.to_string()
        };
        let key = format!("many/m{i:02}.csv");
        bucket.put(&key, format!("a,b\n{i},{b}\n")).await;
    }
    let mut sqls = Vec::new();
    for glob in ["bad", "wd", "hd", "em"] {
        let url = bucket.url(&format!("{glob}/*.csv"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY a, b"));
    }
    let hd = bucket.url("hd/*.csv");
    sqls.push(format!("SELECT sum(a) FROM '{hd}'"));
    let many = bucket.url("many/*.csv");
    sqls.push(format!(
        "SELECT * FROM read_csv('{many}', files_to_sniff = -1) ORDER BY a"
    ));
    compare(&bucket, &sqls).await;
}

/// Each file of a CSV list or glob is read in its own dialect, sniffed
/// from its own sample as DuckDB 1.5.5 sniffs each: a `;`, a `|`, a `'`
/// quoted and a tab-separated export beside a `,` one, with and without
/// union_by_name (review-8e #1: every file read in the first file's
/// dialect, a `;` file's rows one column `a;b` or NULLs).
#[tokio::test]
async fn each_file_is_read_in_its_own_dialect_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("dl/s1.csv", "a,b\n1,x\n2,y\n").await;
    bucket.put("dl/semi.csv", "a;b\n1;\"q;r\"\n").await;
    bucket.put("dl/sq.csv", "a,b\n3,'x,y'\n4,'w'\n").await;
    bucket.put("dl/pipe.csv", "a|b\n5|p\n").await;
    bucket.put("dl/tab.tsv", "a\tb\n6\tt\n").await;
    let files = ["s1.csv", "semi.csv", "sq.csv", "pipe.csv", "tab.tsv"];
    let list = |names: &[&str]| {
        let urls: Vec<String> = names
            .iter()
            .map(|n| format!("'{}'", bucket.url(&format!("dl/{n}"))))
            .collect();
        format!("[{}]", urls.join(", "))
    };
    let (all, semi_first) = (list(&files), list(&["semi.csv", "s1.csv"]));
    let glob = bucket.url("dl/*.csv");
    let sqls = [
        format!("SELECT * FROM read_csv({all}) ORDER BY a, b"),
        format!("SELECT * FROM read_csv({all}, union_by_name = true) ORDER BY a, b"),
        format!("DESCRIBE SELECT * FROM read_csv({semi_first}, union_by_name = true)"),
        format!("SELECT * FROM read_csv({semi_first}, union_by_name = true) ORDER BY a, b"),
        format!("SELECT * FROM read_csv({semi_first}) ORDER BY a, b"),
        format!("SELECT * FROM '{glob}' ORDER BY a, b"),
    ];
    compare(&bucket, &sqls).await;
}

/// Types DuckDB 1.5.5's sniffer gives that arrow's inference does not: an
/// integer past BIGINT is DOUBLE (also beside decimals), `12:30:00` is
/// TIME, and so are `06:00` and `6:00` (review 9: VARCHAR); an impossible
/// time keeps the column VARCHAR (review-8e #8: both VARCHAR, so `sum(n)`
/// failed on "sum(Utf8)"), and a headerless file's first row of times is
/// a row (review 10: taken for the header).
#[tokio::test]
async fn big_integers_and_times_are_typed_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put("ty/big.csv", "n\n9223372036854775808\n5\n")
        .await;
    bucket
        .put("ty/bigmix.csv", "n\n9223372036854775808\n1.5\n-3\n")
        .await;
    bucket.put("ty/time.csv", "t\n12:30:00\n01:02:03\n").await;
    bucket
        .put("ty/tfrac.csv", "t\n12:30:00.25\n01:02:03\n")
        .await;
    bucket
        .put("ty/badtime.csv", "t\n12:30:00\n25:00:00\n")
        .await;
    bucket.put("ty/hm.csv", "t\n06:00\n6:30\n23:59\n").await;
    // No header: the first row is a time, not names (review 10 finding 3).
    bucket.put("ty/nohdr.csv", "06:00,1\n07:00,2\n").await;
    let url = |name: &str| bucket.url(&format!("ty/{name}.csv"));
    let mut sqls = Vec::new();
    for name in ["big", "bigmix", "time", "tfrac", "badtime", "hm", "nohdr"] {
        sqls.push(format!("DESCRIBE SELECT * FROM '{}'", url(name)));
    }
    // Values compared where both print them alike (9.2e18 and a fraction
    // of a second print otherwise).
    for name in ["big", "bigmix"] {
        let url = url(name);
        sqls.push(format!(
            "SELECT count(*), min(n), CAST(sum(n) > 9e18 AS INTEGER) FROM '{url}'"
        ));
    }
    for name in ["time", "badtime", "hm", "nohdr"] {
        sqls.push(format!("SELECT * FROM '{}' ORDER BY 1", url(name)));
    }
    let tfrac = url("tfrac");
    sqls.push(format!(
        "SELECT count(*) FROM '{tfrac}' WHERE t > '12:30:00.2'"
    ));
    compare(&bucket, &sqls).await;
}

/// A leap second (`10:00:60`) keeps a timestamp or time column VARCHAR,
/// as DuckDB 1.5.5's sniffers keep it, with the text as written, in CSV
/// (review-s22 F12: TIMESTAMP, and the value read as 10:01:00) and in
/// JSON (review-s24 F16: the same).
#[tokio::test]
async fn a_leap_second_keeps_the_column_text_as_duckdb() {
    let bucket = Bucket::new().await;
    let files = [
        ("t60.csv", "t\n2024-01-01 10:00:60\n"),
        ("t60b.csv", "t\n2024-01-01T10:00:60\n"),
        (
            "t60c.csv",
            "t\n2024-01-01 10:00:59.5\n2024-01-01 23:59:60\n",
        ),
        ("tt60.csv", "t\n10:00:60\n"),
        ("t59.csv", "t\n2024-01-01 10:00:59\n"),
        ("l1.jsonl", "{\"t\":\"2024-01-01 10:00:60\"}\n"),
        (
            "l2.jsonl",
            "{\"t\":\"2024-01-01T10:00:60Z\"}\n{\"t\":\"2024-01-01T10:00:00Z\"}\n",
        ),
        (
            "l3.jsonl",
            "{\"t\":\"2024-01-01T10:00:60\"}\n{\"t\":\"2024-01-01T10:00:00\"}\n",
        ),
    ];
    let mut sqls = Vec::new();
    for (name, text) in files {
        bucket.put(&format!("leap/{name}"), text).await;
        let url = bucket.url(&format!("leap/{name}"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT CAST(t AS VARCHAR) FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

/// The same key in two buckets, each file in its own dialect, is read in
/// its own, with and without union_by_name, as DuckDB 1.5.5 reads them
/// (review-s23 F6: dialects were keyed by the key alone, so one file was
/// read in the other's: its rows NULL with union_by_name, else "the
/// header of s3://bkt1/d.csv lacks column \"a\"" of its own).
#[tokio::test]
async fn the_same_key_in_two_buckets_is_read_in_each_files_dialect() {
    let bucket = Bucket::new().await;
    let second = format!("{}-2nd", bucket.bucket);
    bucket.client.create_bucket(&second).await.unwrap();
    let key = format!("{}dk/d.csv", bucket.prefix);
    bucket.put("dk/d.csv", "a,b\n1,x\n2,y\n").await;
    bucket
        .client
        .put_object(
            &second,
            &key,
            bytes::Bytes::from_static(b"a;b\n3;z\n4;w\n"),
            &s3sql_s3_client::PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let list = format!("['{}', 's3://{second}/{key}']", bucket.url("dk/d.csv"));
    let sqls = [
        format!("SELECT * FROM read_csv({list}, union_by_name = true) ORDER BY a"),
        format!("SELECT * FROM read_csv({list}) ORDER BY a"),
    ];
    compare(&bucket, &sqls).await;
}

/// A file past the first `files_to_sniff` in another delimiter is read in
/// its own, as DuckDB 1.5.5 sniffs each file's dialect when it opens it
/// (review-s23 F5: "the header of f12.csv lacks column \"a\"", the whole
/// glob failing); the types still come from the first files.
#[tokio::test]
async fn a_file_past_files_to_sniff_is_read_in_its_own_dialect_as_duckdb() {
    let bucket = Bucket::new().await;
    for i in 1..=11 {
        let key = format!("late/f{i:02}.csv");
        bucket.put(&key, format!("a,b\n{i},x\n")).await;
    }
    bucket.put("late/f12.csv", "a;b\n12;y\n").await;
    let glob = bucket.url("late/*.csv");
    let sqls = [
        format!("SELECT * FROM read_csv('{glob}') ORDER BY a"),
        format!("SELECT * FROM read_csv('{glob}', files_to_sniff = 2) ORDER BY a"),
        format!("SELECT * FROM read_csv('{glob}', union_by_name = true) ORDER BY a"),
    ];
    compare(&bucket, &sqls).await;
}

/// A DATE file beside a TIMESTAMP one is one TIMESTAMP column with
/// union_by_name, as DuckDB 1.5.5 reads them (review-s23 F4: VARCHAR);
/// by position it stays VARCHAR, as DuckDB's.
#[tokio::test]
async fn a_date_file_beside_a_timestamp_file_unions_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("du/c1.csv", "d,k\n2024-01-01,1\n").await;
    bucket
        .put("du/c2.csv", "d,k\n2024-01-01 10:00:00,2\n")
        .await;
    let list = format!(
        "['{}', '{}']",
        bucket.url("du/c1.csv"),
        bucket.url("du/c2.csv")
    );
    let sqls = [
        format!("DESCRIBE SELECT * FROM read_csv({list}, union_by_name = true)"),
        format!(
            "SELECT CAST(d AS VARCHAR), k FROM read_csv({list}, union_by_name = true) WHERE d >= '2024-01-01' ORDER BY k"
        ),
        format!("DESCRIBE SELECT * FROM read_csv({list})"),
    ];
    compare(&bucket, &sqls).await;
}

/// Rows of ~100 bytes: DuckDB's 20,480-row sample reaches past the first
/// MiB a sniff reads at first, so the rest is read too: a `zz` at row
/// 15,000 makes the column VARCHAR in the first file and in a glob's
/// second file, as in DuckDB (with the first MiB only, BIGINT, then no
/// row of the file could be read).
#[tokio::test]
async fn a_sample_of_long_rows_reaches_duckdbs_20480_rows() {
    let bucket = Bucket::new().await;
    let pad = "p".repeat(90);
    let mut long = String::from("a,b\n");
    for i in 0..20_000 {
        match i {
            15_000 => long.push_str(&format!("zz,{pad}\n")),
            _ => long.push_str(&format!("{i},{pad}\n")),
        }
    }
    bucket.put("long/one.csv", long.clone()).await;
    bucket.put("lg/f1.csv", "a,b\n1,x\n").await;
    bucket.put("lg/f2.csv", long).await;
    let one = bucket.url("long/one.csv");
    let glob = bucket.url("lg/*.csv");
    let sqls = [
        format!("DESCRIBE SELECT * FROM '{one}'"),
        format!("SELECT count(*), max(a), min(length(b)) FROM '{one}'"),
        format!("DESCRIBE SELECT * FROM '{glob}'"),
        format!("SELECT count(*), max(a) FROM '{glob}'"),
    ];
    compare(&bucket, &sqls).await;
}

/// Files whose records outnumber neither their line ends nor their
/// first MiB's (an empty line after each row, a `#` comment line, a `'`
/// quoted line break, a `\"` escape): their first MiB holds fewer than
/// DuckDB's 20,480 records, so the rest of the sample is read, and a `zz`
/// at record 18,000 makes the column VARCHAR as in DuckDB (review of the
/// one-MiB sample: counted as line ends, the first MiB seemed enough, the
/// column was BIGINT and no row could be read).
#[tokio::test]
async fn a_sample_of_records_spanning_lines_reaches_duckdbs_20480_rows() {
    let bucket = Bucket::new().await;
    let value = |i: usize| match i {
        18_000 => "zz".to_owned(),
        _ => i.to_string(),
    };
    let mut files = vec![String::from("a,b\n"); 4];
    let pad = "p".repeat(35);
    for i in 0..20_000 {
        let a = value(i);
        files[0].push_str(&format!("{a},{pad}{pad}\n\n"));
        files[1].push_str(&format!("{a},{pad}{pad}\n#c\n"));
        files[2].push_str(&format!("{a},'{pad}\n{pad}'\n"));
        files[3].push_str(&format!("{a},\"{pad}\\\"\n{pad}\\\"\nq\"\n"));
    }
    let names = ["blank", "comment", "squote", "bsesc"];
    for (name, text) in names.iter().zip(files) {
        assert!(text.len() > 1 << 20, "{name}: {} bytes", text.len());
        bucket.put(&format!("span/{name}.csv"), text).await;
    }
    let mut sqls = Vec::new();
    for name in names {
        let url = bucket.url(&format!("span/{name}.csv"));
        let from = match name {
            "comment" => format!("read_csv('{url}', comment = '#')"),
            _ => format!("'{url}'"),
        };
        sqls.push(format!("DESCRIBE SELECT * FROM {from}"));
        sqls.push(format!("SELECT count(*), max(a) FROM {from}"));
    }
    compare(&bucket, &sqls).await;
}

/// Quotes and escapes sniffed as DuckDB 1.5.5 sniffs them, every value
/// compared (`|`, line breaks and NULL spelled out, each cell bracketed):
/// a backslash before a closing quote that the doubled quote reads
/// (`"C:\\dir\\"` is `C:\\dir\\`; it read `C:\dir\`), one that must
/// escape (`"say \"hi\""`), a file DuckDB's COPY wrote with QUOTE '''' and
/// ESCAPE '''' where escape `"` left a quote open to the end (row 4 was
/// swallowed into row 3, review 9 rt10.csv), a `'` the file quotes with
/// where `"` split it alike (`'it''s'` read as such), and a file no quote
/// splits evenly, read unquoted (it was an error), alone and beside a
/// quoted file.
#[tokio::test]
async fn quotes_and_escapes_are_sniffed_as_duckdb() {
    let bucket = Bucket::new().await;
    let files: [(&str, &str, &[&str]); 6] = [
        ("bs.csv", "a,b\n1,\"C:\\\\dir\\\\\"\n2,\"x\"\n", &["a", "b"]),
        (
            "esc.csv",
            "a,b\n1,\"say \\\"hi\\\"\"\n2,\"C:\\\\\"\n",
            &["a", "b"],
        ),
        (
            "open.csv",
            "i|s|t|u|v|w\n1|a\"b|'x|y'|''|'q''r'|back\\slash\n2||'x\"|y'|a,b|'n\nl'|\\\"\n\
             3|'#h'|'|'|NA|e\"\"e|'''\"'''\n4|NULL|\"|\\|''''|p;q\n",
            &["i", "s", "t", "u", "v", "w"],
        ),
        ("sq.csv", "a|b\n0|x\n2|'it''s'\n4|''''\n", &["a", "b"]),
        (
            "noq.csv",
            "a,b,c\n0,\"1b, 1x y\n1,'\\-,' \n2,,\\\"\n3,éit's,|it's\"||\n",
            &["a", "b", "c"],
        ),
        ("dq.csv", "a,b,c\n5,\"p,q\",r\n", &["a", "b", "c"]),
    ];
    let mut sqls = Vec::new();
    for (name, text, columns) in files {
        bucket.put(&format!("qe/{name}"), text).await;
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                format!(
                    "'[' || coalesce(replace(replace(replace({c}, '|', '<bar>'), chr(10), '<lf>'), \
                     chr(13), '<cr>'), '<null>') || ']' AS {c}"
                )
            })
            .collect();
        let url = bucket.url(&format!("qe/{name}"));
        let from = match name {
            "noq.csv" => format!("['{url}', '{}']", bucket.url("qe/dq.csv")),
            _ => format!("'{url}'"),
        };
        sqls.push(format!(
            "SELECT {} FROM read_csv({from}, all_varchar = true) ORDER BY 1",
            cells.join(", ")
        ));
    }
    compare(&bucket, &sqls).await;
}

/// A file whose rows split into unequal numbers of fields reads as
/// DuckDB 1.5.5 reads it: one column of whole lines (a short row, a long
/// row, a field with text after its closing quote); it was an error
/// naming the line ("Encountered unequal lengths between records").
#[tokio::test]
async fn a_ragged_file_reads_as_one_column_as_duckdb() {
    let bucket = Bucket::new().await;
    let files = [
        ("short.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n"),
        ("long.csv", "a,b,c\n1,2,3\n4,5,6,7\n6,7,8\n"),
        ("after.csv", "a,b\n1,\"x, y\"\n2,\"abc\"def\n3,\"z\"\n"),
        // The last line, without a newline, is short (review 10: "expected
        // 3 columns, found 2").
        ("nonl.csv", "a,b,c\n1,2,3\n4,5"),
    ];
    let mut sqls = Vec::new();
    for (name, text) in files {
        bucket.put(&format!("rg/{name}"), text).await;
        let url = bucket.url(&format!("rg/{name}"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

/// A row ragged past DuckDB's first 2,048 records is an error naming the
/// file and line, as DuckDB 1.5.5 errors (its sniffer: "not possible to
/// automatically detect the CSV parsing dialect"); it read every line
/// whole as one VARCHAR column, silently.
#[tokio::test]
async fn a_row_ragged_past_duckdbs_first_chunk_is_an_error() {
    let bucket = Bucket::new().await;
    let mut text = String::from("a,b,c\n");
    for i in 1..3000 {
        match i {
            2501 => text.push_str(&format!("{i},1\n")),
            _ => text.push_str(&format!("{i},x,y\n")),
        }
    }
    bucket.put("rg/late.csv", text).await;
    let url = bucket.url("rg/late.csv");
    let sql = format!("SELECT count(*) FROM '{url}'");
    let error = crate::support::error_of(&bucket.session().await, &sql).await;
    assert!(
        error.contains(&url) && error.contains("line 2502"),
        "{error}"
    );
}

/// A file whose 20,480-row sample quotes nothing is read without a quote,
/// as DuckDB 1.5.5 reads it: a `"` opened at row 22,000 and never closed
/// is text and every row reads (25,000; with `"` the last 2,999 rows were
/// one value, 22,001 rows).
#[tokio::test]
async fn a_quote_opened_past_the_sample_is_text_as_duckdb() {
    let bucket = Bucket::new().await;
    let mut text = String::from("a,b\n");
    for i in 0..25_000 {
        match i {
            22_000 => text.push_str(&format!("{i},\"abc\n")),
            _ => text.push_str(&format!("{i},x{i}\n")),
        }
    }
    bucket.put("lq/late.csv", text).await;
    let url = bucket.url("lq/late.csv");
    let sqls = [
        format!("SELECT count(*), max(a) FROM '{url}'"),
        format!("SELECT * FROM '{url}' WHERE a BETWEEN 21999 AND 22001 ORDER BY a"),
    ];
    compare(&bucket, &sqls).await;
}

/// A quote opened after a space (`1, "New York, NY"`) is refused naming
/// the file and line: DuckDB 1.5.5 reads (1, 'New York, NY'), which
/// s3sql's reader cannot; it read one column of whole lines, silently.
#[tokio::test]
async fn a_quote_opened_after_a_space_is_refused_naming_file_and_line() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "sp/city.csv",
            "id, city\n1, \"New York, NY\"\n2, \"Austin, TX\"\n",
        )
        .await;
    let url = bucket.url("sp/city.csv");
    let session = bucket.session().await;
    let error = crate::support::error_of(&session, &format!("SELECT * FROM '{url}'")).await;
    assert!(
        error.contains(&url) && error.contains("line 2 has spaces beside a quoted value"),
        "{error}"
    );
}

/// Rows ending the file with one field more, empty (`7,8,9,` under
/// `a,b,c`), are an error naming the line: DuckDB 1.5.5 keeps the
/// columns and drops the empty field, which s3sql's reader cannot; it
/// read every line whole as one VARCHAR column, silently.
#[tokio::test]
async fn an_extra_empty_last_field_is_an_error_naming_the_line() {
    let bucket = Bucket::new().await;
    bucket
        .put("te/last.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9,\n")
        .await;
    let url = bucket.url("te/last.csv");
    let session = bucket.session().await;
    let error = crate::support::error_of(&session, &format!("SELECT * FROM '{url}'")).await;
    assert!(
        error.contains(&url)
            && error.contains("line 4 and the lines below it end in one empty field more"),
        "{error}"
    );
}

/// A title line before the header is refused naming the file and the
/// `skip` that reads it, and with that `skip` the file reads as DuckDB
/// 1.5.5 reads it without (it skips such lines as notes); it read every
/// line whole as one VARCHAR column, silently.
#[tokio::test]
async fn notes_before_the_header_are_refused_naming_the_skip() {
    let bucket = Bucket::new().await;
    bucket
        .put("nt/title.csv", "title line\na,b,c\n1,2,3\n4,5,6\n")
        .await;
    let url = bucket.url("nt/title.csv");
    let session = bucket.session().await;
    let error = crate::support::error_of(&session, &format!("SELECT * FROM '{url}'")).await;
    assert!(
        error.contains(&url) && error.contains("skip = 1"),
        "{error}"
    );
    let ours = crate::support::table_rows(
        &crate::support::query(
            &session,
            &format!("SELECT * FROM read_csv('{url}', skip = 1) ORDER BY a"),
        )
        .await,
    );
    let theirs = crate::support::duckdb(
        Some(&bucket),
        &[format!("SELECT * FROM '{url}' ORDER BY a")],
    );
    assert_eq!(ours, crate::support::duckdb_rows(&theirs[0]));
}

/// A `#` note before the header is a comment with `ignore_errors` too,
/// as DuckDB reads it (review 14, H4: every row counted as agreeing, the
/// dialect without a comment won and arrow failed on "unequal lengths").
#[tokio::test]
async fn a_comment_line_with_ignore_errors_is_sniffed_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "cm/ie.csv",
            "# exported 2024\nid,name,score\n1,ann,3.5\n2,bob,4\n3,cy,5\n",
        )
        .await;
    let url = bucket.url("cm/ie.csv");
    let sqls = [
        format!("SELECT * FROM read_csv('{url}', ignore_errors = true) ORDER BY 1"),
        format!("SELECT * FROM read_csv('{url}', ignore_errors = true, header = true) ORDER BY 1"),
    ];
    compare(&bucket, &sqls).await;
}

/// A file's last line without a newline is typed with the others, and
/// `sample_size` types whole chunks of 2,048 rows, as DuckDB types them:
/// `a\n1\nx` is VARCHAR (it was BIGINT, then "cannot read 'x'"), and a
/// column of `06:00` with a `248` is VARCHAR, never a TIME reading `248`
/// as microseconds (review 14, M6 and H2).
#[tokio::test]
async fn the_last_line_and_small_samples_type_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("ty/nonl.csv", "a\n1\nx").await;
    bucket.put("ty/time_nonl.csv", "a\n06:00\n248").await;
    bucket.put("ty/time_ss.csv", "t\n06:00\n248\n").await;
    let url = |name: &str| bucket.url(&format!("ty/{name}.csv"));
    let sqls = [
        format!("SELECT * FROM '{}' ORDER BY 1", url("nonl")),
        format!("SELECT * FROM '{}' ORDER BY 1", url("time_nonl")),
        format!(
            "SELECT * FROM read_csv('{}', sample_size = 1) ORDER BY 1",
            url("time_ss")
        ),
        format!(
            "DESCRIBE SELECT * FROM read_csv('{}', sample_size = 1)",
            url("time_ss")
        ),
    ];
    compare(&bucket, &sqls).await;
}

/// Two spaces or more before a quote make it text, as DuckDB 1.5.5 reads
/// them (it skips one space before an opening quote, no more): the file
/// was refused as "spaces beside a quoted value" (review 14, M1).
#[tokio::test]
async fn two_spaces_before_a_quote_make_it_text_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("sp/two.csv", "a,b\n1,  \"z\"\n").await;
    bucket.put("sp/onecol.csv", "name\n  \"Smith\"\n").await;
    // Bracketed: the table the comparison reads trims its cells.
    let sqls = [("two", "b"), ("onecol", "name")].map(|(name, column)| {
        format!(
            "SELECT '[' || {column} || ']' AS v FROM '{}'",
            bucket.url(&format!("sp/{name}.csv"))
        )
    });
    compare(&bucket, &sqls).await;
}

/// Comment lines in a file whose lines end in a lone CR are refused,
/// naming the line ends to convert: s3sql's reader ends a comment only at
/// `\n` (review 14, H3: with `comment = '#'` the rows after it were lost,
/// without it the file was one column). Such a file without comments
/// reads as DuckDB reads it.
#[tokio::test]
async fn comments_in_a_lone_cr_file_are_refused_naming_the_line_ends() {
    let bucket = Bucket::new().await;
    bucket.put("cr/opt.csv", "a,b\r1,x\r#c\r2,y\r").await;
    bucket
        .put("cr/auto.csv", "id,name,v\r0,n0,1\r#c\r2,n2,3\r")
        .await;
    bucket.put("cr/plain.csv", "a,b\r1,x\r2,y\r").await;
    let session = bucket.session().await;
    for (name, options) in [("opt", ", comment = '#'"), ("auto", "")] {
        let url = bucket.url(&format!("cr/{name}.csv"));
        let error = error_of(
            &session,
            &format!("SELECT * FROM read_csv('{url}'{options})"),
        )
        .await;
        assert!(
            error.contains("lone CR") && error.contains("convert"),
            "{name}: {error}"
        );
    }
    let url = bucket.url("cr/plain.csv");
    compare(&bucket, &[format!("SELECT * FROM '{url}' ORDER BY 1")]).await;
}

/// A ragged file whose lines end in more than one way is refused, naming
/// the line ends, as DuckDB fails to sniff it (review 14, M4: it was read
/// as one column of whole lines); a one-column file of quoted values with
/// a line break inside one still reads as DuckDB reads it.
#[tokio::test]
async fn a_ragged_file_with_mixed_line_ends_is_refused_as_duckdb_refuses_it() {
    let bucket = Bucket::new().await;
    bucket.put("mx/ragged.csv", "a,b\r\n1,2,3\r\n4\n").await;
    bucket
        .put("mx/quoted.csv", "name\r\n\"a,b\"\r\n\"c\nd\"\r\n\"e\"\r\n")
        .await;
    let session = bucket.session().await;
    let url = bucket.url("mx/ragged.csv");
    let error = error_of(&session, &format!("SELECT * FROM '{url}'")).await;
    assert!(error.contains("more than one way"), "{error}");
    let url = bucket.url("mx/quoted.csv");
    compare(
        &bucket,
        &[format!(
            "SELECT replace(name, chr(10), '~') AS n FROM '{url}' ORDER BY 1"
        )],
    )
    .await;
}
