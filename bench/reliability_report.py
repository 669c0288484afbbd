"""The figures of docs/reliability.md: what the fault-injection, crash, security, bad-input and
fuzzing tests did on their last run, read from test-artifacts/reliability.json.

    .venv/bin/python -m pytest tests/reliability tests/security   # writes the file
    .venv/bin/python bench/reliability_report.py [--json test-artifacts/reliability.json]

Totals are summed here from the per-test entries (each suite rewrites only its own tests' entries),
so the table is right whichever suite ran last. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "test-artifacts" / "reliability.json"
# figure -> what the row of docs/reliability.md says; figures not listed are printed under their own name.
LABELS = {
    "faults_injected": "faults injected (5xx, timeouts, malformed JSON, 429s, revoked grants, skew, …)",
    "crashes_survived": "crashes survived (SIGKILL mid-cycle, then a clean run)",
    "duplicates_found": "duplicate effects found (emails, notes, term changes)",
    "bad_inputs_tried": "bad inputs tried (rules, provider records, notes, query literals)",
    "fuzz_examples": "fuzzed provider records and webhook bodies",
    "isolation_requests": "cross-organization requests (every route with an id)",
    "csrf_refusals": "unsafe requests refused without a valid CSRF token",
    "hostile_inputs": "hostile inputs per route and parameter (NUL, huge integers, non-UTF-8, overlong; path, query, form, signed webhooks)",
    "hostile_routes": "routes and methods walked with hostile inputs",
    "weak_secret_keys_refused": "weak production SECRET_KEYs refused at startup",
    "copied_cookies_refused": "copied or stale session cookies refused (after sign-out, last disconnect, a new consent)",
    "company_hand_overs": "company hand-overs between organizations (after a disconnect, a revoke, a take-over), no grant revoked",
    "absurd_days_and_files": "absurd days (backtest, preview, scenario, demo) and unreadable scenario files answered in one line",
    "log_records_searched": "log records searched for secrets (full cycles at DEBUG)",
    "secrets_searched_for": "secret values searched for (tokens, keys, client secrets)",
    "slow_clients_held": "slow clients held off (requests trickling a 500 kB body, cut off with 408 while /healthz answered within 1 s)",
    "stale_runs_reaped": "stale cycle runs reaped (a killed or hung cycle closed as failed, the next one retried)",
}


def figures(path: Path) -> tuple[Counter[str], Counter[str], int]:
    tests = json.loads(path.read_text()).get("tests", {})
    totals: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for entry in tests.values():
        totals.update({k: v for k, v in entry.items() if isinstance(v, int) and not isinstance(v, bool)})
        kinds.update(entry.get("kinds", {}))
    return totals, kinds, len(tests)


def table(totals: Counter[str], kinds: Counter[str], tests: int) -> str:
    rows = ["| figure | count |", "| --- | ---: |"]
    for name in [*LABELS, *sorted(set(totals) - set(LABELS))]:
        if name in totals:
            rows.append(f"| {LABELS.get(name, name)} | {totals[name]:,} |")
    rows.append(f"| tests reporting | {tests:,} |")
    if kinds:
        rows += ["", "| fault kind | injected |", "| --- | ---: |"]
        rows += [f"| {kind} | {count:,} |" for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT)
    args = parser.parse_args()
    if not args.json.exists():
        print(f"{args.json} does not exist: run the reliability and security tests first", file=sys.stderr)
        return 1
    print(table(*figures(args.json)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
