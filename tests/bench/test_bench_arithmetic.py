"""The benchmarks' arithmetic: the call minimums, the lower bound of (c), the table and the JSON.
(No timing here: the figures themselves come from `make bench`.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bench.books import company, open_invoice_ids
from bench.cycle_bench import connection_floor, lower_bound
from bench.figures import Figure, at_most, exactly, save, table
from bench.sync_bench import minimum_calls


def test_minimum_calls_follow_each_providers_paging_contract() -> None:
    rows = {"customer": 5000, "invoice": 100_000, "payment": 87_286}
    assert minimum_calls("xero", rows, incremental=False) == 5 + 100 + 88
    assert minimum_calls("quickbooks", rows, incremental=False) == 6 + 101 + 88  # a full page asks once more
    changed = {"customer": 0, "invoice": 1000, "payment": 999}
    assert minimum_calls("xero", changed, incremental=True) == 1 + 2 + 1  # the boundary row comes back: 1001 rows
    assert minimum_calls("quickbooks", changed, incremental=True) == 1 + (1 + 2) + 1  # a full CDC answer is followed up


def test_lower_bound_is_the_slowest_connection_or_the_work_over_the_workers() -> None:
    assert connection_floor("quickbooks", 100, 0.1) == pytest.approx(10.0)  # latency: 100 calls x 0.1 s
    assert connection_floor("xero", 200, 0.1) == 180.0  # 60 a minute: the 200th call comes 3 minutes on
    assert lower_bound({"xero": (1, 200), "quickbooks": (3, 100)}, 0.1, 4) == 180.0
    assert lower_bound({"quickbooks": (40, 100)}, 0.1, 4) == pytest.approx(100.0)


def test_table_and_json_carry_every_figure_and_its_verdict(tmp_path: Path) -> None:
    figures = [
        at_most("calls", 12, "calls", 12.6, "<= 13"),
        exactly("cycles", 15, "", 16),
        Figure("rss", 135, "MB", "-", None),
    ]
    text = table(figures, "header")
    assert text.splitlines()[0] == "header"
    assert "| calls | 12 calls | <= 13 | met |" in text and "| cycles | 15  | = 16 | NOT MET |" in text
    save(figures, tmp_path / "results" / "latest.json")
    saved = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert saved[1] == {"name": "cycles", "value": 15, "unit": "", "target": "= 16", "met": False}
    assert [set(f) for f in saved] == [{"name", "value", "unit", "target", "met"}] * 3


def test_bench_company_has_the_asked_size_and_open_invoices() -> None:
    books = company(1001, dt.date(2026, 11, 23), per_customer=20)
    assert len(books.invoices) == 1001 and len(books.customers) == 51
    assert 0 < len(open_invoice_ids(books)) < 1001
    with pytest.raises(ValueError):
        company(0, dt.date(2026, 11, 23))


def test_a_partial_run_replaces_its_parts_figures_and_keeps_the_others(tmp_path: Path) -> None:
    from bench.figures import load
    from bench.run import merged

    previous = [
        Figure("mirror upsert, sqlite, insert (pages of 1000)", 11676, "rows/s", "-", None),
        Figure("(a) xero 5,000 invoices: worker peak RSS", 155, "MB", "< 300 MB", True),
        Figure("(b) xero 5,000 invoices: 429s received", 0, "", "0", True),
        Figure("(c) 16 connections x 400 invoices, 4 workers: cycles completed", 16, "", "= 16", True),
        Figure("(d) policy: decide over 250,000 open invoices: peak RSS", 225, "MB", "< 1,536 MB", True),
    ]
    path = tmp_path / "latest.json"
    assert load(path) == []
    save(previous, path)
    assert load(path) == previous
    new = [Figure("(a) xero 100,000 invoices: worker peak RSS", 118, "MB", "< 300 MB", True)]
    assert merged(new, load(path), ("sync",)) == [previous[0], new[0], previous[3], previous[4]]
    assert merged(new, load(path), ("sync", "policy")) == [previous[0], new[0], previous[3]]
