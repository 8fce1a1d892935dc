"""What the labelled sets' items are rebuilt from, and what of it this machine holds
(bench/rebuild_sets.py --list-sources).

A newcomer's first question on a fresh machine is which repositories to clone; the second,
once cloned, which files the clone lacks (a snapshot copied from elsewhere may end before
the set's last days). One paragraph per repository answers both: the sets drawing on it, how
many of its files, whether its snapshot is here, then each file that neither the snapshot
nor MIRRORS/owner+name/files/ holds, with where to save it.
"""
from __future__ import annotations

import sys


def repo_lines(repo: str, files: dict[str, list[str]], mirrors, order: list[str]) -> tuple[list[str], int]:
    """The repository's paragraph, and how many of its files are not here."""
    sets = [name for name in order if any(name in names for names in files.values())]
    newest = mirrors.newest(repo)
    state = (f"clone here (newest commit {newest})" if newest else
             f"not cloned: git clone --bare https://github.com/{repo}.git "
             f"{mirrors.folder(repo) / 'repo'} (or save just its files as below)")
    lines = [f"{repo} ({', '.join(sets)}): {len(files)} file{'s' * (len(files) != 1)}; {state}"]
    missing = sorted(path for path in files if mirrors.where(repo, path) is None)
    if missing:
        lines.append(f"  {len(missing)} not here: download each from "
                     f"https://raw.githubusercontent.com/{repo}/HEAD/PATH to "
                     f"{mirrors.folder(repo) / 'files'}/PATH")
        lines += [f"    {path} ({', '.join(files[path])})" for path in missing]
    return lines, len(missing)


def list_sources(needs: dict[str, dict[str, list[str]]], mirrors, order: list[str], out=None) -> int:
    """Print every repository's paragraph (its sets named in `order`) and a summary; 0 when
    every file is here, else 1."""
    out = out or sys.stdout
    total = missing = unfetched = 0
    for repo, files in needs.items():
        lines, lacking = repo_lines(repo, files, mirrors, order)
        print("\n".join(lines), file=out)
        total, missing = total + len(files), missing + lacking
        unfetched += mirrors.newest(repo) is None
    print(f"rebuild_sets: {total - missing} of {total} source files here "
          f"({len(needs)} repositories, {unfetched} not cloned, {missing} files to get)", file=out)
    return 1 if missing else 0
