"""Run every benchmark in this folder in turn; each prints its own table with machine and command.

    python benchmarks/run_all.py [name ...]     # e.g. `train fid` for bench_train.py and bench_fid.py
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    wanted = set(sys.argv[1:])
    scripts = [p for p in sorted(here.glob("bench_*.py")) if not wanted or p.stem.removeprefix("bench_") in wanted]
    failures = 0
    for script in scripts:
        print(f"\n## {script.name}\n", flush=True)
        failures += subprocess.run([sys.executable, str(script)]).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
