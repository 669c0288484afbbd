"""Figures for the QuickBooks sandbox on loopback, through python-quickbooks: run with
`.venv/bin/python bench/qbo_sandbox.py`. Prints timings; asserts nothing."""

from __future__ import annotations

import json
import os
import statistics
import time

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http only

from intuitlib.client import AuthClient  # noqa: E402
from quickbooks import QuickBooks  # noqa: E402
from quickbooks.objects.invoice import Invoice  # noqa: E402

from connectors.quickbooks.sandbox import create_app  # noqa: E402
from connectors.sandbox import SandboxServer  # noqa: E402


def timed(label: str, runs: int, call) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    print(f"{label:<48} median {statistics.median(samples):7.1f} ms   max {max(samples):7.1f} ms   ({runs} runs)")


def main() -> None:
    started = time.perf_counter()
    app = create_app()  # the demo company
    print(f"{'create_app (demo company, RSA key)':<48} {(time.perf_counter() - started) * 1000:7.1f} ms")
    sandbox = app.extensions["qbo_sandbox"]
    server = SandboxServer(app)
    base = server.start()
    realm = next(iter(sandbox.companies))
    tokens = sandbox.authority.mint(sandbox.config.client_id, realm, ("com.intuit.quickbooks.accounting",))
    auth = AuthClient(
        sandbox.config.client_id,
        sandbox.config.client_secret,
        "http://127.0.0.1/cb",
        sandbox.discovery_url(base),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
    )
    qb = QuickBooks(auth_client=auth, refresh_token=tokens.refresh_token, company_id=realm, minorversion=75)
    qb.api_url_v3 = qb.sandbox_api_url_v3 = sandbox.api_base(base)
    count = Invoice.count(qb=qb)
    timed(
        f"query all {count} invoices, MAXRESULTS 1000",
        20,
        lambda: Invoice.where("", start_position=1, max_results=1000, qb=qb),
    )
    timed("query open invoices (Balance > '0')", 20, lambda: Invoice.where("Balance > '0'", qb=qb))
    timed("COUNT(*) of invoices", 50, lambda: Invoice.count(qb=qb))
    invoice = Invoice.where("", max_results=1, qb=qb)[0]

    def note() -> None:
        current = qb.get_single_object("Invoice", invoice.Id)["Invoice"]
        qb.update_object(
            "Invoice",
            json.dumps({"Id": invoice.Id, "SyncToken": current["SyncToken"], "sparse": True, "PrivateNote": "bench"}),
        )

    timed("read + sparse update of one invoice", 50, note)
    since = (sandbox.clock.now()).strftime("%Y-%m-%dT00:00:00")
    timed(
        "CDC Invoice,Customer,Payment since today",
        20,
        lambda: qb.change_data_capture("Invoice,Customer,Payment", since),
    )
    server.stop()


if __name__ == "__main__":
    main()
