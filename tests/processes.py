"""A child Python process that holds something (a lock, the clock's lead) until it is killed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def holding_child(setup: str, database_url: str) -> subprocess.Popen[str]:
    """Run `setup` (with `url` bound to `database_url`), print "held", then block on stdin; the
    caller reads the "held" line before relying on it, and kills the child to let go."""
    script = f"import sys\nurl = sys.argv[1]\n{setup}\nprint('held', flush=True)\nsys.stdin.read()\n"
    child = subprocess.Popen(
        [sys.executable, "-c", script, database_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child
