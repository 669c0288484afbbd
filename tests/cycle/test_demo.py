"""`arpilot demo --once`: sandbox, real OAuth connect, one live cycle, a summary; `--keep` finds nothing new."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.sandbox.scenario import Scenario, ScenarioCustomer, ScenarioInvoice, ScenarioLine
from integration.cli import main
from tests.sandbox.conftest import small_scenario

EXPECTED_KEYS = {
    "company",
    "as_of",
    "status",
    "detail",
    "invoices_synced",
    "aging",
    "actions_by_kind",
    "emails_sent",
    "notes_written",
    "moved_to_mid_month",
    "put_on_hold",
    "taken_off_hold",
    "skipped_by_reason",
    "planned_this_run",
    "nothing_new",
    "most_overdue",
    "actions",
}


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "company.json"
    path.write_text(small_scenario().dumps())
    return path


def _demo(tmp_path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        main, ["demo", "--once", "--json", *args], env={"ARPILOT_VAR_DIR": str(tmp_path / "var")}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_once_connects_runs_a_live_cycle_and_reports(tmp_path: Path, scenario_file: Path) -> None:
    report = _demo(tmp_path, "--scenario", str(scenario_file))
    assert set(report) == EXPECTED_KEYS
    assert report["status"] == "done" and report["invoices_synced"] == 5
    assert report["emails_sent"] >= 1 and report["notes_written"] >= 1
    assert report["aging"]["USD"]["1-30"] == "200.00"
    assert report["most_overdue"][0]["name"] == "O'Brien\\Sons Hardware"
    assert all(a["status"] in ("done", "skipped") for a in report["actions"])
    assert {"kind", "customer_id", "invoice_ids", "stage", "reason", "status"} <= set(report["actions"][0])
    outbox = list((tmp_path / "var" / "demo" / "outbox" / "messages").glob("*.eml"))
    assert len(outbox) == sum(1 for a in report["actions"] if a["kind"] == "send_reminder" and a["status"] == "done")


@pytest.mark.parametrize("provider", ["quickbooks", "xero"])
def test_demo_once_with_keep_plans_and_performs_nothing_new(tmp_path: Path, scenario_file: Path, provider: str) -> None:
    """Issue 15.9: the second run finds the same owner and company (Xero's sandbox once made a new
    user at every start, and the second run failed with 409 "connected elsewhere")."""
    first = _demo(tmp_path, "--scenario", str(scenario_file), "--provider", provider)
    second = _demo(tmp_path, "--scenario", str(scenario_file), "--keep", "--provider", provider)
    assert first["status"] == second["status"] == "done"
    assert second["nothing_new"] is True and second["planned_this_run"] == 0
    assert second["emails_sent"] == 0 and second["notes_written"] == 0
    assert len(second["actions"]) == len(first["actions"])
    text = CliRunner().invoke(
        main,
        ["demo", "--once", "--keep", "--scenario", str(scenario_file), "--provider", provider],
        env={"ARPILOT_VAR_DIR": str(tmp_path / "var")},
    )
    assert text.exit_code == 0 and "nothing new to do" in text.output


def test_demo_without_keep_starts_fresh(tmp_path: Path, scenario_file: Path) -> None:
    first = _demo(tmp_path, "--scenario", str(scenario_file))
    again = _demo(tmp_path, "--scenario", str(scenario_file))
    assert again["planned_this_run"] == first["planned_this_run"] > 0


def test_demo_as_of_moves_the_day(tmp_path: Path, scenario_file: Path) -> None:
    report = _demo(tmp_path, "--scenario", str(scenario_file), "--as-of", "2026-12-20")
    assert report["as_of"] == "2026-12-20"
    assert report["most_overdue"][0]["days_overdue"] > 25


def test_demo_reports_a_bad_scenario_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = CliRunner().invoke(
        main, ["demo", "--once", "--scenario", str(bad)], env={"ARPILOT_VAR_DIR": str(tmp_path / "var")}
    )
    assert result.exit_code == 2 and "format" in result.output


def test_demo_once_on_xero_produces_the_same_kinds_of_outcome(tmp_path: Path, scenario_file: Path) -> None:
    quickbooks = _demo(tmp_path / "qbo", "--scenario", str(scenario_file))
    xero = _demo(tmp_path / "xero", "--scenario", str(scenario_file), "--provider", "xero")
    assert set(xero) == EXPECTED_KEYS
    assert xero["status"] == "done" and xero["invoices_synced"] == quickbooks["invoices_synced"] == 5
    assert xero["actions_by_kind"] == quickbooks["actions_by_kind"]
    assert xero["emails_sent"] == quickbooks["emails_sent"] and xero["notes_written"] == quickbooks["notes_written"]
    assert [c["name"] for c in xero["most_overdue"]] == [c["name"] for c in quickbooks["most_overdue"]]


def _with_a_customer_to_hold() -> Scenario:
    """The small company plus a customer 100 days late: the first run puts them on credit hold."""
    base = small_scenario()
    late = ScenarioCustomer("cust-09", "Dunmore Freight", "ap@dunmore.example", None, "USD", 30)
    issued = base.as_of - dt.timedelta(days=130)
    invoice = ScenarioInvoice(
        "inv-1009",
        "1009",
        "cust-09",
        issued,
        issued + dt.timedelta(days=30),
        "USD",
        (ScenarioLine("Freight", Decimal("640.00")),),
    )
    return dataclasses.replace(base, customers=(*base.customers, late), invoices=(*base.invoices, invoice))


def test_a_second_run_with_keep_counts_only_what_it_did(tmp_path: Path) -> None:
    path = tmp_path / "company.json"
    path.write_text(_with_a_customer_to_hold().dumps())
    first = _demo(tmp_path, "--scenario", str(path))
    # A credit hold asks the owner first (the Approve list), so the first run only plans it.
    (hold,) = [a for a in first["actions"] if a["kind"] == "credit_hold_on"]
    assert hold["status"] == "awaiting_approval" and first["put_on_hold"] == 0
    assert first["emails_sent"] > 0
    second = _demo(tmp_path, "--scenario", str(path), "--keep")
    assert second["nothing_new"] is True
    assert (second["moved_to_mid_month"], second["put_on_hold"], second["taken_off_hold"]) == (0, 0, 0)
    assert second["emails_sent"] == 0 and second["notes_written"] == 0  # this run's effects, not the ledger's
    assert [a["kind"] for a in second["actions"]].count("credit_hold_on") == 1  # the ledger still shows it
