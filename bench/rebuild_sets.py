"""Rebuild the labelled sets' item files (kept outside the repository) from their public sources.

Only links and labels are committed (tests/data/NAME.tsv); each item's text is the outlet's
and lives beside the checkout, where bench/eval_classify.py reads it (its ITEMS table:
../fresh/items.jsonl, ../zh1/items.jsonl, ...). tests/data/NAME-sources.tsv says where each
item came from: a daily file of feed entries in rumca-js/RSS-Link-Database-YEAR, the
irisfeng/ai36kr database dump, or (fresh5-fresh9) a daily file of one of three RSS archives
(bench/rebuild_archives.py). This script reads those from git clones (`git clone --bare
https://github.com/owner/name.git MIRRORS/owner+name/repo`; nothing here touches the
network), finds every labelled link and writes the set's items. A set some of whose links
are not found is not written: a partial file would train a different model in silence.

    .venv/bin/python bench/rebuild_sets.py --list-sources  # what to clone, what is still missing
    .venv/bin/python bench/rebuild_sets.py                 # every set
    .venv/bin/python bench/rebuild_sets.py --only zh1      # one set (comma-separated for more)
    .venv/bin/python bench/rebuild_sets.py --mirrors /work/.mirror --out-dir /work
    .venv/bin/python bench/rebuild_sets.py --only fresh9 --out-dir /tmp/r --check-against /work
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import eval_classify as ev  # noqa: E402
from bench.rebuild_archives import ARCHIVES  # noqa: E402
from bench.rebuild_check import check_items  # noqa: E402
from bench.rebuild_match import Entry, Source, find_entry, read_sources  # noqa: E402
from bench.rebuild_sources import list_sources  # noqa: E402

DATA = ROOT / "tests" / "data"
DUMP = ("irisfeng/ai36kr", "backup/tidewire-2026-08-22.jsonl.gz")   # zh1-zh3's one source file
# set -> (its sources file, where eval_classify reads its items: a path under --out-dir)
SETS = {"fresh-dev": ("freshset-sources.tsv", ("fresh", "items.jsonl")),
        "fresh-test": ("freshset-sources.tsv", ("fresh", "held", "items-test.jsonl")),
        "fresh2": ("fresh2-sources.tsv", ("fresh2", "items.jsonl")),
        "fresh3": ("fresh3-sources.tsv", ("fresh3", "items.jsonl")),
        "fresh4": ("fresh4-sources.tsv", ("fresh4", "items.jsonl")),
        "zh1": ("zh1-sources.tsv", ("zh1", "items.jsonl")),
        "zh2": ("zh2-sources.tsv", ("zh2", "items.jsonl")),
        "zh3": ("zh3-sources.tsv", ("zh3", "items.jsonl")),
        **{f"fresh{n}": (f"fresh{n}-sources.tsv", (f"fresh{n}", "items.jsonl")) for n in range(5, 10)}}


class MissingSource(Exception):
    """A mirror or a file in it that is not on this machine (the message says how to get it)."""


class Mirrors:
    """Read-only access to the git clones, one file's entries at a time."""

    def __init__(self, root: Path):
        self.root = root
        self._cache: dict[tuple[str, str], list[Entry]] = {}

    def entries(self, repo: str, path: str) -> list[Entry]:
        if (repo, path) not in self._cache:
            blob = self._blob(repo, path)
            if repo in ARCHIVES:
                self._cache[repo, path] = ARCHIVES[repo](blob)
            elif path.endswith(".gz"):
                self._cache[repo, path] = tidewire_entries(gzip.decompress(blob))
            else:
                self._cache[repo, path] = rumca_entries(blob)
        return self._cache[repo, path]

    def folder(self, repo: str) -> Path:
        return self.root / repo.replace("/", "+")

    def where(self, repo: str, path: str) -> str | None:
        """"mirror" or "saved" for a file this machine holds (as _blob would read it), else None."""
        git_dir, saved = self.folder(repo) / "repo", self.folder(repo) / "files" / path
        if git_dir.is_dir() and _git_commit_with(git_dir, path):
            return "mirror"
        return "saved" if saved.is_file() else None

    def newest(self, repo: str) -> str | None:
        """The date of the clone's newest commit; None when the repository was not cloned."""
        git_dir = self.folder(repo) / "repo"
        if not git_dir.is_dir():
            return None
        return subprocess.run(["git", "--git-dir", str(git_dir), "log", "-1", "--format=%cs"],
                              capture_output=True, text=True).stdout.strip() or "?"

    def _blob(self, repo: str, path: str) -> bytes:
        """The file from the git mirror (its HEAD, else the newest commit of any branch that
        has it: the dump sits on a `snapshot` branch), else from MIRRORS/owner+name/files/PATH
        (files saved one by one, for a repository too large to clone, or a clone that is old)."""
        folder = self.folder(repo)
        git_dir, saved = folder / "repo", folder / "files" / path
        blob = _git_file(git_dir, path) if git_dir.is_dir() else None
        if blob is None and saved.is_file():
            blob = saved.read_bytes()
        if blob is not None:
            return blob
        if not git_dir.is_dir():
            raise MissingSource(f"no clone of {repo} at {git_dir}: git clone --bare "
                                f"https://github.com/{repo}.git {git_dir}, or save the files the "
                                f"sources name under {folder}/files/")
        raise MissingSource(f"{repo}: {path} is not in its clone (its newest commit is of "
                            f"{self.newest(repo)}); download https://raw.githubusercontent.com/"
                            f"{repo}/HEAD/{path} to {saved}")


def _git_commit_with(git_dir: Path, path: str) -> str | None:
    """HEAD when it holds PATH, else the newest commit on any branch that holds it, else None."""
    git = ["git", "--git-dir", str(git_dir)]
    if subprocess.run(git + ["cat-file", "-e", f"HEAD:{path}"], capture_output=True).returncode == 0:
        return "HEAD"
    for commit in subprocess.run(git + ["log", "--all", "--format=%H", "--", path],
                                 capture_output=True, text=True).stdout.split():
        if subprocess.run(git + ["cat-file", "-e", f"{commit}:{path}"], capture_output=True).returncode == 0:
            return commit
    return None


def _git_file(git_dir: Path, path: str) -> bytes | None:
    """PATH at HEAD, else at the newest commit on any branch that holds it."""
    commit = _git_commit_with(git_dir, path)
    if commit is None:
        return None
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
                          capture_output=True, check=True).stdout


def rumca_entries(blob: bytes) -> list[Entry]:
    """A day's feed entries as the RSS link database stores them (a JSON list)."""
    return [Entry(link=e.get("link") or "", title=e.get("title") or "",
                  summary=e.get("description") or "", content_html=e.get("content") or None,
                  published=e.get("date_published") or "", outlet="")
            for e in json.loads(blob)]


def tidewire_entries(text: bytes) -> list[Entry]:
    """The aggregator's posts and flashes from its dump (one {table, row} a line). A flash
    has no title field: its content is "headline — text", as the site shows it."""
    entries = []
    for line in text.decode("utf-8").splitlines():
        record = json.loads(line)
        row = record["row"]
        if record["table"] == "posts":
            title, summary = row.get("title") or "", row.get("summary") or ""
        elif record["table"] == "flashes":
            title, _, summary = (row.get("content") or "").partition(" — ")
        else:
            continue
        entries.append(Entry(link=row.get("url") or "", title=title, summary=summary,
                             content_html=None, published=row.get("created_at") or "",
                             outlet=row.get("source") or ""))
    return entries


def item(source: Source, entry: Entry) -> dict:
    """One line of the set's items file: the link exactly as labelled, the entry's text. The
    archives' sets (fresh5 on) keep their collector's fields: id (sha1 of the link), the
    outlet as `source`, the file as `origin`."""
    if source.repo in ARCHIVES:
        return {"id": hashlib.sha1(source.link.encode()).hexdigest(), "link": source.link,
                "title": entry.title, "published": entry.published, "source": entry.outlet,
                "summary": entry.summary, "origin": f"{source.repo}:{source.path}"}
    return {"link": source.link, "title": entry.title, "summary": entry.summary,
            "content_html": entry.content_html, "outlet": source.outlet or entry.outlet,
            "published": source.published or entry.published}


def rebuild(name: str, mirrors: Mirrors) -> tuple[list[dict], list[str]]:
    """The set's items in label order, and what could not be found (one line each)."""
    sources_file, _ = SETS[name]
    sources = read_sources(DATA / sources_file, default=DUMP)
    items, problems = [], []
    for link, _label, _reason in ev.load_labels(ev.SETS[name]):
        source = sources.get(link)
        if source is None:
            problems.append(f"{link}: not in {sources_file}")
            continue
        try:
            entry = find_entry(source, mirrors.entries(source.repo, source.path))
        except MissingSource as e:
            problems.append(str(e))
            continue
        if entry is None:
            problems.append(f"{link}: no entry in {source.repo} {source.path}")
        else:
            items.append(item(source, entry))
    return items, problems


def needed_files(names: list[str]) -> dict[str, dict[str, list[str]]]:
    """repo -> path -> the sets drawing on that file, for the named sets' labelled links."""
    needs: dict[str, dict[str, list[str]]] = {}
    for name in names:
        sources = read_sources(DATA / SETS[name][0], default=DUMP)
        for link, _label, _reason in ev.load_labels(ev.SETS[name]):
            if link in sources:
                sets = needs.setdefault(sources[link].repo, {}).setdefault(sources[link].path, [])
                sets += [name] if name not in sets else []
    return needs


def out_base() -> Path:
    """Where the sets' folders go: beside the main checkout, next to shared/ (a worktree
    lives one level deeper), as eval_classify looks for them."""
    return next((p for p in ROOT.parents[:2] if (p / "shared").is_dir()), ROOT.parent)


def write_items(items: list[dict], path: Path, replace: bool = False) -> bool:
    """Write the set's items; an existing, different file is kept unless `replace`: it
    may be the collected original (the labels' reference), which a rebuild must not lose."""
    if path.resolve().is_relative_to(ROOT):
        raise SystemExit(f"rebuild_sets: {path} is inside the repository; the outlets' text stays out")
    text = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    if path.exists() and not replace and path.read_text(encoding="utf-8") != text:
        print(f"rebuild_sets: {path} exists and differs from the rebuilt items; kept "
              "(--replace to overwrite, --out-dir to write elsewhere)", file=sys.stderr)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help=f"sets to rebuild, comma-separated ({', '.join(SETS)}); default all")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                    help="the git clones: FOLDER/owner+name/repo (default /work/.mirror)")
    ap.add_argument("--out-dir", type=Path, default=out_base(),
                    help="where the sets' folders (fresh/, zh1/, ...) go (default: beside the main checkout)")
    ap.add_argument("--check-against", type=Path, metavar="DIR",
                    help="compare each set's rebuilt items, link by link, with DIR's copy (e.g. /work)")
    ap.add_argument("--replace", action="store_true",
                    help="overwrite an existing items file that differs from the rebuilt one")
    ap.add_argument("--list-sources", action="store_true",
                    help="list the repositories and files the sets are rebuilt from, and which are not "
                         "on this machine yet (exit 1 while any is missing); writes nothing")
    args = ap.parse_args(argv)
    names = ev.set_names(args.only) if args.only else list(SETS)
    unknown = [n for n in names if n not in SETS]
    if unknown:
        print(f"rebuild_sets: --only takes {', '.join(SETS)}, not {unknown[0]!r}", file=sys.stderr)
        return 2
    mirrors, failed = Mirrors(args.mirrors), 0
    if args.list_sources:
        return list_sources(needed_files(names), mirrors, names)
    for name in names:
        failed += not rebuild_one(name, mirrors, args.out_dir, args.check_against, args.replace)
    return 1 if failed else 0


def rebuild_one(name: str, mirrors: Mirrors, out_dir: Path, check_against: Path | None = None,
                replace: bool = False) -> bool:
    """Rebuild, check (when asked: the items found so far, whole or not) and write one set."""
    items, problems = rebuild(name, mirrors)
    same = check_items(name, items, check_against.joinpath(*SETS[name][1])) if check_against else True
    return write_whole(name, items, problems, out_dir.joinpath(*SETS[name][1]), replace) and same


def write_whole(name: str, items: list[dict], problems: list[str], path: Path,
                replace: bool = False) -> bool:
    labelled = len(items) + len(problems)
    if problems:
        print(f"rebuild_sets: {name}: {len(items)} / {labelled} labelled links found; not written. "
              f"Missing ({len(problems)}):", file=sys.stderr)
        for line in sorted(set(problems)):
            print(f"  {line}", file=sys.stderr)
        return False
    if not write_items(items, path, replace):
        return False
    print(f"rebuild_sets: {name}: {len(items)} / {labelled} labelled links found; wrote {path}")
    return True


if __name__ == "__main__":
    sys.exit(main())
