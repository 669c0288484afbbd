"""How long each sandbox takes to serve one page of a large company, outside HTTP and latency:
`.venv/bin/python bench/sandbox_pages.py [--invoices 100000]`. Prints timings; asserts nothing.

The first page of a state builds the sandbox's index (QuickBooks: records sorted by change time;
Xero: records in change order with their facts); the pages after it should cost what they hold.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import books  # noqa: E402
from connectors.quickbooks.sandbox import QboSandboxConfig  # noqa: E402
from connectors.quickbooks.sandbox import create_app as create_qbo  # noqa: E402
from connectors.xero.sandbox import XeroSandboxConfig  # noqa: E402
from connectors.xero.sandbox import create_app as create_xero  # noqa: E402
from connectors.xero.sandbox.listing import ListRequest, select  # noqa: E402
from connectors.xero.sandbox.org import INVOICE_FIELDS  # noqa: E402

UPDATED = "MetaData.LastUpdatedTime"


def timed(label: str, call: Callable[[], object]) -> None:
    start = time.perf_counter()
    call()
    print(f"{label:<52} {(time.perf_counter() - start) * 1000:8.0f} ms")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    invoices = parser.parse_args(argv).invoices
    scenario = books.company(invoices, books.today())
    company = create_qbo(QboSandboxConfig()).extensions["qbo_sandbox"].load_scenario(scenario)
    org = create_xero(XeroSandboxConfig()).extensions["xero_sandbox"].load_scenario(scenario, "pages")
    print(f"{invoices:,} invoices, pages of 1000, the queries the sync sends")
    middle = company.stamp(sorted(r["_updated"] for r in company.entities["Invoice"].values())[invoices // 2])
    timed(
        "QuickBooks invoices, first page (builds the index)",
        lambda: company.query(f"SELECT * FROM Invoice ORDERBY {UPDATED} STARTPOSITION 1 MAXRESULTS 1000"),
    )
    timed(
        "QuickBooks invoices changed since the middle one",
        lambda: company.query(
            f"SELECT * FROM Invoice WHERE {UPDATED} >= '{middle}' ORDERBY {UPDATED} STARTPOSITION 1 MAXRESULTS 1000"
        ),
    )
    timed(
        "QuickBooks customers, first page",
        lambda: company.query(f"SELECT * FROM Customer ORDERBY {UPDATED} STARTPOSITION 1 MAXRESULTS 1000"),
    )
    for page in (1, 2, max(1, invoices // 2000)):
        query = ListRequest(where='Type=="ACCREC"', order="UpdatedDateUTC ASC", page=page, page_size=1000)
        timed(
            f"Xero invoices, page {page}" + (" (builds the listing)" if page == 1 else ""),
            lambda: [
                org.render_invoice(r) for r in select(org.listing("invoices"), lambda r: True, INVOICE_FIELDS, query)[0]
            ],
        )


if __name__ == "__main__":
    main(sys.argv[1:])
