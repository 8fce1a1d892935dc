"""Run the benchmarks: every one in turn, or those named.

    .venv/bin/python -m bench                 # all, full size (several minutes)
    .venv/bin/python -m bench poll --quick    # one, smoke-sized
    .venv/bin/python -m bench lookups --stories 200000
    .venv/bin/python -m bench upgrade         # named only: not among "all"

Arguments after the names go to each benchmark. bench/bench_parse.py (the parse stage,
owned separately) runs first, as `parse`, when it exists.
"""
from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

NAMES = ["poll", "backfill", "freshness", "lookups", "fanout", "footprint", "service", "outbox",
         "condense"]
OPTIONAL = ["parse"]          # run when its module is present
# Run only when named: `upgrade` copies the 1M-story store (2.2 GB) to upgrade the copy.
ON_REQUEST = ["upgrade"]
OUT = Path(__file__).parent / "out"
QUICK_PARSE = ["--runs", "2", "--entries", "20"]


def available() -> list[str]:
    here = Path(__file__).parent
    return [n for n in OPTIONAL if (here / f"bench_{n}.py").exists()] + NAMES


def run_one(name: str, argv: list[str]) -> dict:
    module = importlib.import_module(f"bench.bench_{name}")
    if inspect.signature(module.main).parameters:
        result = module.main(argv)
    else:   # a main() that reads sys.argv itself
        saved, sys.argv = sys.argv, [f"bench/bench_{name}.py", *argv]
        try:
            result = module.main()
        finally:
            sys.argv = saved
    return result if isinstance(result, dict) else {"exit": result}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Names come first; everything from the first flag on is for the benchmarks.
    cut = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, rest = argv[:cut], argv[cut:]
    known = available() + ON_REQUEST
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"bench: unknown benchmark {unknown[0]!r}; choose from {', '.join(known)}",
              file=sys.stderr)
        return 2
    results = {}
    for name in names or available():
        # bench_parse has its own flags (no --quick): a smaller run stands in for it.
        args = rest if name != "parse" else (QUICK_PARSE if "--quick" in rest else [])
        results[name] = run_one(name, args)
    OUT.mkdir(exist_ok=True)
    (OUT / "last.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
