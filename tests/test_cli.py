"""The `ainews` command line: one-line errors, JSON contracts, lookups, brief, feeds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.feedserver import FeedServer, make_rss
from tests.fakes.stories import strategy_entry

DATA = Path(__file__).parent / "data"
AINEWS = str(Path(sys.executable).parent / "ainews")
BRIEF_KEYS = {"id", "headline", "dek", "bullets", "why_it_matters", "url", "source",
              "published", "companies", "topics", "strategy", "score", "also_reported_by"}
SEED_HEADLINE = "China’s Alibaba shifts towards revenue over open-source AI"


@pytest.fixture
def env(clean_env, tmp_path):
    clean_env.setenv("AINEWS_DB", str(tmp_path / "db" / "ainews.db"))
    return clean_env


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("var,value,words", [
    ("AINEWS_POLL_MINUTES", "abc", "AINEWS_POLL_MINUTES='abc' is not a number"),
    ("AINEWS_POLL_MINUTES", "-1", "AINEWS_POLL_MINUTES='-1' must be at least"),
    ("AINEWS_ALLOW_PRIVATE_HOSTS", "maybe", "AINEWS_ALLOW_PRIVATE_HOSTS='maybe' is not a yes/no"),
    ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL='slack.com/api' must start with http"),
    ("DISCORD_GUILD_ID", "guild", "DISCORD_GUILD_ID='guild' is not a whole number"),
    # Not numbers a schedule or a timeout can use: they crashed every feed's poll.
    ("AINEWS_POLL_MINUTES", "nan", "AINEWS_POLL_MINUTES='nan' is not a number"),
    ("AINEWS_POLL_MINUTES", "inf", "AINEWS_POLL_MINUTES='inf' must be at most 1440"),
    ("AINEWS_POLL_MINUTES", "1e308", "AINEWS_POLL_MINUTES='1e308' must be at most"),
    ("LLM_TIMEOUT", "nan", "LLM_TIMEOUT='nan' is not a number"),
    ("LLM_CONCURRENCY", "0", "LLM_CONCURRENCY='0' must be at least 1"),
    ("AINEWS_HTTP_PORT", "99999", "AINEWS_HTTP_PORT='99999' must be at most 65535"),
    ("AINEWS_MAX_POST_AGE_HOURS", "2d", "AINEWS_MAX_POST_AGE_HOURS='2d' is not a number"),
    ("AINEWS_MAX_POST_AGE_HOURS", "-1", "AINEWS_MAX_POST_AGE_HOURS='-1' must be at least 0"),
    ("AINEWS_MAX_POST_AGE_HOURS", "nan", "AINEWS_MAX_POST_AGE_HOURS='nan' is not a number"),
    ("AINEWS_KEEP_DAYS", "abc", "AINEWS_KEEP_DAYS='abc' is not a whole number"),
    ("AINEWS_KEEP_DAYS", "-1", "AINEWS_KEEP_DAYS='-1' must be at least 0"),
    ("AINEWS_KEEP_DAYS", "2", "AINEWS_KEEP_DAYS='2' must be 0 (keep everything) or at least 3"),
    # Half an LLM configuration left the LLM condenser off without a word.
    ("LLM_BASE_URL", "http://127.0.0.1:11434/v1", "LLM_MODEL is not set"),
    ("LLM_API_KEY", "sk-test", "LLM_MODEL is not set"),
    ("LLM_MODEL", "qwen-plus", "LLM_BASE_URL or LLM_API_KEY"),
])
def test_bad_setting_stops_with_one_line(env, capsys, var, value, words):
    env.setenv(var, value)
    code, out, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_dotenv_is_read_from_the_working_directory(env, capsys, tmp_path):
    (tmp_path / ".env").write_text("AINEWS_POLL_MINUTES=soon\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and "AINEWS_POLL_MINUTES='soon'" in err


@pytest.mark.parametrize("line, words", [
    ("AINEWS_POLL_MINUTE=1", "sets AINEWS_POLL_MINUTE, which ainews does not read (did you "
                             "mean AINEWS_POLL_MINUTES?)"),
    ("AINEWS_FOO=1", "sets AINEWS_FOO, which ainews does not read; fix or remove it"),
    ("SLACK_BOT_TOKN=xoxb-1", "(did you mean SLACK_BOT_TOKEN?)"),
    # Names are case-sensitive: these were skipped without a word, as misspelt ones were.
    ("ainews_poll_minutes=1", "sets ainews_poll_minutes, which ainews does not read (did "
                              "you mean AINEWS_POLL_MINUTES?)"),
    ("slack_bot_token=xoxb-1", "(did you mean SLACK_BOT_TOKEN?)"),
    ("AINEWS_CONSOLE", "names AINEWS_CONSOLE without a value; write AINEWS_CONSOLE=VALUE"),
])
def test_a_misspelt_setting_in_dotenv_is_one_line(env, capsys, tmp_path, line, words):
    # The misspelt line was skipped without a word: the default applied while the
    # operator believed the setting was in force.
    (tmp_path / ".env").write_text(f"AINEWS_DB={tmp_path / 'x.db'}\n{line}\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_another_tools_settings_in_dotenv_are_left_alone(env, capsys, tmp_path):
    (tmp_path / ".env").write_text("SLACK_WEBHOOK_URL=https://hooks.example/x\n"
                                   "COMPOSE_PROJECT_NAME=news\nslack_webhook_url=x\n"
                                   "export PATH\nAINEWS_POLL_MINUTES=soon\n")
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and "AINEWS_POLL_MINUTES='soon'" in err     # read past them


@pytest.mark.parametrize("content, words", [
    # Notepad's "Unicode" is UTF-16: the .env gave a UnicodeDecodeError traceback.
    ("AINEWS_POLL_MINUTES=5\n".encode("utf-16"), ".env is not UTF-8"),
    # A line python-dotenv can't read was skipped without a word: the default applied.
    (b'AINEWS_POLL_MINUTES="5\n', ".env line 1 (AINEWS_POLL_MINUTES) cannot be read"),
    (b"A=1\nexport SLACK_BOT_TOKEN='xoxb-secret\n", ".env line 2 (SLACK_BOT_TOKEN)"),
])
def test_unreadable_dotenv_is_one_line(env, capsys, tmp_path, content, words):
    (tmp_path / ".env").write_bytes(content)
    code, _, err = run_cli(capsys, "latest")
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert "xoxb" not in err   # the line is not quoted: it may hold a secret


def test_paths_from_home_are_expanded(env, capsys, tmp_path):
    # `.env`, docker's --env-file and systemd pass "~/..." as is (no shell expands it):
    # the database failed to open ("unable to open database file") and the feeds file
    # could not be read.
    env.setenv("HOME", str(tmp_path))
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "Wire"\n'
                                         'url = "http://127.0.0.1:9/rss"\n')
    env.setenv("AINEWS_DB", "~/data/ainews.db")
    env.setenv("AINEWS_FEEDS", "~/feeds.toml")
    code, out, err = run_cli(capsys, "poll", "--once")
    assert code == 0 and "1 feed polled" in out
    assert (tmp_path / "data" / "ainews.db").is_file()
    code, out, err = run_cli(capsys, "--db=~/data/ainews.db", "status")
    assert code == 0 and "feeds      1 failing" in out, err


def test_unwritable_database_is_one_line(env, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = run_cli(capsys, "--db", str(blocker / "x.db"), "poll", "--once")
    assert code == 2 and err.startswith("ainews: store:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("cmd", [["latest"], ["company", "qwen"], ["search", "pricing"],
                                 ["topic", "funding"], ["status"], ["topics"],
                                 ["feeds", "list"], ["feeds", "list", "--json"],
                                 ["feeds", "remove", "https://a.example/rss"],
                                 ["feeds", "resume", "all"]])
def test_a_lookup_on_a_mistyped_database_path_says_so(env, capsys, tmp_path, cmd):
    # It used to create an empty database there and answer "no stories yet" (`topics`,
    # `feeds list`: "no feeds yet", as if the archive were empty).
    code, out, err = run_cli(capsys, "--db", str(tmp_path / "ainew.db"), *cmd)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("ainews: cli: no database at ") and "ainew.db yet" in err
    assert "ainews poll --once" in err
    assert not (tmp_path / "ainew.db").exists()


def test_feeds_check_creates_no_database(env, capsys, tmp_path):
    """It fetches and parses a feed; nothing of it is stored, so no file appears."""
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "none.db"), "feeds", "check",
                           "http://127.0.0.1:9/rss")
    assert code == 1 and "is no working feed" in err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("cmd", [["poll", "--once"], ["run", "--once"]])
def test_commands_that_write_create_the_database(env, capsys, tmp_path, cmd):
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "W"\nurl = "http://127.0.0.1:9/rss"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    code, _, _ = run_cli(capsys, "--db", str(tmp_path / "new.db"), *cmd)
    assert code == 0 and (tmp_path / "new.db").is_file()


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once"),
                                  ("feeds", "remove", "https://down.example/rss")])
def test_read_only_database_is_one_line(env, capsys, tmp_path, argv):
    # A database the bot can read but not write (root-owned, a read-only mount)
    # ended these with a sqlite3 traceback at their first write.
    from feeds.models import FeedSource
    from storage.store import Store
    path = tmp_path / "ro.db"
    with Store(path) as store:
        store.upsert_feed(FeedSource("Down", "https://down.example/rss"))
    (tmp_path / "feeds.toml").write_text('[[feed]]\nname = "Down"\n'
                                         'url = "https://down.example/rss"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    code, _, err = run_cli(capsys, "--db", f"file:{path}?mode=ro", *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("ainews: store: cannot write") and "read-only" in err


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once"),
                                  ("feeds", "remove", "https://down.example/rss")])
def test_a_locked_database_is_one_line(env, capsys, tmp_path, argv):
    # Another program holding the write lock (a sqlite3 shell mid-transaction) ended
    # these with a "database is locked" traceback once the busy timeout ran out.
    import sqlite3
    from feeds.models import FeedSource
    from storage.store import Store
    env.setattr("storage.store.BUSY_TIMEOUT", 0.2)
    path = tmp_path / "locked.db"
    with Store(path) as store:
        store.upsert_feed(FeedSource("Down", "https://down.example/rss"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, _, err = run_cli(capsys, "--db", str(path), *argv)
    finally:
        holder.close()
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"ainews: store: {path} is locked")


@pytest.mark.parametrize("argv", [("latest",), ("search", "phone")])
def test_a_damaged_database_is_one_line(env, capsys, tmp_path, argv):
    # Damage past the schema pages (a bad disk, a copy cut short) opened fine, then
    # every lookup ended in a sqlite3 traceback.
    import sqlite3
    from feeds.models import Story, utcnow
    from storage.store import Store
    path = tmp_path / "damaged.db"
    with Store(path) as store:
        store.add_new_stories([Story(f"s{i}", f"https://a.example/{i}", f"A phone review {i}",
                                     "Alibaba phones. " * 200, "A", "https://a.example/rss",
                                     utcnow()) for i in range(300)], backlog=False, now=utcnow())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    data[start:] = b"\x5a" * (len(data) - start)
    path.write_bytes(bytes(data))
    code, out, err = run_cli(capsys, "--db", str(path), *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"ainews: store: {path}") and "damaged" in err


def test_database_from_a_newer_ainews_is_one_line(env, capsys, tmp_path):
    import sqlite3
    from storage.store import Store
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'now')")
    code, _, err = run_cli(capsys, "--db", str(path), "latest")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "newer ainews" in err


@pytest.mark.parametrize("source", ["seed-story.txt", "seed-story.xml"])
def test_brief_of_the_seed_story(env, capsys, source):
    code, out, _ = run_cli(capsys, "brief", str(DATA / source), "--json")
    brief = json.loads(out.splitlines()[0])
    assert code == 0 and BRIEF_KEYS <= set(brief)
    assert brief["headline"] == SEED_HEADLINE and brief["source"] == "FT"
    assert brief["companies"][0] == "Alibaba" and len(brief["bullets"]) == 3
    assert brief["why_it_matters"].startswith("This reduces free, high-quality AI models")


@pytest.mark.parametrize("content, words", [
    (b'<?xml version="1.0"?>\n<note><to>Ana</to></note>\n', "is XML but not RSS, Atom or JSON"),
    (b'{"name": "config", "items": 3}', "is JSON but not a JSON Feed"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "is not a feed, an HTML page or text"),
])
def test_brief_of_what_is_no_story_is_one_line(env, capsys, tmp_path, content, words):
    # Not briefed as if it were prose: the headline was "<?xml version=..." or binary.
    path = tmp_path / "thing.dat"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "brief", str(path))
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flags, title", [
    ([], "Latest stories"),
    (["--strategy-only"], "Latest AI strategy news"),
])
def test_latest_is_titled_for_what_it_lists(env, capsys, flags, title):
    from feeds.models import Story, utcnow
    from storage.store import Store
    store = Store(os.environ["AINEWS_DB"])
    store.add_new_stories([Story("s1", "https://a.example/1", "A phone review", "Nice.", "A",
                                 "https://a.example/rss", utcnow())], backlog=False, now=utcnow())
    store.close()
    code, out, _ = run_cli(capsys, "latest", *flags)
    assert code == 0 and out.splitlines()[0] == title


@pytest.fixture
def archive(env):
    """Three stored stories about OpenAI (one with Microsoft, one with Nvidia)."""
    from datetime import timedelta
    from feeds.models import Story, utcnow
    from storage.store import Store
    now = utcnow()
    rows = [("m", "OpenAI signs a Microsoft cloud deal", "OpenAI and Microsoft extend it."),
            ("t", "OpenAI opens a Tokyo office", "OpenAI will hire in Japan."),
            ("n", "Nvidia ships chips to OpenAI", "Nvidia said OpenAI bought them.")]
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([Story(sid, f"https://a.example/{sid}", title, text, "A",
                                     "https://a.example/rss", now - timedelta(hours=i))
                               for i, (sid, title, text) in enumerate(rows)],
                              backlog=False, now=now)


@pytest.mark.parametrize("argv, found", [
    (["openai", "-microsoft"], {"t", "n"}),
    (["-microsoft", "openai"], {"t", "n"}),
    (["--json", "openai", "-microsoft", "-nvidia"], {"t"}),
    (["openai", "-nvidia", "--limit", "5"], {"m", "t"}),     # -nvidia is no -n vidia
    (["-microsoft", "-n", "1", "openai"], {"t"}),
    (["openai", "-n1", "-microsoft"], {"t"}),
    (["--limit=1", "openai", "--", "-microsoft"], {"t"}),
])
def test_search_leaves_out_minus_words_wherever_they_are(archive, capsys, argv, found):
    """`-microsoft` was an unknown option to argparse: `ainews search openai -microsoft`
    stopped with a usage error. The options still work before, between and after."""
    if "--json" not in argv:
        argv = [*argv, "--json"] if "--" not in argv else ["--json", *argv]
    code, out, err = run_cli(capsys, "search", *argv)
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.splitlines()} == found


@pytest.mark.parametrize("as_json", [False, True])
def test_search_says_when_it_shows_stories_with_only_some_words(archive, capsys, as_json):
    code, out, err = run_cli(capsys, "search", "tokyo", "nvidia", *["--json"] * as_json)
    note = "No story has all of: tokyo nvidia; showing stories with any of them."
    assert code == 0 and note in (err if as_json else out)
    if as_json:     # the rows stay JSON
        assert {json.loads(line)["id"] for line in out.splitlines()} == {"t", "n"}
    code, out, err = run_cli(capsys, "search", "openai", "tokyo")
    assert code == 0 and "Tokyo" in out and "No story has all" not in out + err


@pytest.mark.parametrize("argv, eg", [
    (["company", "openai", "--limit", "0"], "`ainews company Alibaba --limit 3`"),
    (["topic", "pricing", "-n", "501"], "`ainews topic pricing --limit 3`"),
    (["latest", "--limit", "-1"], "`ainews latest --limit 5`"),
])
def test_a_bad_limit_names_the_command_typed(archive, capsys, argv, eg):
    # A usage error, exit 2 like argparse's others (it was 1, "no such company").
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "is out of range" in err and f"e.g. {eg}" in err, err


@pytest.mark.parametrize("argv, said", [
    (["latest", "3", "4"], "ainews latest: unexpected '3 4': use `ainews latest [--limit "
                           "LIMIT] [--topic TOPIC]`"),
    (["latest", "--limit", "3", "4"], "ainews latest: unexpected '4'"),
    (["company", "openai", "3", "4"], "use `ainews company NAME [--limit LIMIT]`: one "
                                      "company and at most one LIMIT"),
    (["topic", "chips", "3", "4"], "use `ainews topic SLUG [--limit LIMIT]`: one topic"),
])
def test_extra_counts_say_what_the_command_takes(archive, capsys, argv, said):
    """`ainews latest 3 4` printed the usage of ainews itself and "unrecognized
    arguments"; `ainews company openai 3 4` "no company 'openai 3 4'"."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code in (1, 2) and said in err and len(err.strip().splitlines()) == 1, err
    assert "no company" not in err and "usage: ainews [-h]" not in err


def test_the_command_line_lists_more_than_a_chat_answer_holds(archive, capsys):
    """A script reading `latest --json --limit 100` was refused: "give a whole number
    from 1 to 25", the cap of one chat message. The command line takes up to 500."""
    from feeds.models import Story, utcnow
    from storage.store import Store
    with Store(os.environ["AINEWS_DB"]) as store:   # 30 in all with the archive's three
        store.add_new_stories([Story(f"x{i}", f"https://a.example/x{i}", f"OpenAI deal {i}",
                                     "OpenAI signed it.", "A", "https://a.example/rss", utcnow())
                               for i in range(27)], backlog=False, now=utcnow())
    code, out, _ = run_cli(capsys, "latest", "--json", "--limit", "100")
    assert code == 0 and len(out.splitlines()) == 30
    with pytest.raises(SystemExit):
        main(["latest", "--limit", "501"])
    assert "from 1 to 500" in capsys.readouterr().err


def test_search_options_still_say_what_is_wrong(archive, capsys):
    with pytest.raises(SystemExit):
        run_cli(capsys, "search", "openai", "--limit")
    assert "--limit" in capsys.readouterr().err


async def test_brief_through_the_llm_logs_no_http_client_chatter(env, capsys):
    # The openai client's HTTP library logs every request at INFO, naming no component.
    import asyncio
    from tests.fakes.llm import FakeLLM
    fake = await FakeLLM().start()
    fake.script = [("status", 500)]
    env.setenv("LLM_BASE_URL", fake.base_url)
    env.setenv("LLM_MODEL", "qwen-plus")
    try:
        code, out, err = await asyncio.to_thread(run_cli, capsys, "brief",
                                                 str(DATA / "seed-story.txt"), "--json")
    finally:
        await fake.stop()
    assert code == 0 and len(fake.requests) == 1 and json.loads(out)["condenser"] == "extractive"
    assert "llm: qwen-plus failed" in err and "HTTP Request" not in err


def test_output_cut_short_by_a_pipe_is_not_a_traceback(tmp_path):
    # `ainews brief feed.xml | head`: head exits early; the rest of the output is unwanted.
    from tests.fakes.feedserver import make_entries
    feed = tmp_path / "big.xml"
    feed.write_bytes(make_rss("Big", make_entries(300, paragraphs=3)))
    proc = subprocess.Popen([AINEWS, "brief", str(feed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(100)   # well under the output, far more than a pipe buffers
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) != 0 and "Traceback" not in err and "Exception ignored" not in err


@pytest.mark.parametrize("head, published", [
    ("", None),   # no date on the page: the time it was read, not a guess
    ('<meta property="article:published_time" content="2026-03-04T09:15:00Z">', "2026-03-04"),
])
def test_brief_of_an_article_page_dates_it_only_from_its_markup(env, capsys, tmp_path,
                                                               head, published):
    # "(c) 2024 Example News" in the footer made every undated page "2024-01-01".
    page = tmp_path / "article.html"
    page.write_text(f"<html><head><title>Alibaba shifts to revenue</title>{head}</head><body>"
                    "<article><p>Alibaba said it would keep its best Qwen models closed, "
                    "moving away from its open-source strategy for good.</p></article>"
                    "<footer>© 2024 Example News. All rights reserved.</footer></body></html>")
    from feeds.models import utcnow
    before = utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    code, out, _ = run_cli(capsys, "brief", str(page), "--json")
    brief = json.loads(out)
    assert code == 0 and brief["headline"] == "Alibaba shifts to revenue"
    if published:
        assert brief["published"].startswith(published)
    else:
        assert brief["published"] >= before


def test_brief_reads_stdin_and_prints_for_people():
    text = (DATA / "seed-story.txt").read_bytes()
    proc = subprocess.run([AINEWS, "brief", "-"], input=text, capture_output=True, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and SEED_HEADLINE in out and "Why it matters" in out


def test_brief_of_missing_file_is_one_line(env, capsys):
    code, _, err = run_cli(capsys, "brief", "nope.xml")
    assert code == 2 and "brief: cannot read nope.xml" in err


async def test_poll_then_lookups(env, capsys, tmp_path):
    async with FeedServer() as srv:
        srv.add("/seed.xml", (DATA / "seed-story.xml").read_bytes())
        srv.add("/gone.xml", b"", content_type="text/plain")
        srv.script("/gone.xml", [404])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "FT"\nurl = "{srv.url("/seed.xml")}"\n'
                         f'[[feed]]\nname = "Gone"\nurl = "{srv.url("/gone.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        import asyncio
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["feeds_polled"] == 2 and summary["new_strategy_stories"] == 1
    assert "HTTP 404" in summary["failures"][0]["error"]
    for query in (["company", "qwen"], ["company", "ALIBABA"], ["company", "Alibaba", "Group"],
                  ["search", "open-source"], ["latest", "--strategy-only"]):
        code, out, _ = run_cli(capsys, *query, "--json")
        rows = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and rows[0]["headline"] == SEED_HEADLINE, query
        assert BRIEF_KEYS <= set(rows[0])
    code, _, err = run_cli(capsys, "company", "alibabba")
    assert code == 1 and "did you mean Alibaba" in err
    code, out, _ = run_cli(capsys, "feeds", "list", "--json")
    health = {json.loads(line)["name"]: json.loads(line)["health"] for line in out.splitlines()}
    assert health == {"FT": "ok", "Gone": "failing"}


@pytest.mark.parametrize("argv", [
    ["latest", "--db", "{db}", "--json"], ["search", "openai", "--db", "{db}"],
    ["feeds", "list", "--db={db}"], ["--db", "{db}", "company", "qwen"]])
def test_db_is_taken_before_or_after_the_command(env, capsys, tmp_path, argv):
    """`ainews latest --db x.db` was "unrecognized arguments": --db is global, and
    users type it where the rest of the command is."""
    missing = tmp_path / "elsewhere.db"
    code, _, err = run_cli(capsys, *[a.format(db=missing) for a in argv])
    assert code == 2 and f"no database at {missing}" in err


@pytest.mark.parametrize("url,words", [
    ("file:///etc/passwd", "only http and https"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    # What to do about it, for an intranet feed: the setting by name.
    ("http://10.1.2.3/rss", "is a private address; refused (AINEWS_ALLOW_PRIVATE_HOSTS=1"),
    ("http://0.0.0.0/rss", "0.0.0.0 is an unspecified address"),
])
def test_feeds_add_refuses_unsafe_urls(env, capsys, url, words):
    env.setenv("AINEWS_ALLOW_PRIVATE_HOSTS", "0")
    code, _, err = run_cli(capsys, "feeds", "add", url)
    assert code == 1 and words in err


async def test_feeds_commands_take_a_pasted_url_with_spaces_around_it(env, capsys):
    # `feeds add " URL " --tag x` stored the stripped URL, then looked up the raw one:
    # a traceback, and the tags were lost.
    import asyncio
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        url = srv.url("/feed.xml")
        code, _, _ = await asyncio.to_thread(run_cli, capsys, "feeds", "add", f" {url}\n",
                                             "--tag", "labs")
    _, out, _ = run_cli(capsys, "feeds", "list", "--json")
    assert code == 0 and json.loads(out)["tags"] == ["labs"]
    assert run_cli(capsys, "feeds", "resume", f"{url} ")[0] == 0
    assert run_cli(capsys, "feeds", "remove", f" {url}")[0] == 0


async def test_feeds_add_checks_the_feed_then_remove(env, capsys):
    import asyncio
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        srv.add("/page", "<html><body>no feed here</body></html>", content_type="text/html")
        url = srv.url("/feed.xml")
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "feeds", "add", url,
                                               "--tag", "labs")
        assert code == 0 and "Added feed Example AI" in out
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "feeds", "add", url)
        assert code == 0 and "Already following Example AI" in out
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "feeds", "add",
                                               url.replace("http://", "HTTP://"), "--tag", "labs")
        assert code == 0 and f"Already following Example AI ({url})" in out
        code, _, err = await asyncio.to_thread(run_cli, capsys, "feeds", "add", srv.url("/page"))
        assert code == 1 and "not a feed" in err
    code, out, _ = run_cli(capsys, "feeds", "list", "--json")
    row = json.loads(out)
    assert (row["health"], row["name"], row["tags"]) == ("new", "Example AI", ["labs"])
    assert run_cli(capsys, "feeds", "remove", url)[0] == 0
    code, _, err = run_cli(capsys, "feeds", "remove", url)
    assert code == 2 and "no feed with URL or name" in err


def test_help_does_not_load_chat_libraries():
    code = ("import sys; from bot.cli import build_parser; build_parser().format_help(); "
            "print(any(m.split('.')[0] in ('discord', 'slack_bolt', 'slack_sdk', 'openai') "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_bad_user_data_file_is_one_line(env, capsys, tmp_path):
    (tmp_path / "mine.toml").write_text("[[company]\nname = ")
    env.setenv("AINEWS_USER_DATA", str(tmp_path / "mine.toml"))
    from storage.store import Store
    Store(tmp_path / "db" / "ainews.db").close()
    code, _, err = run_cli(capsys, "company", "qwen")
    assert code == 2 and "mine.toml" in err and len(err.strip().splitlines()) == 1
    assert "AINEWS_USER_DATA" in err      # where the path was set, not only the path


@pytest.mark.parametrize("argv", [("poll", "--once"), ("run", "--once")])
def test_a_missing_feeds_file_names_the_setting(env, capsys, tmp_path, argv):
    # "feeds: cannot read feeds.toml: No such file or directory" did not say which
    # setting to fix (the README promises one line naming the variable).
    env.setenv("AINEWS_FEEDS", str(tmp_path / "my-feeds.toml"))
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "my-feeds.toml" in err and "AINEWS_FEEDS" in err


def test_poll_names_the_failing_feeds_it_left_to_their_backoff(env, capsys, tmp_path):
    # `poll --once` skips a failing feed until its backoff ends: "0 feeds polled" alone
    # leaves a user checking whether a fixed feed works none the wiser.
    from datetime import timedelta
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    url = "https://down.example/rss"
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Down"\nurl = "{url}"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    store = Store(os.environ["AINEWS_DB"])
    store.upsert_feed(FeedSource("Down", url))
    store.record_fetch_failure(url, now=utcnow(), next_poll=utcnow() + timedelta(hours=1),
                               kind="http", message="fetcher: down.example answered HTTP 503")
    store.close()
    code, out, _ = run_cli(capsys, "poll", "--once")
    assert code == 0 and out.startswith("0 feeds polled")
    assert f"waiting: Down ({url}) after 1 failure: " in out   # was "after 1 failures"
    assert "HTTP 503" in out and "next try" in out
    code, out, _ = run_cli(capsys, "poll", "--once", "--json")
    assert [w["url"] for w in json.loads(out)["waiting_feeds"]] == [url]


@pytest.mark.parametrize("setting,too_old", [(None, 1), ("0", 0), ("200", 0)])
async def test_poll_says_how_many_new_stories_were_too_old_to_post(env, capsys, tmp_path,
                                                                   setting, too_old):
    # A week-old entry turning up late is stored, not posted: `poll` says so, else
    # "2 new strategy stories" reads as two posts coming.
    import asyncio
    from datetime import timedelta
    from feeds.models import utcnow
    if setting is not None:
        env.setenv("AINEWS_MAX_POST_AGE_HOURS", setting)
    async with FeedServer() as srv:
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(0)]))
        (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Example AI"\n'
                                             f'url = "{srv.url("/feed.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
        await asyncio.to_thread(run_cli, capsys, "poll", "--once")     # first poll: backlog
        week_old = strategy_entry(1, published=utcnow() - timedelta(days=7))
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(2), week_old,
                                                     strategy_entry(0)]))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
        assert code == 0 and "2 new strategy stories" in out
        assert ("too old to post (stored, not posted): 1 story" in out) == bool(too_old)
        srv.add("/feed.xml", make_rss("Example AI", [strategy_entry(3, published=(
            utcnow() - timedelta(days=7, hours=1)))]))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once", "--json")
    assert code == 0 and json.loads(out)["too_old_stories"] == too_old


@pytest.mark.parametrize("as_json", [False, True])
def test_poll_names_the_paused_feeds_it_skipped(env, capsys, tmp_path, as_json):
    # A paused feed is not polled: without a word, "0 feeds polled" hides it for good.
    url = "https://gone.example/rss"
    (tmp_path / "feeds.toml").write_text(f'[[feed]]\nname = "Gone"\nurl = "{url}"\n')
    env.setenv("AINEWS_FEEDS", str(tmp_path / "feeds.toml"))
    _paused_feed("Gone", url)
    code, out, _ = run_cli(capsys, "poll", "--once", *(["--json"] if as_json else []))
    assert code == 0
    if as_json:
        paused = json.loads(out)["paused_feeds"]
        assert [(p["name"], p["url"]) for p in paused] == [("Gone", url)]
        assert "HTTP 410" in paused[0]["last_error"]
    else:
        assert f"paused: Gone ({url})" in out and "HTTP 410" in out
        assert f"ainews feeds resume {url}" in out


def test_feeds_list_shows_what_remove_and_resume_need(env, capsys):
    # `feeds remove URL` and `feeds resume URL` take the URL: the list must show it, and
    # a paused feed has no next poll until it is resumed.
    url = "https://gone.example/rss"
    _paused_feed("Gone", url)
    code, out, _ = run_cli(capsys, "feeds", "list")
    head, row = out.splitlines()
    assert code == 0 and "url" in head and url in row
    assert row.split()[:3] == ["paused", "Gone", "-"]


def test_feeds_resume_says_whether_the_feed_was_paused(env, capsys):
    # Resuming a healthy feed printed "resumed URL", as if it had been paused.
    from datetime import timedelta
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    ok, waiting, gone = ("https://ok.example/rss", "https://slow.example/rss",
                         "https://gone.example/rss")
    _paused_feed("Gone", gone)
    with Store(os.environ["AINEWS_DB"]) as store:
        store.upsert_feed(FeedSource("Ok", ok))
        store.upsert_feed(FeedSource("Slow", waiting))
        store.record_fetch_failure(waiting, now=utcnow(), kind="http",
                                   next_poll=utcnow() + timedelta(hours=1),
                                   message="fetcher: slow.example answered HTTP 503")
    assert run_cli(capsys, "feeds", "resume", ok)[1] == f"{ok} is not paused; it is polled as usual\n"
    out = run_cli(capsys, "feeds", "resume", waiting)[1]
    assert "was not paused" in out and "backoff after 1 failure is cleared" in out
    assert run_cli(capsys, "feeds", "resume", gone)[1].startswith(f"resumed {gone}; ")


def test_feeds_resume_all_resumes_every_paused_feed(env, capsys):
    # After days without network every feed is paused (10 failures each): resuming
    # them one URL at a time was the only way back.
    from storage.store import Store
    urls = [f"https://gone{i}.example/rss" for i in range(3)]
    for i, url in enumerate(urls):
        _paused_feed(f"Gone {i}", url)
    code, out, _ = run_cli(capsys, "feeds", "resume", "all")
    assert code == 0 and "resumed 3 paused feeds" in out
    with Store(os.environ["AINEWS_DB"]) as store:
        assert not any(store.feed_state(u).paused for u in urls)
    code, out, _ = run_cli(capsys, "feeds", "resume", "all")
    assert code == 0 and "no feed is paused" in out


async def test_status_reports_feed_health_and_queue(env, capsys, tmp_path):
    async with FeedServer() as srv:
        srv.add("/ok.xml", make_rss("Ok", [strategy_entry(0)]))
        srv.script("/bad.xml", [500])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Ok"\nurl = "{srv.url("/ok.xml")}"\n'
                         f'[[feed]]\nname = "Bad"\nurl = "{srv.url("/bad.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        import asyncio
        await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    code, out, _ = run_cli(capsys, "status", "--json")
    status = json.loads(out)
    assert code == 0 and status["feeds"] == {"ok": 1, "failing": 1}
    assert status["last_poll"] and "HTTP 500" in status["problem_feeds"][0]["last_error"]
    code, out, _ = run_cli(capsys, "status")
    assert "feeds needing attention" in out and "Bad" in out
    assert out.startswith("database ")      # not after a blank line


def test_status_shows_posts_waiting_after_a_failed_try(env, capsys):
    """Slack refusing the bot token (or an outage, a 429 storm) holds every post: the
    status said only "3 due", as if all were well, and no failed post or paused channel."""
    from datetime import datetime, timedelta, timezone
    from storage.store import Store
    from tests.fakes.slack import make_brief
    now = datetime.now(timezone.utc)
    Path(os.environ["AINEWS_DB"]).parent.mkdir(parents=True)
    with Store(os.environ["AINEWS_DB"]) as store:
        for i in range(3):
            store.enqueue_post(cluster_id=f"k{i}", brief=make_brief(id=f"s{i}"),
                               platform="slack", workspace="T1", channel="C1", held=False,
                               now=now)
        store.claim_post(1, now)
        store.record_retry(1, next_attempt=now + timedelta(minutes=10), error=(
            "slack: chat.postMessage to C1 failed: token_revoked: the bot token was "
            "revoked; reinstall the app; posts wait until the token works"))
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "posts waiting after a failed try" in out
    assert "token_revoked" in out and "3 due" in out
    (row,) = json.loads(run_cli(capsys, "status", "--json")[1])["retrying_posts"]
    assert row["platform"] == "slack" and row["channel"] == "C1" and row["posts"] == 1
    assert row["next_try"].startswith(str((now + timedelta(minutes=10)).year))


async def test_poll_reports_a_feed_read_despite_broken_xml(env, capsys, tmp_path):
    """A slightly broken feed keeps its entries; the run says what was repaired, so the
    operator is not left guessing why a story looks cut short."""
    import asyncio
    body = make_rss("Cut AI", [strategy_entry(0), strategy_entry(1)])
    body = body[:body.index(b"</channel>")] + b"<item><title>thr"   # cut off mid-entry
    async with FeedServer() as srv:
        srv.add("/cut.xml", body)
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Cut"\nurl = "{srv.url("/cut.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    warning = [line for line in out.splitlines() if line.startswith("  warning: Cut: ")]
    assert code == 0 and "0 failed" in out
    assert len(warning) == 1 and "malformed XML" in warning[0] and "kept 2 entries" in warning[0]


async def test_sigterm_ends_a_poll_with_one_line_and_a_clean_exit(env, tmp_path):
    """As PID 1 in a container (`docker run ... poll --once`) SIGTERM has no default
    action: `docker stop` waited 10 s, then killed the poll. It now ends as Ctrl-C does."""
    import asyncio
    import signal
    async with FeedServer() as srv:
        srv.add_slow("/slow.xml", 60, make_rss("Slow AI", [strategy_entry(0)]))
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Slow"\nurl = "{srv.url("/slow.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        proc = await asyncio.create_subprocess_exec(
            AINEWS, "poll", "--once", cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        for _ in range(600):          # the poll is under way once the feed is asked for
            if srv.requests_for("/slow.xml") or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 143
    assert err.decode().splitlines()[-1] == "ainews: stopped (SIGTERM)"
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize("argv", [["topics"], ["brief", str(DATA / "seed-story.xml")]])
def test_output_into_a_closed_pipe_is_no_traceback(tmp_path, argv):
    """`ainews latest --json | head -1`: the reader leaving early is no error to report."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AINEWS_", "SLACK_",
                                                                      "DISCORD_", "LLM_"))}
    subprocess.run([AINEWS, "--db", str(tmp_path / "a.db"), "feeds", "add", "x"], env=env,
                   cwd=tmp_path, capture_output=True, timeout=60)     # creates the database
    try:
        proc = subprocess.run([AINEWS, "--db", str(tmp_path / "a.db"), *argv],
                              stdout=write_end, stderr=subprocess.PIPE, env=env,
                              cwd=tmp_path, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr.decode() == ""


def test_status_shows_feed_text_without_terminal_escapes(env, capsys, tmp_path):
    """A failed post's headline is feed text: an ANSI/OSC sequence in it must not reach
    the operator's terminal (recolour it, retitle the window, hide lines)."""
    from datetime import datetime, timezone
    from feeds.models import Brief
    from storage.store import Store
    hostile = "\x1b]0;pwned\x07\x1b[2J\x1b[31mOpenAI\u202e cuts\nprices"
    with Store(tmp_path / "db" / "ainews.db") as store:
        b = Brief(id="s1", headline=hostile, bullets=(), why_it_matters="",
                  url="https://news.example/1", source="Wire\x1b[8m",
                  published=datetime(2026, 3, 2, tzinfo=timezone.utc), strategy=True)
        store.enqueue_post(cluster_id="s1", brief=b, platform="slack", workspace="T",
                           channel="C\x1b[1m", held=False, now=b.published)
        store.record_failed(1, "rejected: \x1b[5mblink")
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and "failed posts" in out
    assert "]0;pwned" in out and "OpenAI cuts prices" in out     # shown, defused
    assert not any(c in out for c in "\x1b\x07\u202e")


async def test_poll_failure_lines_reach_the_terminal_defused(env, capsys, tmp_path):
    """A feed's name may be its own title (`feeds add` without NAME): feed text."""
    import asyncio
    async with FeedServer() as srv:
        srv.script("/bad.xml", [500])
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(f'[[feed]]\nname = "Bad\\u001b]0;pwned\\u0007"\n'
                         f'url = "{srv.url("/bad.xml")}"\n')
        env.setenv("AINEWS_FEEDS", str(feeds))
        code, out, _ = await asyncio.to_thread(run_cli, capsys, "poll", "--once")
    assert code == 0 and "failed: Bad]0;pwned" in out and "\x1b" not in out


def _paused_feed(name: str, url: str) -> None:
    """A feed in the test database paused after answering 410 (Gone)."""
    from feeds.models import FeedSource, utcnow
    from storage.store import Store
    store = Store(os.environ["AINEWS_DB"])
    store.upsert_feed(FeedSource(name, url))
    store.record_fetch_failure(url, now=utcnow(), next_poll=utcnow(), kind="http",
                               message="fetcher: gone.example answered HTTP 410",
                               pause_after=1)
    store.close()


@pytest.mark.parametrize("words", [["open", "source"], ["open-source"], ["Open", "Source"],
                                   ["open", "source", "--limit", "5"]])
def test_topic_takes_a_label_of_several_words_as_chat_does(env, capsys, words):
    """`ainews topic open source` was an argparse error ('unrecognized arguments');
    `/topic open source` in chat finds the open-source stories."""
    from feeds.models import Classification, Story, utcnow
    from storage.store import Store
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([Story(
            "o", "https://a.example/o", "Alibaba open-sources its Qwen model", "Apache 2.0.",
            "A", "https://a.example/rss", utcnow(),
            classification=Classification(True, 3.0, ("Alibaba",), ("open-source",)))],
            backlog=False, now=utcnow())
    code, out, err = run_cli(capsys, "topic", *words)
    assert code == 0, err
    assert "Alibaba open-sources its Qwen model" in out


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_demo_refuses_a_run_time_it_cannot_show_anything_in(env, capsys, value):
    # `demo --seconds -1` printed its banner and exited 0 before the first story.
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--seconds", value])
    assert stop.value.code == 2 and "is not a number of seconds above 0" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["status"], ["poll", "--once"]])
def test_a_database_path_that_is_a_folder_says_so(env, capsys, tmp_path, argv):
    # sqlite3 says only "unable to open database file".
    code, _, err = run_cli(capsys, "--db", str(tmp_path), *argv)
    assert code == 2 and "is a folder; give the path of a database file" in err


def test_sigterm_while_the_command_loads_is_exit_143_not_a_traceback(env, capsys,
                                                                       monkeypatch):
    """Loading the command's modules takes a while (~50 ms at `ainews run`'s start); a
    SIGTERM then (a supervisor stopping a bot that was just started) raised out of the
    import: a traceback and exit 1, a bug's exit, where README promises 143."""
    import importlib.abc

    import bot
    from bot.cli import Terminated

    class SigtermOnImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "bot.cli_commands":
                raise Terminated()
            return None

    monkeypatch.delitem(sys.modules, "bot.cli_commands", raising=False)
    monkeypatch.delattr(bot, "cli_commands", raising=False)
    monkeypatch.setattr(sys, "meta_path", [SigtermOnImport(), *sys.meta_path])
    try:
        code, _, err = run_cli(capsys, "status")
    except Terminated:      # a KeyboardInterrupt: uncaught, it would end the whole run
        pytest.fail("SIGTERM during the imports escaped main()")
    assert code == 143
    assert err.splitlines() == ["ainews: stopped (SIGTERM)"]


@pytest.mark.parametrize("argv", [["latest"], ["company", "qwen"], ["topic", "open source"]])
def test_a_lookup_does_not_build_the_classifiers_phrase_scan(archive, capsys, monkeypatch,
                                                             argv):
    """A lookup needs the gazetteer's names, not the scan that classifies: compiling its
    pattern was 0.17 s of every `ainews latest` (0.7 s)."""
    import feeds.phrases
    compiled = []
    real = feeds.phrases.re.compile
    monkeypatch.setattr(feeds.phrases.re, "compile",
                        lambda p, *a: compiled.append(len(p)) or real(p, *a))
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and out and not [n for n in compiled if n > 10_000]


def test_a_lookup_does_not_load_the_http_client(archive, tmp_path):
    """aiohttp (for feeds, chat, loopback servers) was imported by every lookup, though
    a lookup reads only the database: 0.13 s of each `ainews latest`."""
    code = ("import sys; from bot.cli import main; code = main(['latest']); "
            "print(code, 'aiohttp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=os.environ, timeout=120).stdout
    assert out.splitlines()[-1] == "0 False"
