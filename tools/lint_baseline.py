"""`make lint`: ruff and mypy against a recorded baseline that may only shrink.

The tree had hundreds of findings when the linters came in, so failing on every one would block
all work, and fixing them in one sweep would collide with every open branch. Instead each finding
is reduced to a key that survives edits elsewhere in its file (tool, path, rule code, message
without line numbers), the keys are counted, and the counts are compared with lint-baseline.txt:

* a key with more occurrences than recorded is NEW and fails the run, with where it occurs;
* a key with fewer occurrences is FIXED: the run passes and asks for `make lint-baseline`, which
  rewrites the file so that the fix cannot come back unnoticed;
* `--update` refuses to record more findings of any rule than before (unless `--allow-growth`):
  a moved or renamed file keeps its findings under new paths, so growth is judged per rule code,
  not per key, and a move needs no override.

The strict packages (STRICT_PREFIXES: the policy and the connectors) have no baseline: any finding
there fails the run, and `--update` refuses to record one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "lint-baseline.txt"
STRICT_PREFIXES = ("integration/policy/", "connectors/")

HEADER = """\
# Lint findings recorded when ruff and mypy came in (issue #16), and only ever fewer since.
# One line per key: count, tool, path, rule code, message (line numbers taken out).
# Regenerate with `make lint-baseline` after fixing some; `make lint` fails on any finding not here.
"""


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """What identifies a finding across edits: no line or column, numbers in the message masked."""

    tool: str
    path: str
    code: str
    message: str

    @property
    def strict(self) -> bool:
        return self.path.startswith(STRICT_PREFIXES)

    def line(self, count: int) -> str:
        return f"{count}\t{self.tool}\t{self.path}\t{self.code}\t{self.message}"


@dataclass(frozen=True, slots=True)
class Finding:
    key: Key
    line: int
    column: int

    def where(self) -> str:
        return f"{self.key.path}:{self.line}:{self.column}: {self.key.code} {self.key.message}"


# "from line 21", "defined on line 42", "(134 > 120)": they move with edits the finding is not about.
_LINE_REFERENCE = re.compile(r"\bline \d+")
_LENGTH = re.compile(r" \(\d+ > \d+\)")


def normalize_message(message: str) -> str:
    message = _LINE_REFERENCE.sub("line N", message)
    message = _LENGTH.sub("", message)
    return " ".join(message.split())  # one line, whatever the tool wrapped


def relative(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        with contextlib.suppress(ValueError):  # outside the root: kept as given
            candidate = candidate.relative_to(root)
    return candidate.as_posix()


def parse_ruff(output: str, root: Path) -> list[Finding]:
    """`ruff check --output-format json`: one JSON array."""
    findings = []
    for item in json.loads(output or "[]"):
        location = item.get("location") or {}
        key = Key(
            "ruff",
            relative(item["filename"], root),
            item.get("code") or "syntax-error",
            normalize_message(item["message"]),
        )
        findings.append(Finding(key, int(location.get("row", 0)), int(location.get("column", 0))))
    return findings


def parse_mypy(output: str, root: Path) -> list[Finding]:
    """`mypy --output json`: one JSON object a line; notes belong to the error before them."""
    findings = []
    for raw in output.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        item = json.loads(raw)
        if item.get("severity") != "error":
            continue
        key = Key(
            "mypy",
            relative(item["file"], root),
            item.get("code") or "error",
            normalize_message(item["message"]),
        )
        findings.append(Finding(key, int(item.get("line") or 0), int(item.get("column") or 0) + 1))
    return findings


def count(findings: Iterable[Finding]) -> Counter[Key]:
    return Counter(finding.key for finding in findings)


def read_baseline(text: str) -> Counter[Key]:
    recorded: Counter[Key] = Counter()
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t", 4)
        if len(parts) != 5 or not parts[0].isdigit():
            raise ValueError(f"lint baseline line {number} is not `count<TAB>tool<TAB>path<TAB>code<TAB>message`")
        recorded[Key(parts[1], parts[2], parts[3], parts[4])] += int(parts[0])
    return recorded


def render_baseline(current: Mapping[Key, int]) -> str:
    lines = [key.line(n) for key, n in sorted(current.items()) if n > 0]
    return HEADER + "".join(line + "\n" for line in lines)


@dataclass(slots=True)
class Comparison:
    new: Counter[Key] = field(default_factory=Counter)  # occurrences beyond the recorded count
    fixed: Counter[Key] = field(default_factory=Counter)  # recorded occurrences no longer found

    @property
    def ok(self) -> bool:
        return not self.new


def compare(baseline: Mapping[Key, int], current: Mapping[Key, int]) -> Comparison:
    result = Comparison()
    for key in set(baseline) | set(current):
        allowed = 0 if key.strict else baseline.get(key, 0)
        difference = current.get(key, 0) - allowed
        if difference > 0:
            result.new[key] = difference
        elif difference < 0:
            result.fixed[key] = -difference
    return result


def growth_by_code(baseline: Mapping[Key, int], current: Mapping[Key, int]) -> dict[tuple[str, str], tuple[int, int]]:
    """Rule codes with more findings now than recorded: (tool, code) -> (recorded, now)."""
    before: Counter[tuple[str, str]] = Counter()
    after: Counter[tuple[str, str]] = Counter()
    for key, n in baseline.items():
        before[key.tool, key.code] += n
    for key, n in current.items():
        after[key.tool, key.code] += n
    return {code: (before[code], after[code]) for code in sorted(after) if after[code] > before[code]}


def split_strict(counts: Mapping[Key, int]) -> tuple[int, int]:
    """(total, of which in the strict packages)."""
    total = sum(counts.values())
    return total, sum(n for key, n in counts.items() if key.strict)


def moved_paths(comparison: Comparison) -> list[tuple[str, str]]:
    """(old path, new path) pairs where a new finding matches a fixed one but for its path:
    a module moved into a subpackage, whose baseline entries then need `make lint-baseline`."""
    gone: dict[tuple[str, str, str], set[str]] = {}
    for key in comparison.fixed:
        gone.setdefault((key.tool, key.code, key.message), set()).add(key.path)
    pairs = set()
    for key in comparison.new:
        for old in gone.get((key.tool, key.code, key.message), ()):
            if Path(old).name == Path(key.path).name:
                pairs.add((old, key.path))
    return sorted(pairs)


def report(comparison: Comparison, current: Sequence[Finding], recorded: Mapping[Key, int]) -> list[str]:
    lines: list[str] = []
    now = count(current)
    total, strict = split_strict(now)
    lines.append(f"lint: {total} findings ({strict} in the strict packages: {', '.join(STRICT_PREFIXES)})")
    if comparison.new:
        new_total, new_strict = split_strict(comparison.new)
        lines.append(f"lint: {new_total} NEW findings not in lint-baseline.txt ({new_strict} in the strict packages):")
        for key in sorted(comparison.new, key=lambda k: (not k.strict, k)):
            recorded_n = recorded.get(key, 0)
            label = "strict " if key.strict else ""
            lines.append(f"  {label}{key.tool} {key.code}: {now[key]} found, {recorded_n} recorded")
            for finding in current:
                if finding.key == key:
                    lines.append(f"    {finding.where()}")
    moved = moved_paths(comparison)
    if moved:
        lines.append("lint: these look moved, not new (the same findings are gone from another path):")
        lines.extend(f"  {old} -> {new}" for old, new in moved)
        lines.append("lint: if so, `make lint-baseline` records them under the new paths")
    if comparison.fixed:
        fixed_total, fixed_strict = split_strict(comparison.fixed)
        lines.append(
            f"lint: {fixed_total} baseline findings are fixed ({fixed_strict} in the strict packages); "
            "run `make lint-baseline` to shrink lint-baseline.txt so they stay fixed"
        )
    return lines


def tool_path(name: str, given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"lint: {name} is not installed (pip install -e '.[test]')")
    return found


def run(command: Sequence[str], root: Path, ok_codes: Iterable[int]) -> str:
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode not in set(ok_codes):
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"lint: `{' '.join(command)}` failed with exit code {done.returncode}")
    return done.stdout


def collect(root: Path, ruff: str, mypy: str) -> list[Finding]:
    findings = parse_ruff(
        run([ruff, "check", "--output-format", "json", "--exit-zero", "--no-cache", "."], root, [0]), root
    )
    # mypy: 0 clean, 1 findings, 2 could not check (a crash or a config error) and so fails here.
    findings += parse_mypy(run([mypy, "--output", "json"], root, [0, 1]), root)
    return findings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="rewrite the baseline with today's findings")
    parser.add_argument("--allow-growth", action="store_true", help="let --update record more findings of a rule")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--ruff", help="the ruff executable (default: beside this python)")
    parser.add_argument("--mypy", help="the mypy executable (default: beside this python)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    root = args.root.resolve()
    findings = collect(root, tool_path("ruff", args.ruff), tool_path("mypy", args.mypy))
    current = count(findings)
    recorded = read_baseline(args.baseline.read_text()) if args.baseline.exists() else Counter[Key]()
    comparison = compare(recorded, current)

    if args.update:
        strict = sorted(key for key in current if key.strict)
        if strict:
            print("lint: the strict packages take no baseline; fix these first:")
            for key in strict:
                print(f"  {key.tool} {key.path} {key.code}: {key.message}")
            return 1
        grown = growth_by_code(recorded, current) if args.baseline.exists() else {}
        if grown and not args.allow_growth:
            print("lint: refusing to grow the baseline; fix these or pass --allow-growth:")
            for (tool, code), (before, after) in grown.items():
                print(f"  {tool} {code}: {before} recorded, {after} now")
            return 1
        args.baseline.write_text(render_baseline(current))
        total, strict = split_strict(current)
        before_total = sum(recorded.values())
        print(
            f"lint: {os.path.relpath(args.baseline)} records {total} findings"
            f" ({strict} in the strict packages), was {before_total}"
        )
        return 0

    for line in report(comparison, findings, recorded):
        print(line)
    print(f"lint: {time.monotonic() - started:.1f}s")
    return 0 if comparison.ok else 1


if __name__ == "__main__":
    sys.exit(main())
