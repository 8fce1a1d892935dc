"""Comparing rebuilt items with a set's existing copy (bench/rebuild_sets.py --check-against).

What the classifier and its figures read must come out identical: title, summary (or
content_html), publication time and outlet. Each rebuilt item is looked up in the copy by
its link; a field that differs, or a link the copy lacks, is listed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

FIELDS = ("title", "summary", "content_html", "published", "source", "outlet")


def differences(items: list[dict], copy: dict[str, dict]) -> list[str]:
    """One line per rebuilt item that is not as the copy holds it."""
    lines = []
    for item in items:
        old = copy.get(item["link"])
        if old is None:
            lines.append(f"{item['link']}: not in the copy")
            continue
        changed = [f for f in FIELDS if f in item and item[f] != old.get(f)]
        if changed:
            lines.append(f"{item['link']}: " + "; ".join(
                f"{f} {old.get(f)!r} -> {item[f]!r}" for f in changed))
    return lines


def check_items(name: str, items: list[dict], path: Path) -> bool:
    """Print how many of the set's rebuilt items match the copy at PATH; True when all do."""
    if not path.is_file():
        print(f"rebuild_sets: {name}: no copy to check against at {path}", file=sys.stderr)
        return False
    with path.open(encoding="utf-8") as f:
        copy = {row["link"]: row for row in map(json.loads, f)}
    lines = differences(items, copy)
    shown = [f for f in FIELDS if any(f in i for i in items)]
    print(f"rebuild_sets: {name}: check against {path}: {len(items) - len(lines)} of {len(items)} "
          f"rebuilt items identical ({', '.join(shown)})")
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    return not lines
