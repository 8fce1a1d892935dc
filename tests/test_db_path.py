"""The file behind a database setting (storage/db_path.py): a path, an SQLite URI or
":memory:"; the run lock, the folder made for a new file and the check that a database
exists all go by it."""
from __future__ import annotations

from pathlib import Path

import pytest

from storage.db_path import db_file, db_setting


@pytest.mark.parametrize("setting,file", [
    ("data/ainews.db", "data/ainews.db"),
    ("file:data/ainews.db?mode=rwc", "data/ainews.db"),
    ("file:/srv/ainews.db", "/srv/ainews.db"),
    ("file:///srv/ainews.db?mode=ro", "/srv/ainews.db"),
    ("file://localhost/srv/ainews.db", "/srv/ainews.db"),
    ("file:/srv/my%20news.db?cache=private#end", "/srv/my news.db"),
    (":memory:", None),
    ("file::memory:?cache=shared", None),
    ("file:shared?mode=memory&cache=shared", None),
])
def test_the_file_a_database_setting_names(setting, file):
    assert db_file(setting) == (None if file is None else Path(file))


@pytest.mark.parametrize("typed,kept", [
    ("file:///srv/ainews.db?mode=rwc", "file:/srv/ainews.db?mode=rwc"),
    # Kept as a Path as typed, the host became a folder: /localhost/srv/ainews.db.
    ("file://localhost/srv/ainews.db", "file:/srv/ainews.db"),
    (" file:data/ainews.db ", "file:data/ainews.db"),
])
def test_a_uri_setting_keeps_naming_its_file(typed, kept):
    assert str(db_setting(typed)) == kept
    assert db_file(db_setting(typed)) == db_file(typed.strip())


def test_a_uri_naming_another_host_is_refused():
    with pytest.raises(ValueError, match="names the host 'nas'; SQLite opens local files only"):
        db_setting("file://nas/srv/ainews.db")
