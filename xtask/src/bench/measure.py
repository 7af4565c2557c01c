"""Runs one command and prints "<wall seconds> <peak RSS KiB> <exit code>".

Used by `cargo xtask bench query` for both s3sql and DuckDB, so both are
measured the same way: the whole process, start-up included; the peak RSS
is the child's own (ru_maxrss of the only child this process waits for).
Its stdout is captured to argv[1]; argv[2:] is the command.
"""
import resource
import subprocess
import sys
import time

out_path, *command = sys.argv[1:]
with open(out_path, "wb") as out:
    start = time.perf_counter()
    code = subprocess.run(command, stdout=out).returncode
    wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{wall:.4f} {peak_kib} {code}", flush=True)
