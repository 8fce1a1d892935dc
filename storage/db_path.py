"""The file behind a database setting (AINEWS_DB, --db): a path, an SQLite URI
(`file:data/ainews.db?mode=rwc`, https://sqlite.org/uri.html) or ":memory:".

What is named after the database (its folder, made when missing; the run lock beside
it; the check that it exists) is named after this file, so the same database given as
a path or as a URI is one database with one lock, and no file called `file:...` is
ever made. A new file is made readable by its owner only (create_owner_only)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode

MEMORY = ":memory:"


def is_uri(setting: str | Path) -> bool:
    return str(setting).startswith("file:")


def db_setting(raw: str) -> Path:
    """A database setting as typed, ready to be kept as a Path: "~" expanded in a path;
    a URI's authority, which Path would read as a folder ('file://localhost/srv/a.db'
    became 'file:/localhost/srv/a.db', another file), dropped. ValueError for a URI
    naming another host: SQLite opens local files only."""
    raw = raw.strip()
    if not is_uri(raw):
        return Path(raw).expanduser()
    rest = raw.removeprefix("file:")
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            raise ValueError(f"names the host {host!r}; SQLite opens local files only "
                             "(file:/path/ainews.db or file:///path/ainews.db)")
        rest = slash + path
    return Path(f"file:{rest}")


def db_file(setting: str | Path) -> Path | None:
    """The file a database setting names; None for a database in memory."""
    text = str(setting)
    if not is_uri(text):
        return None if text in (MEMORY, "") else Path(text).expanduser()
    path, _, query = text.removeprefix("file:").partition("?")
    path = path.partition("#")[0]
    if path.startswith("//"):     # file:///srv/a.db, file://localhost/srv/a.db
        path = "/" + path[2:].partition("/")[2]
    if path in ("", MEMORY) or uri_mode(text) == "memory":
        return None
    return Path(unquote(path))


def uri_mode(setting: str | Path) -> str:
    """A URI's mode= ("ro", "rw", "rwc", "memory"); "" if it gives none (or no URI)."""
    text = str(setting)
    if not is_uri(text):
        return ""
    query = text.partition("?")[2].partition("#")[0]
    return parse_qs(query).get("mode", [""])[-1]


def existing_only(setting: str | Path) -> str:
    """A URI opening the file a setting names only if it is there (mode=rw, or ro if
    the setting says so; its other parameters kept): a second connection of a running
    bot must never make a new, empty database where the first one's file was removed."""
    file = db_file(setting)
    if file is None:
        raise ValueError(f"{setting} names no file")
    text = str(setting)
    query = parse_qs(text.partition("?")[2].partition("#")[0]) if is_uri(text) else {}
    query["mode"] = ["ro" if uri_mode(text) == "ro" else "rw"]
    return f"{file.expanduser().absolute().as_uri()}?{urlencode(query, doseq=True)}"


def create_owner_only(file: Path) -> None:
    """`file` made empty (a new database to SQLite) with mode 0600, unless something is
    there: the store holds feed URLs with their credentials (user:password@, ?token=),
    which the umask's 0644 let every local user read. SQLite gives the -wal and -shm it
    makes the main file's mode. An existing file keeps the mode its operator chose."""
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:   # there already, or not to be made: SQLite's open says why
        pass
