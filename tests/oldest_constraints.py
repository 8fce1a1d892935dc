"""Pins for `make test-oldest`: each runtime dependency at the lower bound pyproject.toml
declares, as a pip constraints file on stdout (`name==bound`, one a line).

A dependency without a `>=` bound, or a bound no release carries, stops the install there:
an untested floor is what let users keep releases the code had outgrown."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lower_bounds(dependencies: list[str]) -> list[str]:
    """`aiohttp>=3.10.11` -> `aiohttp==3.10.11`; SystemExit naming a dependency with none."""
    pins = []
    for spec in dependencies:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", spec)
        if not m:
            raise SystemExit(f"oldest: {spec!r} in pyproject.toml declares no >= lower bound")
        pins.append(f"{m[1]}=={m[2]}")
    return pins


def main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    sys.stdout.write("".join(f"{pin}\n" for pin in lower_bounds(project["dependencies"])))


if __name__ == "__main__":
    main()
