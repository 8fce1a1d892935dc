"""Shared pieces of the tests of rebuilding the labelled sets' items from git mirrors
(test_rebuild_*.py): `mirror` makes a bare mirror with git in the test's folder, as
fetch leaves one."""
from __future__ import annotations

import subprocess


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args], cwd=cwd,
                   check=True, capture_output=True)


def mirror(root, repo, files, branch_files=None):
    """A bare mirror as fetch leaves it: ROOT/owner+name/repo; `branch_files` only on a
    `snapshot` branch, not at HEAD."""
    work = root / "work" / repo.replace("/", "+")
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main")
    _commit(work, files, "day")
    if branch_files:
        _git(work, "checkout", "-q", "-b", "snapshot")
        _commit(work, branch_files, "backup")
        _git(work, "checkout", "-q", "main")
    _git(root, "clone", "-q", "--bare", str(work), str(root / "mirrors" / repo.replace("/", "+") / "repo"))


def _commit(work, files, message):
    for path, blob in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(blob)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)
