"""`ainews brief`: JSON of a stored story, an article page, stdin, through the LLM;
a missing story or file is one line."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.cli_kit import DATA, AINEWS, BRIEF_KEYS, SEED_HEADLINE, run_cli, db_env


env = pytest.fixture(db_env, name="env")


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
    # A one-shot command: "next try in 60 s" promised a try after it had ended.
    assert "extractive and verdicts offline for the rest of this run" in err
    assert "next try" not in err


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


# A page's title with what draws nothing: a combining grapheme joiner inside a host, a
# variation selector after a letter, a Hangul filler; an override and a zero-width space.
HIDDEN_TITLE = "paypal.c\u034fom: Alibaba\ufe0f shifts\u3164 to\u200b \u202erevenue"
HIDDEN_BODY = ("<p>Alibaba said\u200b it would keep its best Qwen models closed,\U000e0069 "
               "moving away from its open-source strategy for good, analysts said.</p>")


@pytest.mark.parametrize("head", [f"<title>{HIDDEN_TITLE}</title>",
                                  f'<meta property="og:title" content="{HIDDEN_TITLE}">'])
def test_brief_of_an_article_page_shows_no_hidden_characters(env, capsys, tmp_path, head):
    """A feed's title and text lose what draws nothing (feeds/invisible.py); a page's
    kept it: "paypal.c\u034fom" read as paypal.com and was another host to any check."""
    page = tmp_path / "article.html"
    page.write_text(f"<html><head>{head}</head><body><article>{HIDDEN_BODY * 3}</article>"
                    "</body></html>", encoding="utf-8")
    code, out, _ = run_cli(capsys, "brief", str(page), "--json")
    brief = json.loads(out)
    assert code == 0 and brief["headline"] == "paypal.com: Alibaba shifts to revenue", brief
    from feeds.invisible import IGNORABLE
    assert not IGNORABLE.search(json.dumps(brief, ensure_ascii=False)), brief


def test_brief_reads_stdin_and_prints_for_people():
    text = (DATA / "seed-story.txt").read_bytes()
    proc = subprocess.run([AINEWS, "brief", "-"], input=text, capture_output=True, timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and SEED_HEADLINE in out and "Why it matters" in out


def test_brief_of_missing_file_is_one_line(env, capsys):
    code, _, err = run_cli(capsys, "brief", "nope.xml")
    assert code == 2 and "brief: cannot read nope.xml" in err
