"""Compiled hot modules (mypyc, Cython) against the pure-Python tree: an experiment for
the two missed targets of the performance issue (#7). The product ships pure Python; this
only measures what compiling would buy. docs/benchmarks.md, "Compiled modules", has the
figures and the verdict.

    .venv/bin/pip install -e '.[dev,native]'      # mypy (for mypyc), cython, setuptools
    .venv/bin/python -m bench.native_experiment [--tools cython,mypyc] [--runs 5]
        [--bench backfill,parse] [--check] [--tests] [--keep DIR]

Builds one copy of this tree per tool in a temporary directory (the files git knows or
would add: uncommitted edits included), compiles the hot modules there in place, and
never touches the source tree: an .so beside a .py shadows the .py, a trap for anyone
editing it. Then runs the benchmarks as child processes, one per tree, in rounds that
rotate the order of the trees (pure, cython, mypyc), so the shared machine's noise hits
them alike; medians over rounds and each round's ratio to the pure tree.

- backfill: what `bench backfill --source farm` measures, once per child (after a short
  warm-up run): bare feedparser.parse of the farm's 100 feeds, then parse, classify and
  store in the pipeline's order; the target is (classify + store + condense) <= 50% of
  bare feedparser.
- parse: bench/bench_parse.py's readers over its feed sets (generated RSS and Atom,
  tests/data, the real news items), `--parse-repeat` passes a child; the stretch target
  is the fast path >= 10x the feedparser path. Both trees' ratios are shown, and the
  compiled fast path against the pure tree's feedparser path of the same round (its own
  feedparser path gets a little faster too: the shared helpers are compiled).

What is compiled (`CYTHON`, `MYPYC`: the modules that carry the time in cProfile):
- Cython in pure-Python mode, the .py files unchanged, with annotation_typing=False:
  with annotations read as C types, a `dict[...]`-annotated local refuses a defaultdict
  (TypeError in feeds/entries.py), so annotations are ignored.
- mypyc needs modules that type-check, and trusts the types it infers. The modules here
  have 0-28 mypy errors each (mixins that use attributes of the class they are mixed
  into, attributes declared only in __slots__, Optional values known non-None); they are
  compiled with those error codes disabled (`MYPY_FLAGS`), with three decorators added
  in the copy only (`MYPYC_PATCHES`: Store, an interpreted class, inherits the compiled
  StoryStore and ClusterSearch; Scan's tally attributes are set outside __init__).
  feeds/classify.py and feeds/elements.py compile but fail at run time (a TypeError
  where mypy inferred a wrong type: `sum()` of floats typed int, a tuple typed
  (None, None)), so they stay out of MYPYC (`MYPYC_BROKEN`, built with --mypyc-all).

--check runs bench.same_parse, bench.same_classify and bench.same_store in each compiled
copy against HEAD (the copy is a git repository whose HEAD is the uncompiled, unpatched
copy): the pure modules as `git show` gives them against the compiled ones.
--tests runs the test suite (pytest -q) in each compiled copy (~3-5 minutes each; the
soak tests start `ainews run` through a shim in the copy's .venv/bin that runs the copy's
code). tests/test_packaging.py's package-data test fails in every compiled copy by
construction (an .so in a package folder is not package data); under mypyc
test_text.py's clean_line(None) fails too: mypyc checks the `str` annotation at run time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BACKFILL_MODULES = ["feeds/cluster.py", "feeds/event_match.py", "feeds/classify.py",
                    "feeds/gazetteer.py", "feeds/phrases.py", "feeds/learned.py",
                    "feeds/lexical.py", "feeds/scan.py", "storage/clusters.py",
                    "storage/candidates.py", "storage/stories.py"]
PARSE_MODULES = ["feeds/fastparse.py", "feeds/fast_entry.py", "feeds/fast_values.py",
                 "feeds/fast_dates.py", "feeds/htmlclean.py", "feeds/text.py",
                 "feeds/invisible.py", "feeds/urls.py", "feeds/entries.py", "feeds/elements.py",
                 "feeds/cdata.py"]
CYTHON = BACKFILL_MODULES + PARSE_MODULES
MYPYC_BROKEN = ["feeds/classify.py", "feeds/elements.py"]
MYPYC = [m for m in CYTHON if m not in MYPYC_BROKEN]
MYPY_FLAGS = ["--ignore-missing-imports", "--follow-imports=silent"] + [
    f"--disable-error-code={code}" for code in (
        "annotation-unchecked", "attr-defined", "var-annotated", "union-attr", "index",
        "has-type", "misc", "arg-type", "assignment", "call-overload", "func-returns-value")]
# (module, class, mypyc_attr arguments): in the compiled copy only, never the source tree
MYPYC_PATCHES = [("storage/clusters.py", "ClusterSearch", "allow_interpreted_subclasses=True"),
                 ("storage/stories.py", "StoryStore", "allow_interpreted_subclasses=True"),
                 ("feeds/scan.py", "Scan", "native_class=False")]
STAGES = ("feedparser", "parse", "classify", "store", "condense")
PARSE_SETS = ("Generated RSS", "Generated Atom", "tests/data", "Real news items")
READERS = ("feedparser path", "fast path (auto)", "feedparser.parse")


# -- building --------------------------------------------------------------------------

def copy_tree(dest: Path) -> Path:
    """This tree's files (tracked, and untracked but not ignored) copied to dest/tree,
    committed there as HEAD (the pure code, for the same_* checks), with dest/shared
    pointing at the shared corpus so the benchmarks find the real items."""
    from bench.bench_parse import ITEMS
    tree = dest / "tree"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], check=True, capture_output=True
                           ).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, tree / name)
    if ITEMS.exists():
        (dest / "shared").symlink_to(ITEMS.parents[2])
    git = ["git", "-C", str(tree), "-c", "user.name=bench", "-c", "user.email=bench@invalid",
           "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pure"], check=True)
    # tests/test_soak.py starts ROOT/.venv/bin/ainews: here, a shim running this copy's
    # code with this interpreter (not a copy or link of the venv)
    shim = tree / ".venv" / "bin" / "ainews"
    shim.parent.mkdir(parents=True)
    code = (f"import sys; sys.path.insert(0, {json.dumps(str(tree))}); "
            "from bot.cli import main; sys.exit(main())")
    shim.write_text(f"#!/bin/sh\nexec {PY} -c '{code}' \"$@\"\n")
    shim.chmod(0o755)
    return tree


def patch_for_mypyc(tree: Path) -> None:
    for path, cls, args in MYPYC_PATCHES:
        p = tree / path
        src = p.read_text(encoding="utf-8")
        src = src.replace("from __future__ import annotations\n",
                          "from __future__ import annotations\n\n"
                          "from mypy_extensions import mypyc_attr\n", 1)
        src, n = re.subn(rf"^class {cls}\b", f"@mypyc_attr({args})\nclass {cls}", src,
                         flags=re.M)
        if n != 1:
            raise SystemExit(f"native_experiment: class {cls} not found in {path}")
        p.write_text(src, encoding="utf-8")


def build(tool: str, tree: Path, modules: list[str]) -> dict:
    """Compile `modules` in place in `tree`; {"seconds", "log", "compiled": [...]}."""
    t0 = time.perf_counter()
    if tool == "cython":
        cmd = [PY, "-m", "Cython.Build.Cythonize", "-i", "-3", "-j", "2",
               "-X", "annotation_typing=False", *modules]
    else:
        patch_for_mypyc(tree)
        cmd = [PY, "-m", "mypyc", *MYPY_FLAGS, *modules]
    out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    (tree.parent / f"build-{tool}.log").write_text(out.stdout + out.stderr)
    if out.returncode:
        raise SystemExit(f"native_experiment: {tool} build failed, see "
                         f"{tree.parent / f'build-{tool}.log'}:\n{out.stderr[-3000:]}")
    if tool == "cython":   # the generated C is not needed to run, and is no package data
        for m in modules:
            (tree / m).with_suffix(".c").unlink(missing_ok=True)
    return {"seconds": time.perf_counter() - t0, "compiled": compiled_in(tree, modules)}


def compiled_in(tree: Path, modules: list[str]) -> list[str]:
    """The modules that import from an extension module in `tree` (checked in a child)."""
    names = [m[:-3].replace("/", ".") for m in modules]
    code = ("import importlib, json; print(json.dumps([n for n in %r if "
            "importlib.import_module(n).__file__.endswith('.so')]))" % names)
    out = subprocess.run([PY, "-c", code], cwd=tree, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


# -- the children: one measurement in the tree they run in ------------------------------

def child_backfill(feeds_n: int) -> dict:
    from bench.bench_backfill import baseline, feed_bytes, one_run
    feeds = feed_bytes(feeds_n)
    one_run(feeds[:5])                      # warm-up: imports, caches, first-call costs
    spent = {"feedparser": baseline(feeds)}
    run = one_run(feeds)
    spent.update(run["spent"])
    return {"cpu": spent, "entries": run["entries"], "strategy": run["strategy"]}


def child_parse(repeat: int) -> dict:
    from bench.bench_parse import (DATA, FEED_URL, corpus_feeds, measure, readable)
    from feeds.parser import parse_feed_with
    from tests.fakes.feedserver import make_atom, make_entries, make_rss
    sets = {"Generated RSS": [make_rss("Generated RSS", make_entries(50, seed=1,
                                                                     paragraphs=22))],
            "Generated Atom": [make_atom("Generated Atom", make_entries(50, seed=2,
                                                                       paragraphs=22))],
            "tests/data": readable(sorted(DATA.glob("*.xml"))),
            "Real news items": list(corpus_feeds().values())}
    out = {}
    for name, bodies in sets.items():
        if not bodies:
            continue
        entries = sum(len(parse_feed_with("feedparser", b, feed_url=FEED_URL).stories)
                      for b in bodies)
        for b in bodies:                    # warm-up
            parse_feed_with("auto", b, feed_url=FEED_URL)
        cpu = {k: v[0] for k, v in measure(bodies, 1, repeat).items()}
        out[name] = {"entries": entries, "cpu": cpu}
    return out


def child(args) -> None:
    result = child_backfill(args.feeds) if args.child == "backfill" else child_parse(
        args.parse_repeat)
    print(json.dumps(result))


def run_child(tree: Path, which: str, args) -> dict:
    cmd = [PY, "-m", "bench.native_experiment", "--child", which, "--feeds", str(args.feeds),
           "--parse-repeat", str(args.parse_repeat)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"native_experiment: child {which} in {tree} failed:\n"
                         f"{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the comparison ------------------------------------------------------------------

def rounds(trees: dict[str, Path], which: str, args) -> dict[str, list[dict]]:
    names = list(trees)
    got: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(args.runs):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            got[name].append(run_child(trees[name], which, args))
        print(f"  {which}: round {i + 1} of {args.runs} done ({', '.join(order)})",
              flush=True)
    return got


def after_share(r: dict) -> float:
    c = r["cpu"]
    return (c["classify"] + c["store"] + c["condense"]) / c["feedparser"]


def report_backfill(got: dict[str, list[dict]]) -> dict:
    pure = got["pure"]
    print(f"\nBackfill, generated farm ({pure[0]['entries']} entries): CPU seconds, medians "
          f"of {len(pure)} rounds; (x) = median of each round's ratio to the pure tree")
    names = list(got)
    print(f"  {'stage':42}" + "".join(f"{n:>22}" for n in names))
    table = {}
    for stage in STAGES + ("after parsing / bare feedparser",):
        cells = []
        for n in names:
            if stage in STAGES:
                vals = [r["cpu"][stage] for r in got[n]]
                ratios = [r["cpu"][stage] / p["cpu"][stage] if p["cpu"][stage] else 0.0
                          for r, p in zip(got[n], pure)]
                text = f"{median(vals):.3f} s"
            else:
                vals = [after_share(r) for r in got[n]]
                ratios = [after_share(r) / after_share(p) for r, p in zip(got[n], pure)]
                text = f"{100 * median(vals):.0f}%"
            if n != "pure":
                text += f" (x {median(ratios):.2f})"
            cells.append(text)
            table.setdefault(stage, {})[n] = {"median": median(vals),
                                              "ratio_to_pure": median(ratios)}
        print(f"  {stage:42}" + "".join(f"{c:>22}" for c in cells))
    for n in names:
        shares = ", ".join(f"{100 * after_share(r):.0f}%" for r in got[n])
        print(f"  {n}: after parsing / feedparser per round: {shares}")
    return table


def report_parse(got: dict[str, list[dict]]) -> dict:
    pure = got["pure"]
    names = list(got)
    print(f"\nParse: fast path / feedparser path (entries per CPU-second ratio), medians of "
          f"{len(pure)} rounds; [vs pure fp] = the compiled fast path against the pure "
          "tree's feedparser path in the same round; (x) = fast path CPU against pure's")
    print(f"  {'feeds':22}" + "".join(f"{n:>34}" for n in names))
    table = {}
    for s in PARSE_SETS:
        if s not in pure[0]:
            continue
        cells = []
        for n in names:
            rs = got[n]
            own = [r[s]["cpu"]["feedparser path"] / r[s]["cpu"]["fast path (auto)"]
                   for r in rs]
            vs_pure = [p[s]["cpu"]["feedparser path"] / r[s]["cpu"]["fast path (auto)"]
                       for r, p in zip(rs, pure)]
            fast = [r[s]["cpu"]["fast path (auto)"] / p[s]["cpu"]["fast path (auto)"]
                    for r, p in zip(rs, pure)]
            fp = [r[s]["cpu"]["feedparser path"] / p[s]["cpu"]["feedparser path"]
                  for r, p in zip(rs, pure)]
            ms = 1000 * median(r[s]["cpu"]["fast path (auto)"] for r in rs)
            text = f"{median(own):.1f}x, {ms:.1f} ms"
            if n != "pure":
                text += f" [{median(vs_pure):.1f}x] (x {median(fast):.2f})"
            cells.append(text)
            table.setdefault(s, {})[n] = {"ratio": median(own), "vs_pure_fp": median(vs_pure),
                                          "fast_ms": ms, "fast_x": median(fast),
                                          "feedparser_path_x": median(fp),
                                          "entries": rs[0][s]["entries"]}
        print(f"  {s:22}" + "".join(f"{c:>34}" for c in cells))
    for n in names[1:]:
        print(f"  {n}: feedparser path CPU against pure's: " + ", ".join(
            f"{s} x {table[s][n]['feedparser_path_x']:.2f}" for s in table))
    return table


CHECKS = (["bench.same_parse", "HEAD"], ["bench.same_classify", "HEAD"],
          ["bench.same_store", "HEAD"])


def checks(tree: Path, name: str) -> dict:
    out = {}
    for check in CHECKS:
        t0 = time.perf_counter()
        r = subprocess.run([PY, "-m", *check], cwd=tree, capture_output=True, text=True)
        last = (r.stdout.strip().splitlines() or [""])[-1]
        out[check[0]] = {"exit": r.returncode, "last": last,
                         "seconds": round(time.perf_counter() - t0)}
        print(f"  {name}: {' '.join(check)}: exit {r.returncode}: {last}", flush=True)
        if r.returncode:
            print(r.stdout[-2000:] + r.stderr[-2000:])
    return out


def tests(tree: Path, name: str) -> dict:
    r = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tree,
                       capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
    print(f"  {name}: pytest exit {r.returncode}: {lines[-1] if lines else ''}", flush=True)
    for ln in failed[:20]:
        print(f"    {ln}")
    return {"exit": r.returncode, "summary": lines[-1] if lines else "", "failed": failed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.native_experiment",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--tools", default="cython,mypyc", help="cython, mypyc or both")
    ap.add_argument("--bench", default="backfill,parse")
    ap.add_argument("--runs", type=int, default=5, help="rounds (each tree once a round)")
    ap.add_argument("--feeds", type=int, default=100, help="farm feeds (backfill)")
    ap.add_argument("--parse-repeat", type=int, default=3, help="passes a parse child")
    ap.add_argument("--mypyc-all", action="store_true",
                    help="mypyc also compiles MYPYC_BROKEN (fails at run time)")
    ap.add_argument("--check", action="store_true", help="same_parse/classify/store HEAD")
    ap.add_argument("--tests", action="store_true", help="pytest in each compiled copy")
    ap.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    ap.add_argument("--child", choices=("backfill", "parse"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    tools = [t for t in args.tools.split(",") if t]
    base = args.keep or Path(tempfile.mkdtemp(prefix="ainews-native-"))
    trees: dict[str, Path] = {"pure": ROOT}
    result: dict = {"builds": {}}
    try:
        for tool in tools:
            modules = CYTHON if tool == "cython" else (CYTHON if args.mypyc_all else MYPYC)
            tree = copy_tree(base / tool)
            built = build(tool, tree, modules)
            missing = sorted(set(m[:-3].replace("/", ".") for m in modules)
                             - set(built["compiled"]))
            print(f"{tool}: {len(built['compiled'])} of {len(modules)} modules compiled in "
                  f"{built['seconds']:.0f} s ({tree})" + (f"; not: {missing}" if missing
                                                          else ""), flush=True)
            result["builds"][tool] = {**built, "modules": modules}
            trees[tool] = tree
        if args.check or args.tests:
            print("\nEquivalence in the compiled copies:")
            for tool in tools:
                if args.check:
                    result.setdefault("checks", {})[tool] = checks(trees[tool], tool)
                if args.tests:
                    result.setdefault("tests", {})[tool] = tests(trees[tool], tool)
        for which in [b for b in args.bench.split(",") if b]:
            got = rounds(trees, which, args)
            result[which] = (report_backfill if which == "backfill" else report_parse)(got)
            result[which + "_raw"] = got
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "native.json").write_text(json.dumps(result, indent=1, default=str))
        print(f"\nFigures: {out / 'native.json'}; load average now "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
