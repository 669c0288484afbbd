"""The page audit itself: it must find what it claims to check, and pass a page that is fine."""

from __future__ import annotations

import pytest

from tests.browser.tab import AuditFailed

GOOD = """<!doctype html><html lang="en"><head><title>fine</title><link rel="icon" href="data:,"></head><body>
<main><label for="name">Name</label><input id="name">
<label><input type="checkbox" name="keep"> Keep</label>
<fieldset><legend>Channel</legend>
<label><input type="radio" name="channel" value="a" checked> A</label><label><input type="radio" name="channel" value="b"> B</label>
</fieldset>
<select aria-label="Stage"><option>one</option></select>
<svg width="200" height="40"><text x="0" y="20" fill="#1f2933">Axis label</text></svg>
<p style="color:#52606d;background:#f5f7fa">Muted but readable</p>
<button>Save</button> <a href="#top">Top</a></main></body></html>"""

BAD = """<!doctype html><html lang="en"><head><title>bad</title><link rel="icon" href="data:,"></head><body>
<input name="nameless">
<p style="color:#aaaaaa">Too pale to read</p>
<div style="background:rgba(0,0,0,.8)"><span style="color:#333333">Dark on dark</span></div>
<svg width="200" height="40"><text x="0" y="20" fill="#bbbbbb" style="color:#000000">Faint axis label</text></svg>
<button></button>
<a href="#skipped" tabindex="-1">Mouse only</a>
<script>console.error("boom")</script></body></html>"""


def test_a_sound_page_passes(tab) -> None:  # type: ignore[no-untyped-def]
    tab.page.set_content(GOOD)
    tab.check("sound")


def test_every_kind_of_problem_is_reported(tab) -> None:  # type: ignore[no-untyped-def]
    tab.page.set_content(BAD)
    with pytest.raises(AuditFailed) as failed:
        tab.check("broken")
    findings = str(failed.value)
    assert "console error" in findings and "boom" in findings
    assert "unlabeled: <input[name=nameless]>" in findings
    assert 'lowContrast: <text> "Faint axis label"' in findings
    assert 'unnamed: <button> ""' in findings
    assert 'lowContrast: <p> "Too pale to read": 2.32:1 (#aaaaaa on #ffffff, needs 4.5:1)' in findings
    assert 'lowContrast: <span> "Dark on dark"' in findings
    assert 'not reachable with the Tab key: <a> "Mouse only"' in findings
    assert "not reachable with the Tab key: <input[name=nameless]>" not in findings
