"""DuckDB httpfs side of `cargo xtask bench glob`.

argv: endpoint (host:port) key_id secret bucket runs pattern...
Prints one line per pattern: "<count> <best_ms>".
"""
import glob
import os
import sys
import time

import duckdb

endpoint, key_id, secret, bucket, runs, *patterns = sys.argv[1:]
site = os.path.dirname(os.path.dirname(duckdb.__file__))
extension = glob.glob(os.path.join(site, "duckdb_extension_httpfs", "extensions", "*", "httpfs.duckdb_extension"))[0]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{extension}'")
con.execute(
    f"CREATE SECRET (TYPE s3, KEY_ID '{key_id}', SECRET '{secret}', REGION 'us-east-1', "
    f"ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false)"
)
for pattern in patterns:
    best, count = None, None
    for _ in range(int(runs)):
        start = time.perf_counter()
        count = con.execute(f"SELECT count(*) FROM glob('s3://{bucket}/{pattern}')").fetchone()[0]
        ms = (time.perf_counter() - start) * 1000
        best = ms if best is None else min(best, ms)
    print(f"{count} {best:.1f}", flush=True)
