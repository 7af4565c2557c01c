"""DuckDB's side of secrets/tests/duckdb_parity.rs.

stdin: {"secrets": [{"name", "persistent", "params": [[NAME, value], ...]}],
        "urls": [[url, type], ...], "statements": [[[NAME, value], ...], ...]}
stdout: {"which": [name or null, ...], "accepted": [true/false, ...]}

Runs DuckDB 1.5.5 with the httpfs extension loaded from its PyPI package,
persistent secrets in a temporary secret_directory.
"""
import glob
import json
import os
import sys
import tempfile

import duckdb


def literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def options(params):
    return ", ".join(f"{name} {literal(value)}" for name, value in params)


request = json.load(sys.stdin)
site = os.path.dirname(os.path.dirname(duckdb.__file__))
extension = glob.glob(
    os.path.join(site, "duckdb_extension_httpfs", "extensions", "*", "httpfs.duckdb_extension")
)[0]
with tempfile.TemporaryDirectory() as secret_directory:
    con = duckdb.connect(
        config={"allow_unsigned_extensions": "true", "secret_directory": secret_directory}
    )
    con.execute(f"LOAD '{extension}'")
    for secret in request["secrets"]:
        kind = "PERSISTENT " if secret["persistent"] else ""
        con.execute(f"CREATE {kind}SECRET {secret['name']} ({options(secret['params'])})")
    which = []
    for url, secret_type in request["urls"]:
        row = con.execute("SELECT name FROM which_secret(?, ?)", [url, secret_type]).fetchone()
        which.append(row[0] if row else None)
    accepted = []
    for i, params in enumerate(request["statements"]):
        try:
            con.execute(f"CREATE SECRET probe_{i} ({options(params)})")
            accepted.append(True)
        except duckdb.Error:
            accepted.append(False)
    json.dump({"which": which, "accepted": accepted}, sys.stdout)
