"""What a non-editable install (`pip install .`, as the Dockerfile runs it) ships: every
data file the code reads, a Docker build context holding every file the build needs, and
dependency bounds no older than what the code calls."""
from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from bot.config import Settings
from tests.oldest_constraints import lower_bounds

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def package_files(package: str) -> list[str]:
    """Files under a package that are not Python source or caches, relative to ROOT."""
    return [str(p.relative_to(ROOT)) for p in sorted((ROOT / package).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".py", ".pyc")]


def docker_copied() -> set[str]:
    """The sources of the Dockerfile's COPY lines (the build context's top-level names)."""
    found = set()
    for line in DOCKERFILE.splitlines():
        if m := re.match(r"COPY\s+(.+)\s+\S+$", line.strip()):
            found.update(Path(src).parts[0] for src in m[1].split())
    return found


def test_every_data_file_in_the_packages_is_installed():
    """A file the package-data patterns miss is absent from the Docker image: a missing
    strategy_model.json stops `ainews run` at start-up."""
    packages = PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    patterns = PROJECT["tool"]["setuptools"]["package-data"]
    data = [f for p in packages for f in package_files(p.rstrip("*"))]
    assert data, "no data files found: the check would prove nothing"
    for path in data:
        package, _, rest = path.partition("/")
        assert any(fnmatch.fnmatch(rest, pat) for pat in patterns.get(package, [])), path


def test_the_docker_build_gets_every_file_the_build_reads():
    needed = {"pyproject.toml", PROJECT["project"]["readme"], *PROJECT["project"]["license-files"],
              *(p.rstrip("*") for p in PROJECT["tool"]["setuptools"]["packages"]["find"]["include"])}
    assert needed <= docker_copied()
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert not [n for n in needed if any(fnmatch.fnmatch(n, pat) for pat in ignored)]


def test_the_docker_image_matches_the_project():
    python = re.search(r"^FROM python:(\d+)\.(\d+)", DOCKERFILE, re.MULTILINE)
    wanted = re.fullmatch(r">=(\d+)\.(\d+)", PROJECT["project"]["requires-python"])
    assert python and wanted and tuple(map(int, python.groups())) >= tuple(map(int, wanted.groups()))
    assert f'ENTRYPOINT ["{next(iter(PROJECT["project"]["scripts"]))}"]' in DOCKERFILE
    assert f"EXPOSE {Settings().http_port}" in DOCKERFILE   # Slack HTTP mode's default port


def test_the_database_is_on_the_docker_volume_whatever_env_file_says():
    """`docker run --env-file .env`: the image's AINEWS_DB, the default and a .env copied
    from .env.example all put the database on the volume, where it outlives the container."""
    volume = Path(re.search(r'^VOLUME \["([^"]+)"\]', DOCKERFILE, re.MULTILINE)[1])
    workdir = Path(re.findall(r"^WORKDIR (\S+)", DOCKERFILE, re.MULTILINE)[-1])
    example = re.search(r"^AINEWS_DB=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE)[1]
    image = re.search(r"AINEWS_DB=(\S+)", DOCKERFILE)[1]
    for db in (image, str(Settings().db_path), example):
        assert volume in (workdir / db).parents, db


# pip keeps an older release already installed (a reused venv, distro packages, a
# constraints file) when it meets the bound, and the bot then fails at run time. Each row:
# the oldest release with what the code calls, where it calls it, what an older one does.
# `make test-oldest` runs the suite on the declared bounds themselves.
NEEDED = {
    "sqlite-utils": ("4.0", "storage/transactions.py", "self.db.atomic()",
                     "Database.atomic() is new in 4.0: on 3.x `ainews run` stops at its "
                     "first write (AttributeError)"),
    "aiohttp": ("3.10.11", "feeds/fetch_errors.py", "aiohttp.ClientConnectorDNSError",
                "new in 3.10.11: before it every failed fetch 'failed unexpectedly' with a "
                "traceback and counted towards the feed's pause"),
    "discord.py": ("2.5", "bot/discord/adapter.py", "nonce=discord_nonce(",
                   "2.5 sends a nonce with enforce_nonce; 2.4 without, so a retry can post twice"),
    "openai": ("1.55.3", "feeds/llm.py", "AsyncOpenAI(",
               "older releases pass proxies= to httpx >= 0.28: with LLM_* set, `ainews run` "
               "stops at start (TypeError)"),
    "slack-sdk": ("3.35", "bot/slack/app.py", "AsyncSocketModeHandler(",
                  "before 3.33.4 Socket Mode pings with a str, which aiohttp >= 3.11 refuses "
                  "(never connects); before 3.35 a dropped connection fails with TypeError "
                  "(object of type 'int' has no len()) and is not re-established"),
    "idna": ("3.11", "feeds/urls.py", "uts46=True",
             "3.10 and older refuse a host with U+3164 (Hangul filler) that 3.11 maps away"),
    "yarl": ("1.12", "feeds/fetch_errors.py", "url.explicit_port",
             "aiohttp 3.10.11's own floor; the code imports yarl itself"),
}


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def declared() -> dict[str, Version]:
    found = {}
    for line in PROJECT["project"]["dependencies"]:
        req = Requirement(line)
        lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
        found[_name(req.name)] = max(lows) if lows else Version("0")
    return found


@pytest.mark.parametrize("package", sorted(NEEDED))
def test_each_lower_bound_has_what_the_code_calls(package):
    oldest, path, uses, why = NEEDED[package]
    assert uses in (ROOT / path).read_text(encoding="utf-8"), f"{path} no longer uses {uses}"
    assert declared().get(_name(package), Version("0")) >= Version(oldest), \
        f"{package} >= {oldest} needed: {why}"


def _third_party_imports() -> set[str]:
    own = {p.rstrip("*") for p in PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    found = set()
    for package in own:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - own - set(sys.stdlib_module_names)


def test_every_third_party_module_the_code_imports_is_declared():
    """yarl, imported by feeds/ and bot/discord, came only through aiohttp: a release of
    aiohttp that stops depending on it would break `pip install ainews`."""
    distributions = importlib.metadata.packages_distributions()
    modules = _third_party_imports()
    assert "yarl" in modules and "aiohttp" in modules, "the scan would prove nothing"
    undeclared = {m: distributions.get(m) for m in modules
                  if not {_name(d) for d in distributions.get(m, [m])} & set(declared())}
    assert undeclared == {}


def test_make_test_oldest_pins_every_dependency_at_its_lower_bound():
    pins = lower_bounds(PROJECT["project"]["dependencies"])
    assert {_name(p.split("==")[0]): Version(p.split("==")[1]) for p in pins} == declared()
    with pytest.raises(SystemExit, match="'aiohttp' in pyproject.toml declares no >= lower"):
        lower_bounds(["aiohttp"])
