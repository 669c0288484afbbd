"""Benchmark figures: each measured value beside its target, printed as one table and saved as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str  # in words: "<= 1.05 x minimum", "0", "< 300 MB"; "-" when the figure is informative
    met: bool | None  # None: no target

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def peak_rss_mb() -> float:
    """This process's own peak resident set in MB: VmHWM of /proc/self/status. Not ru_maxrss: Linux
    carries that over fork and exec, so a process the bench starts would report the bench's size
    (the sync worker "peaked" at 610 and 971 MB at 100,000 invoices while it stayed near 120 MB)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status: the benchmarks measure memory on Linux only")


def at_most(name: str, value: float, unit: str, limit: float, target: str) -> Figure:
    return Figure(name, value, unit, target, value <= limit)


def at_least(name: str, value: float, unit: str, floor: float, target: str) -> Figure:
    return Figure(name, value, unit, target, value >= floor)


def exactly(name: str, value: float, unit: str, expected: float) -> Figure:
    return Figure(name, value, unit, f"= {expected:,}", value == expected)


def info(name: str, value: float, unit: str) -> Figure:
    return Figure(name, value, unit, "-", None)


def _value(figure: Figure) -> str:
    if isinstance(figure.value, int) or float(figure.value).is_integer():
        return f"{int(figure.value):,}"
    return f"{figure.value:,.2f}"


def table(figures: list[Figure], header: str) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs/benchmarks.md)."""
    lines = [header, "", "| figure | value | target | met |", "| --- | ---: | --- | --- |"]
    for figure in figures:
        met = "-" if figure.met is None else ("met" if figure.met else "NOT MET")
        lines.append(f"| {figure.name} | {_value(figure)} {figure.unit} | {figure.target} | {met} |")
    return "\n".join(lines)


def load(path: Path) -> list[Figure]:
    """The figures `save` wrote; none when there is no file yet."""
    if not path.exists():
        return []
    return [Figure(**item) for item in json.loads(path.read_text())]


def save(figures: list[Figure], path: Path) -> None:
    """Written whole then renamed, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps([f.to_json() for f in figures], indent=2) + "\n")
    scratch.replace(path)
