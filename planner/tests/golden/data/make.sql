-- The golden tests' data, written by DuckDB 1.5.5 so that the expected
-- answers in ../*.slt are DuckDB's own. Re-create with:
--   cd planner/tests/golden/data && python -c "import duckdb; duckdb.sql(open('make.sql').read())"
CREATE TABLE trips AS
SELECT i AS id,
       ['Oslo', 'Lima', 'Pune', 'Kyiv'][1 + i % 4] AS city,
       (2.5 + (i * 7 % 23) * 1.25)::DOUBLE AS fare,
       DATE '2024-01-01' + (i % 60)::INTEGER AS day,
       i % 5 = 0 AS tipped
FROM range(1, 101) t(i);
COPY trips TO 'trips.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30);
COPY (SELECT * FROM trips WHERE id <= 20) TO 'trips.csv' (HEADER);
COPY (SELECT id, city || '; ' || id AS place, fare FROM trips WHERE id <= 6) TO 'semicolon.csv' (DELIMITER ';', QUOTE '''', HEADER);
COPY (SELECT id, city FROM trips WHERE id <= 3) TO 'noheader.csv' (HEADER false);
COPY (SELECT id, city, fare FROM trips WHERE id <= 5) TO 'trips.tsv' (DELIMITER '\t', HEADER);
COPY (SELECT id, city, {'fare': fare, 'tipped': tipped} AS payment FROM trips WHERE id <= 5) TO 'events.json' (FORMAT json);
COPY (SELECT id, city, 'say "hi", ' || city AS note FROM trips WHERE id <= 4) TO 'quoted.csv' (HEADER);
COPY (SELECT * FROM trips WHERE id <= 10) TO 'trips.csv.gz' (HEADER, COMPRESSION gzip);
COPY (SELECT id, city || ', ' || id AS "city, id" FROM trips WHERE id <= 4) TO 'commas.tsv' (DELIMITER '\t', HEADER);
COPY (SELECT id, CASE WHEN id % 3 = 0 THEN NULL ELSE fare END AS fare, CASE WHEN id % 4 = 0 THEN NULL ELSE city END AS city FROM trips WHERE id <= 8) TO 'nulls.csv' (HEADER, NULLSTR 'NA');
COPY (SELECT id, ('city ' || city)::BLOB AS raw FROM trips WHERE id <= 3) TO 'blobs.parquet' (FORMAT parquet);
COPY (SELECT id, fare, year(day) AS year, month(day) AS month FROM trips)
  TO 'sales' (FORMAT parquet, PARTITION_BY (year, month));
COPY (SELECT * FROM trips WHERE id BETWEEN 1 AND 10) TO 'folder1/1001/t1.parquet';
COPY (SELECT * FROM trips WHERE id BETWEEN 11 AND 20) TO 'folder1/1002/t2.parquet';
COPY (SELECT * FROM trips WHERE id BETWEEN 21 AND 30) TO 'folder2/1003/t3.parquet';
COPY (SELECT * FROM trips WHERE id BETWEEN 31 AND 40) TO 'folder2/1010/t4.parquet';
COPY (SELECT * FROM trips WHERE id BETWEEN 41 AND 50) TO 'folder2/1004/tx.parquet';
-- broken/ is made by hand: truncated.parquet is trips.parquet without its
-- last 12 bytes (`head -c -12`), bad.csv has a word where line 5 needs an
-- integer.
-- unreadable/ is made by hand: broken.csv has a row of three values under a
-- header of two (`printf 'a,b\n1,2\n3,4,5\n6,7\n'`).
-- sniff/ is made by hand (printf), each file a shape DuckDB's sniffer reads
-- otherwise than a naive one: quoted delimiters in every row (names.csv,
-- semicolons.csv), an empty header name (pandas.csv, blank_name.csv),
-- timestamps (timestamps.csv), a float at row 2,500 of integers
-- (late_float.csv, written by Python: id,value with 1.5 for row 2500).
