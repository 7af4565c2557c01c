"""DuckDB httpfs side of `cargo xtask bench query`: one query, one process.

argv: endpoint (host:port) key_id secret sql
Prints the result rows as CSV (no header), like `s3sql --format csv` minus
its header, so the two answers can be compared.
"""
import csv
import glob
import os
import sys

import duckdb

endpoint, key_id, secret, sql = sys.argv[1:]
site = os.path.dirname(os.path.dirname(duckdb.__file__))
extension = glob.glob(os.path.join(site, "duckdb_extension_httpfs", "extensions", "*", "httpfs.duckdb_extension"))[0]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{extension}'")
con.execute(
    f"CREATE SECRET (TYPE s3, KEY_ID '{key_id}', SECRET '{secret}', REGION 'us-east-1', "
    f"ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false)"
)
writer = csv.writer(sys.stdout, lineterminator="\n")
for row in con.execute(sql).fetchall():
    writer.writerow(row)
