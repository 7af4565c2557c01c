"""DuckDB 1.5.5's side of the planner's comparisons with DuckDB.

stdin:  {"s3": {"endpoint", "key_id", "secret", "region"} or null,
         "statements": [sql, ...]}
stdout: [[row, ...], ...], one list per statement; each row a list of
        values, every value str() of what DuckDB returned, NULL as null.

With "s3", the httpfs extension is loaded from its PyPI package and a
secret for the endpoint (path style, plain HTTP) is created first.
"""
import glob
import json
import os
import sys

import duckdb

request = json.load(sys.stdin)
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
s3 = request.get("s3")
if s3:
    site = os.path.dirname(os.path.dirname(duckdb.__file__))
    extension = glob.glob(
        os.path.join(site, "duckdb_extension_httpfs", "extensions", "*", "httpfs.duckdb_extension")
    )[0]
    con.execute(f"LOAD '{extension}'")
    host = s3["endpoint"].removeprefix("http://").removeprefix("https://").rstrip("/")
    con.execute(
        "CREATE SECRET (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)"
        .replace("?", "{}")
        .format(
            *("'" + str(v).replace("'", "''") + "'" for v in (s3["key_id"], s3["secret"], s3["region"], host)),
            "true" if s3["endpoint"].startswith("https://") else "false",
        )
    )
results = []
for sql in request["statements"]:
    rows = con.execute(sql).fetchall()
    results.append([[None if v is None else str(v) for v in row] for row in rows])
json.dump(results, sys.stdout)
