"""What a non-editable install (`pip install .`, as the Dockerfile runs it) ships: every
data file the code reads, and a Docker build context holding every file the build needs."""
from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from bot.config import Settings

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
