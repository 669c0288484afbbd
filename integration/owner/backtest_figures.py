"""What the backtest page shows: each measure, policy by policy, from a finished report (its `as_dict()`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integration.policy.baselines import POLICY_TITLES


@dataclass(frozen=True)
class Cell:
    policy: str  # its title
    value: int
    detail: str  # e.g. "12.5% of 40 overdue reminders"; "" when the figure says it all


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    explanation: str
    cells: tuple[Cell, ...]

    @property
    def largest(self) -> int:
        """The scale of the bars: at least 1, so that an all-zero measure draws empty bars."""
        return max([1, *(cell.value for cell in self.cells)])


def _pct(part: float, whole: int, of: str) -> str:
    return f"{part:.1f}% of {whole} {of}" if whole else ""


def _cells(report: Mapping[str, Any], value: str, detail: str = "") -> tuple[Cell, ...]:
    def described(figures: Mapping[str, Any]) -> str:
        if detail == "false_alarms":
            return _pct(figures["false_alarm_pct"], figures["overdue_reminders"], "overdue reminders")
        if detail == "late_nudges":
            return _pct(figures["late_nudge_pct"], figures["late_invoices"], "late invoices")
        return ""

    return tuple(
        Cell(POLICY_TITLES[name], figures[value], described(figures)) for name, figures in report["policies"].items()
    )


def measures(report: Mapping[str, Any]) -> tuple[Measure, ...]:
    days = report["false_alarm_days"]
    return (
        Measure(
            "emails",
            "Emails sent",
            "arpilot's count includes its check-ins and courtesy notes before the due date, and each of its "
            "emails names all of a customer's invoices due a reminder; QuickBooks and Xero send one email per "
            "invoice and reminder day, after the due date only.",
            _cells(report, "emails"),
        ),
        Measure(
            "false_alarms",
            "False alarms",
            f"Overdue reminders to invoices the customer paid within {days} days anyway.",
            _cells(report, "false_alarms", "false_alarms"),
        ),
        Measure(
            "settled",
            "Reminders to invoices already paid or covered by credit",
            "Reminders about money the customer did not owe that day: the invoice was paid, or the "
            "customer's unapplied credit covered it (arpilot asks you to apply the credit instead).",
            _cells(report, "reminders_to_paid_or_credited"),
        ),
        Measure(
            "late_nudges",
            "Late payers reached later",
            "Invoices paid more than 30 days late (or still unpaid), reached later than QuickBooks' "
            "first reminder, or never.",
            _cells(report, "late_nudges", "late_nudges"),
        ),
        Measure(
            "calls",
            "Calls for you to make",
            "Call tasks arpilot would have given you; QuickBooks and Xero schedules only send emails.",
            _cells(report, "calls"),
        ),
        Measure(
            "holds",
            "Credit holds placed",
            "Customers arpilot would have put on credit hold; QuickBooks and Xero schedules place none.",
            _cells(report, "holds"),
        ),
    )
