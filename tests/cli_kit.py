"""Shared pieces of the `ainews` command-line tests: running `main` in-process, the
installed script's path, a database in the test's temp dir, and a paused feed in it.
Modules declare `env = pytest.fixture(db_env, name="env")`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.cli import main


DATA = Path(__file__).parent / "data"
AINEWS = str(Path(sys.executable).parent / "ainews")
BRIEF_KEYS = {"id", "headline", "dek", "bullets", "why_it_matters", "url", "source",
              "published", "companies", "topics", "strategy", "score", "also_reported_by"}
SEED_HEADLINE = "China’s Alibaba shifts towards revenue over open-source AI"


def db_env(clean_env, tmp_path):
    """The `env` fixture: a clean environment with AINEWS_DB in the temp dir (not made yet)."""
    clean_env.setenv("AINEWS_DB", str(tmp_path / "db" / "ainews.db"))
    return clean_env


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def paused_feed(name: str, url: str) -> None:
    """A feed in the test database paused after answering 410 (Gone)."""
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    store = Store(os.environ["AINEWS_DB"])
    store.upsert_feed(FeedSource(name, url))
    store.record_fetch_failure(url, now=utcnow(), next_poll=utcnow(), kind="http",
                               message="fetcher: gone.example answered HTTP 410",
                               pause_after=1)
    store.close()
