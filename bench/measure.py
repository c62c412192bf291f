"""Run one command and write its wall time, CPU time and peak RSS as JSON.

    python -S bench/measure.py --json OUT.json --timeout 1800 -- COMMAND ...

Why a wrapper: on Linux, exec() folds the exec'ing process's RSS high-water mark into the new
program's ``ru_maxrss``, and subprocess starts children with vfork, i.e. on the parent's memory.
Started straight from the harness (which holds polars and the truth frame), every peer would
report at least the harness's own peak. This process imports only the standard library (~10 MB),
so the ``ru_maxrss`` that ``os.wait4`` returns for its child is the peer's own peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the measurement")
    parser.add_argument("--timeout", type=float, default=None, help="kill the command after this")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    started = time.perf_counter()
    proc = subprocess.Popen(command)
    killer = threading.Timer(args.timeout, proc.kill) if args.timeout else None
    if killer:
        killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, nothing else
    finally:
        if killer:
            killer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from reaping again
    measurement = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "exit_code": proc.returncode,
        "timed_out": proc.returncode == -9 and wall >= (args.timeout or float("inf")),
    }
    with open(args.json, "w") as handle:
        json.dump(measurement, handle)


if __name__ == "__main__":
    main()
