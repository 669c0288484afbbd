"""Every line a cycle logs says which organization, connection and cycle run it belongs to."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from integration.config import ConfigError, load_settings
from integration.logs import JsonFormatter, TextFormatter, install_context_stamping, log_context
from integration.store.models import CycleRun
from oauth.redact import REDACTED, register_secret
from tests.cycle.conftest import World

LIVE: dict[str, object] = {"mode": "live"}


def test_every_line_of_a_cycle_carries_its_ids(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.set_rules(LIVE)
    with caplog.at_level(logging.DEBUG):
        summary = world.cycle()
    assert summary.status == "done"
    with world.sessions() as session:
        run_id = session.query(CycleRun.id).one()[0]
    ours = [r for r in caplog.records if r.name.split(".")[0] in {"integration", "connectors", "oauth", "reminders"}]
    assert any(r.getMessage().startswith("cycle started") for r in ours)
    assert any(r.getMessage().startswith("cycle ended: done") for r in ours)
    for record in ours:
        ids = (record.organization_id, record.connection_id, record.cycle_run_id)  # type: ignore[attr-defined]
        assert ids == (world.organization_id, world.connection_id, run_id), record.getMessage()


def test_lines_outside_a_cycle_carry_no_ids(caplog: pytest.LogCaptureFixture) -> None:
    install_context_stamping()
    with caplog.at_level(logging.INFO):
        logging.getLogger("integration.test").info("outside")
        with (
            log_context(organization_id=3, connection_id=4),
            log_context(cycle_run_id=5),
        ):  # the second adds to the first
            logging.getLogger("integration.test").info("inside")
        logging.getLogger("integration.test").info("after")
    outside, inside, after = caplog.records[-3:]
    assert (outside.organization_id, outside.cycle_run_id) == (None, None)  # type: ignore[attr-defined]
    assert (inside.organization_id, inside.connection_id, inside.cycle_run_id) == (3, 4, 5)  # type: ignore[attr-defined]
    assert after.connection_id is None  # type: ignore[attr-defined]


def test_an_unknown_context_field_is_refused() -> None:
    with pytest.raises(ValueError, match="realm"), log_context(realm=1):  # type: ignore[arg-type]
        pass


def _record(message: str, *args: object) -> logging.LogRecord:
    install_context_stamping()
    with log_context(organization_id=1, connection_id=2, cycle_run_id=3):
        return logging.getLogger("integration.cycle.run").makeRecord(
            "integration.cycle.run", logging.WARNING, __file__, 1, message, args, None
        )


def test_json_lines_hold_the_ids_and_stay_redacted() -> None:
    secret = "rt-0123456789abcdefSECRET"
    register_secret(secret)
    line = json.loads(JsonFormatter().format(_record("refresh with %s failed", secret)))
    assert line["level"] == "WARNING" and line["logger"] == "integration.cycle.run"
    assert (line["organization_id"], line["connection_id"], line["cycle_run_id"]) == (1, 2, 3)
    assert secret not in line["message"] and REDACTED in line["message"]


def test_text_lines_end_with_the_ids() -> None:
    text = TextFormatter().format(_record("synced %d invoices", 4))
    assert text.endswith("synced 4 invoices organization_id=1 connection_id=2 cycle_run_id=3")


def test_a_log_format_outside_text_and_json_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml", "ARPILOT_VAR_DIR": str(tmp_path)})
    assert load_settings({"LOG_FORMAT": "JSON", "ARPILOT_VAR_DIR": str(tmp_path)}).log_format == "json"
