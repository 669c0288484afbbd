"""Check (not a test): decide's full output stays byte-identical across optimisations.

    .venv/bin/python bench/policy_identity.py                                    # against the digests kept here
    .venv/bin/python bench/policy_identity.py --record /tmp/decide-before.json   # before a change
    .venv/bin/python bench/policy_identity.py --compare /tmp/decide-before.json  # after it: the first difference

With no option the output's digests are compared with bench/policy_identity.json (the digests of
the output decide gave before the policy was rewritten for readability, case by case). A change
that means to alter decisions records new digests with --update-digests, in the same commit.

Cases: the demo company replayed day by day (decisions fed back as history, as backtest does)
under the default rules and under a variant that turns the less common switches (no
consolidation, no grace, call channels, thresholds, quiet hours, overrides, promises, plans);
and a 100,000-invoice synthetic mirror from bench/policy.py, with and without holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIGESTS = Path(__file__).with_name("policy_identity.json")
sys.path.insert(0, str(ROOT))

from connectors.sandbox.scenario import generate_demo_company  # noqa: E402
from integration.policy.backtest import apply_account_moves, decision_time  # noqa: E402
from integration.policy.decide import decide  # noqa: E402
from integration.policy.history import record  # noqa: E402
from integration.policy.rules import Rules  # noqa: E402
from integration.policy.scenario_snapshot import snapshot_from_scenario  # noqa: E402
from integration.policy.snapshot import CustomerOverride, History, Instalment, InvoicePause, Snapshot  # noqa: E402

VARIANT = {
    "grace": {"enabled": False},
    "frequency": {"consolidate": False, "min_days_between_emails": 3},
    "credit_hold": {"min_overdue_amount": "500.00", "days_overdue": 45, "all_customers_days_overdue": 75},
    "mid_month": {"min_occurrences": 2, "min_share_pct": 40},
    "pauses": {"broken_promise_stages_up": 2, "promise_grace_days": 0},
    "schedule": {"send_from_hour": 13, "send_until_hour": 15, "timezone_source": "company"},
    "ladder": {
        "stages": [{}, {"enabled": False}, {"channel": "accounting_system_email"}, {"channel": "call"}, {}, {}, {}]
    },
}


def _bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_policy", ROOT / "bench" / "policy.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _owner_words(snapshot: Snapshot, day: dt.date) -> Snapshot:
    """The variant's extra inputs: overrides on some customers, promises and plans on some invoices."""
    customers = [c.provider_id for c in snapshot.customers]
    overrides = {
        customers[0]: CustomerOverride(customers[0], opted_out=True),
        customers[1]: CustomerOverride(customers[1], grace_days=4, timezone="Asia/Tokyo"),
        customers[2]: CustomerOverride(customers[2], paused=True),
        customers[3]: CustomerOverride(customers[3], excluded=True),
        customers[14]: CustomerOverride(customers[14], opted_out=True, timezone="Europe/Paris"),
        customers[20]: CustomerOverride(customers[20], grace_days=-12),  # brings stages forward
    }
    pauses = dict(snapshot.pauses)
    open_ids = [i.provider_id for i in snapshot.invoices if i.status.value == "open"]
    for n, invoice_id in enumerate(open_ids[::3]):
        if invoice_id in pauses:
            continue
        if n % 2:
            pauses[invoice_id] = InvoicePause(invoice_id, promise_to_pay=day - dt.timedelta(days=n % 9))
        else:
            pauses[invoice_id] = InvoicePause(
                invoice_id,
                plan=(
                    Instalment(day - dt.timedelta(days=20), Decimal("50.00")),
                    Instalment(day - dt.timedelta(days=n % 7), Decimal("5000.00")),
                ),
            )
    return dataclasses.replace(snapshot, overrides=overrides, pauses=pauses)


def _replay(rules: Rules, start: dt.date, end: dt.date, owner_words: bool, hour_shift: int) -> list[Any]:
    scenario = generate_demo_company()
    out: list[Any] = []
    done, on_hold, mid_month = History(), set[str](), set[str]()
    day = start
    while day <= end:
        snapshot = snapshot_from_scenario(scenario, day, done, frozenset(on_hold), frozenset(mid_month))
        if owner_words:
            snapshot = _owner_words(snapshot, day)
        now = decision_time(day, scenario.company.timezone, rules) + dt.timedelta(hours=hour_shift)
        actions = decide(snapshot, rules, now)
        out.append([day.isoformat(), [a.as_dict() for a in actions]])
        apply_account_moves(actions, on_hold, mid_month)
        done = record(done, actions, day)
        day += dt.timedelta(days=3 if owner_words else 1)
    return out


def cases() -> dict[str, Any]:
    bench = _bench_module()
    variant = Rules.from_json(VARIANT)
    found: dict[str, Any] = {
        "demo_default": _replay(Rules.default(), dt.date(2025, 12, 1), dt.date(2026, 11, 23), False, 0),
        "demo_variant": _replay(variant, dt.date(2025, 9, 1), dt.date(2026, 11, 23), True, -2),
    }
    synthetic = bench.build(5_000, 20, 12, 1)
    found["synthetic_100k"] = [a.as_dict() for a in decide(synthetic, Rules.default(), bench.NOW)]
    held = dataclasses.replace(
        synthetic,
        on_hold=frozenset(f"c{n}" for n in range(0, 5_000, 7)),
        mid_month=frozenset(f"c{n}" for n in range(0, 5_000, 11)),
    )
    found["synthetic_100k_variant"] = [a.as_dict() for a in decide(held, variant, bench.NOW + dt.timedelta(hours=6))]
    return found


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def digests(found: dict[str, Any]) -> dict[str, str]:
    """Each case's sha256 over its canonical JSON (the form --record writes)."""
    return {
        name: hashlib.sha256(_canonical(json.loads(_canonical(value))).encode()).hexdigest()
        for name, value in found.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--record", type=Path, help="write the whole output here")
    group.add_argument("--compare", type=Path, help="compare with a recorded output, showing the first difference")
    group.add_argument("--update-digests", action="store_true", help=f"record the digests in {DIGESTS.name}")
    args = parser.parse_args()
    found = {name: json.loads(_canonical(value)) for name, value in cases().items()}
    found_digests = digests(found)
    for name, value in found.items():
        count = sum(len(day[1]) for day in value) if name.startswith("demo") else len(value)
        print(f"{name}: {count:,} actions, sha256 {found_digests[name][:16]}")
    if args.update_digests:
        DIGESTS.write_text(json.dumps(found_digests, indent=1, sort_keys=True) + "\n")
        print(f"digests recorded in {DIGESTS}")
        return
    if args.record is None and args.compare is None:
        kept = json.loads(DIGESTS.read_text())
        changed = sorted(
            name for name in kept.keys() | found_digests.keys() if kept.get(name) != found_digests.get(name)
        )
        print("IDENTICAL" if not changed else f"OUTPUT CHANGED: {', '.join(changed)}")
        sys.exit(1 if changed else 0)
    if args.record:
        args.record.write_text(_canonical(found))
        print(f"recorded to {args.record}")
        return
    expected = json.loads(args.compare.read_text())
    same = True
    for name, value in expected.items():
        if found.get(name) != value:
            same = False
            print(f"DIFFERENT: {name}")
            flat_old = value if not name.startswith("demo") else [a for day in value for a in day[1]]
            flat_new = found.get(name, [])
            flat_new = flat_new if not name.startswith("demo") else [a for day in flat_new for a in day[1]]
            for old, new in zip(flat_old, flat_new):
                if old != new:
                    print(f"  first difference:\n  before {old}\n  after  {new}")
                    break
            else:
                print(f"  lengths differ: {len(flat_old)} before, {len(flat_new)} after")
    print("IDENTICAL" if same else "OUTPUT CHANGED")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
