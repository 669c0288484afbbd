"""`arpilot preview` and `arpilot backtest`: the policy on a scenario file or the demo company."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from connectors.sandbox.scenario import Scenario, ScenarioError, generate_demo_company, load_scenario
from connectors.sandbox.scenario.from_records import Converted
from connectors.sandbox.scenario.generator import MIXES
from connectors.sandbox.scenario.published import PROVIDERS, published_scenario
from integration.cli_types import DAY, PERIOD
from integration.policy.backtest import backtest, decision_time, preview, train_habit_wait, with_habit_wait
from integration.policy.baselines import POLICY_TITLES
from integration.policy.rules import STAGES, Rules
from integration.policy.scenario_snapshot import snapshot_from_scenario

# Ten years of days, each a full decide over the company: enough for any question about the past.
MAX_BACKTEST_DAYS = 3660
SCENARIO = click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A scenario file (default: the built-in demo company).",
)


def _check_period(start: dt.date, end: dt.date, hint: str) -> None:
    if end < start:
        raise click.BadParameter("the period ends before it starts", param_hint=hint)
    if (end - start).days >= MAX_BACKTEST_DAYS:
        raise click.BadParameter(f"replays at most {MAX_BACKTEST_DAYS} days", param_hint=hint)


def _published(provider: str) -> Converted:
    try:
        return published_scenario(provider)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


def _scenario(path: Path | None, mix: str = "demo") -> Scenario:
    if path is None:
        return generate_demo_company(mix=mix)
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("preview")
@SCENARIO
@click.option("--as-of", "as_of", type=DAY, help="The day to decide for (default: the scenario's day).")
@click.option("--json", "as_json", is_flag=True, help="Print the actions as JSON.")
def preview_command(scenario_path: Path | None, as_of: dt.date | None, as_json: bool) -> None:
    """List the actions the policy would take today, each with its reason."""
    scenario = _scenario(scenario_path)
    day = as_of or scenario.as_of
    rules = Rules.default()
    result = preview(snapshot_from_scenario(scenario, day), rules, decision_time(day, scenario.company.timezone, rules))
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in result.actions], indent=1))
        return
    click.echo(f"{scenario.company.name}: {len(result.actions)} actions for {day.isoformat()}")
    names = {c.id: c.name for c in scenario.customers}
    for action in result.actions:
        click.echo(f"- [{action.kind.value}] {names.get(action.customer_id, action.customer_id)}: {action.reason}")


@click.command("backtest")
@SCENARIO
@click.option("--from", "start", type=DAY, required=True, help="First day to replay.")
@click.option("--to", "end", type=DAY, required=True, help="Last day to replay.")
@click.option(
    "--false-alarm-days",
    default=7,
    show_default=True,
    type=click.IntRange(0, 60),
    help="A reminder is a false alarm if the invoice was paid within this many days anyway.",
)
@click.option(
    "--mix",
    type=click.Choice(sorted(MIXES)),
    default="demo",
    show_default=True,
    help="Without --scenario: which generated company (the demo, or another mix of habits).",
)
@click.option(
    "--published",
    type=click.Choice(PROVIDERS),
    help="Instead of --scenario: the provider's published example payloads, read by its mapping.",
)
@click.option(
    "--train",
    "train",
    type=PERIOD,
    help="FROM:TO, before --from: choose the habit wait on this period, then report --from..--to with it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def backtest_command(
    scenario_path: Path | None,
    start: dt.date,
    end: dt.date,
    false_alarm_days: int,
    mix: str,
    published: str | None,
    train: tuple[dt.date, dt.date] | None,
    as_json: bool,
) -> None:
    """Replay each day of a past period and report what the policy would have done."""
    _check_period(start, end, "--to")
    if train is not None:
        _check_period(*train, "--train")
        if train[1] >= start:
            raise click.BadParameter("the training period must end before --from", param_hint="--train")
    if published is not None and scenario_path is not None:
        raise click.BadParameter("give --scenario or --published, not both", param_hint="--published")
    converted = _published(published) if published is not None else None
    scenario = converted.scenario if converted is not None else _scenario(scenario_path, mix)
    # What the examples hold that a scenario cannot, said each time their figures are shown.
    not_replayed = [f"{r.entity} {r.provider_id}: {r.reason}" for r in converted.rejected] if converted else []
    rules, training = Rules.default(), None
    if train is not None:
        training = train_habit_wait(scenario, rules, *train, false_alarm_days=false_alarm_days)
        rules = with_habit_wait(rules, training.chosen)
    days = (end - start).days + 1
    with click.progressbar(length=days, label="replaying days", file=sys.stderr) as bar:
        report = backtest(
            scenario, rules, start, end, false_alarm_days=false_alarm_days, on_day=lambda _: bar.update(1)
        )
    if as_json:
        extra = {
            **({"train": training.as_dict()} if training else {}),
            **({"not_replayed": not_replayed} if converted else {}),
        }
        click.echo(json.dumps({**report.as_dict(), **extra}, indent=1))
        return
    if training is not None:
        tried = ", ".join(
            f"{wait} d: {f.false_alarm_pct:.1f}% false alarms, {f.late_nudge_pct:.1f}% late nudges"
            for wait, f in training.tried.items()
        )
        click.echo(f"trained on {training.start} to {training.end}: habit wait {training.chosen} days ({tried})")
    click.echo(f"{scenario.company.name}, {report.start} to {report.end} ({report.days} days)")
    for line in not_replayed:
        click.echo(f"not replayed: {line}")
    click.echo(f"emails: {report.emails}, call tasks: {report.call_tasks}, escalations: {report.escalations}")
    for stage in STAGES:
        count = report.reminders_by_stage.get(stage, 0)
        click.echo(f"  {stage}: {count}")
    click.echo(f"credit holds placed: {len(report.holds_on)}, released: {len(report.holds_off)}")
    click.echo(f"moved to mid-month terms: {len(report.mid_month_moves)}")
    click.echo(
        f"false alarms: {report.false_alarms} of {report.alarm_reminders} overdue reminders "
        f"({report.false_alarm_pct:.1f}%) went to invoices paid within {report.false_alarm_days} days anyway"
    )
    click.echo(
        "on the same invoices and days (late nudges: late invoices reached after the QuickBooks-like "
        "schedule's first reminder, or never):"
    )
    for name, figures in report.policies.items():
        click.echo(
            f"  {POLICY_TITLES[name]:<26} {figures.overdue_reminders:>6} overdue reminders, "
            f"{figures.false_alarms:>5} false alarms ({figures.false_alarm_pct:4.1f}%), "
            f"{figures.late_nudges:>4} of {figures.late_invoices} late invoices nudged later "
            f"({figures.late_nudge_pct:.1f}%)"
        )
        click.echo(
            f"  {'':<26} {figures.emails:>6} emails, {figures.calls:>5} calls, {figures.holds:>4} holds, "
            f"{figures.settled_reminders:>4} reminders to invoices already paid or covered by credit"
        )
    click.echo(
        f"reminders to invoices that were already paid or covered by credit when sent: {report.settled_reminders}"
    )
    if report.days_to_pay is None:
        click.echo("days to pay: no invoice was paid in full in the period")
    else:
        click.echo(
            f"days to pay: {report.days_to_pay:.1f} days from due date on average, as observed in the books "
            "(the same for every policy: the replay does not simulate how customers answer reminders)"
        )
