"""Rebuilding fresh5-fresh9 from the three daily RSS archives (bench/rebuild_archives.py) and
checking rebuilt items against a copy (bench/rebuild_check.py). Every entry here is
invented; no outlet's text."""
from __future__ import annotations

import hashlib
import json

import pytest

from bench import eval_classify as ev
from bench import rebuild_sets as rb
from bench.rebuild_archives import eric_entries, kosih_entries, pulkit_entries
from bench.rebuild_match import read_sources
from tests.rebuild_kit import mirror

KOSIH, ERIC, PULKIT = "kosih77778/tech-pulse", "EricArnold6/newspaper-about-ai", "PulkitNigam/digest-fetcher"
KDAY, DAY = "data/archive/2026-03-02.json", "data/2026-03-02.json"


def _fields(entry):
    return entry.link, entry.title, entry.summary, entry.published, entry.outlet


def test_tech_pulse_keeps_english_news_feeds_with_a_summary_and_names_the_outlet():
    day = {"tabs": {"ai": [
        {"title": "Acme &amp;amp; Beta <b>merge</b>", "summary": "<p>An  invented\nstory.</p>",
         "url": "https://news.invalid/a", "published": "2026-03-01 22:07", "source": "TechCrunch AI", "lang": "en"},
        {"title": "日本語", "summary": "要約", "url": "https://news.invalid/ja", "published": "2026-03-01 10:00",
         "source": "TechCrunch AI", "lang": "ja"},
        {"title": "A vendor post", "summary": "x", "url": "https://vendor.invalid/p", "published": "2026-03-01 10:00",
         "source": "Vendor Blog", "lang": "en"}],
        "funding": [{"title": "No summary", "summary": "", "url": "https://news.invalid/b",
                     "published": "2026-03-01 09:00", "source": "TechCrunch VC", "lang": "en"}]}}
    assert [_fields(e) for e in kosih_entries(json.dumps(day).encode())] == [
        ("https://news.invalid/a", "Acme & Beta merge", "An invented story.", "2026-03-01T22:07:00+00:00",
         "TechCrunch")]


def test_newspaper_reads_every_section_and_drops_the_wordpress_footer():
    day = {"sections": {"product_updates": [
        {"title": "Acme ships a model",
         "content": "An invented lead. The post Acme ships a model appeared first on Blog.",
         "source": "TechCrunch AI", "url": "https://news.invalid/m", "published": "2026-03-01T12:00:00Z"}],
        "technical_breakthroughs": [
        {"title": "A lab note", "content": "", "source": "DeepMind Blog", "url": "https://lab.invalid/n",
         "published": "2026-03-01T11:00:00+00:00"},
        {"title": "Chips", "content": "Invented.", "source": "Ars Technica AI", "url": "https://news.invalid/c",
         "published": "2026-03-01T08:00:00-05:00"}]}}
    assert [_fields(e) for e in eric_entries(json.dumps(day).encode())] == [
        ("https://news.invalid/m", "Acme ships a model", "An invented lead.", "2026-03-01T12:00:00+00:00",
         "TechCrunch"),
        ("https://news.invalid/c", "Chips", "Invented.", "2026-03-01T13:00:00+00:00", "Ars Technica")]


def test_digest_reads_the_news_feeds_of_its_rss_part_with_rfc822_times_in_utc():
    long = "word " * 400
    day = {"youtube": {"Channel": []}, "rss": {
        "MIT Tech Review": {"updated": "x", "items": [
            {"title": "A long one", "summary": long, "url": "https://news.invalid/l",
             "published": "Tue, 06 Oct 2026 10:35:00 +0000"}]},
        "Hacker News best": {"items": [{"title": "HN", "summary": "s", "url": "https://hn.invalid/1",
                                        "published": "Tue, 06 Oct 2026 10:35:00 +0000"}]}}}
    (entry,) = pulkit_entries(json.dumps(day).encode())
    assert (entry.outlet, entry.published) == ("MIT Technology Review", "2026-10-06T10:35:00+00:00")
    assert entry.summary.endswith("word …") and len(entry.summary) <= 1502


def test_a_sources_row_names_its_archive_file_as_repo_colon_path(tmp_path):
    (tmp_path / "s.tsv").write_text(
        "# link\torigin (repo:path)\toutlet\tpublished\tkind\tl1\tl2\n"
        f"https://news.invalid/a\t{ERIC}:{DAY}\tTechCrunch\t2026-03-01T12:00:00+00:00\tai\t1\t1\n"
        f"https://news.invalid/b\t{PULKIT}:{DAY} (a copy read another way)\tThe Verge\t2026-03-01T09:00:00+00:00"
        "\tother\t0\t0\n", encoding="utf-8")
    rows = read_sources(tmp_path / "s.tsv", default=("owner/dump", "dump.gz"))
    assert [(r.repo, r.path, r.outlet) for r in rows.values()] == [
        (ERIC, DAY, "TechCrunch"), (PULKIT, DAY, "The Verge")]


# ---- end to end: an archive set from mirrors made in the test's folder ----------------------

@pytest.fixture
def archived(tmp_path, monkeypatch):
    """An invented set `arch` of one tech-pulse entry and one digest entry, its mirrors,
    and a copy of its items as its collector wrote them. Returns the main() arguments."""
    kday = {"tabs": {"ai": [{"title": "Acme raises $5M", "summary": "Invented.", "url": "https://news.invalid/k",
                             "published": "2026-03-01 22:07", "source": "InfoQ", "lang": "en"}]}}
    pday = {"rss": {"The Verge": {"items": [{"title": "Beta cuts prices", "summary": "Invented too.",
                                             "url": "https://news.invalid/p",
                                             "published": "Sun, 01 Mar 2026 10:00:00 +0000"}]}}}
    mirror(tmp_path, KOSIH, {KDAY: json.dumps(kday).encode()})
    mirror(tmp_path, PULKIT, {DAY: json.dumps(pday).encode()})
    data = tmp_path / "data"
    data.mkdir()
    rows = [("https://news.invalid/k", f"{KOSIH}:{KDAY}", "InfoQ"),
            ("https://news.invalid/p", f"{PULKIT}:{DAY}", "The Verge")]
    (data / "arch-sources.tsv").write_text("".join(f"{link}\t{origin}\t{outlet}\tx\tai\t1\t1\n"
                                                   for link, origin, outlet in rows), encoding="utf-8")
    (data / "arch.tsv").write_text("https://news.invalid/k\t1\tx\nhttps://news.invalid/p\t0\tx\n", encoding="utf-8")
    monkeypatch.setattr(rb, "DATA", data)
    monkeypatch.setattr(rb, "SETS", {"arch": ("arch-sources.tsv", ("arch", "items.jsonl"))})
    monkeypatch.setitem(ev.SETS, "arch", data / "arch.tsv")
    copy = tmp_path / "copy" / "arch"
    copy.mkdir(parents=True)
    (copy / "items.jsonl").write_text(
        json.dumps({"link": "https://news.invalid/k", "title": "Acme raises $5M", "summary": "Invented.",
                    "published": "2026-03-01T22:07:00+00:00", "source": "InfoQ"}) + "\n" +
        json.dumps({"link": "https://news.invalid/p", "title": "Beta cuts prices", "summary": "Invented too.",
                    "published": "2026-03-01T10:00:00+00:00", "source": "The Verge"}) + "\n", encoding="utf-8")
    return ["--mirrors", str(tmp_path / "mirrors"), "--out-dir", str(tmp_path / "out"), "--only", "arch"]


def test_an_archive_set_is_written_with_its_collectors_fields(archived, tmp_path):
    assert rb.main(archived) == 0
    lines = (tmp_path / "out" / "arch" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first == {"id": hashlib.sha1(b"https://news.invalid/k").hexdigest(), "link": "https://news.invalid/k",
                     "title": "Acme raises $5M", "published": "2026-03-01T22:07:00+00:00", "source": "InfoQ",
                     "summary": "Invented.", "origin": f"{KOSIH}:{KDAY}"}
    assert json.loads(lines[1])["source"] == "The Verge"


def test_the_check_reports_every_item_identical_to_the_copy(archived, tmp_path, capsys):
    assert rb.main(archived + ["--check-against", str(tmp_path / "copy")]) == 0
    assert "arch: check against" in (out := capsys.readouterr().out) and "2 of 2 rebuilt items identical" in out


def test_the_check_names_a_field_that_differs_and_fails(archived, tmp_path, capsys):
    copy = tmp_path / "copy" / "arch" / "items.jsonl"
    copy.write_text(copy.read_text(encoding="utf-8").replace("Invented too.", "Edited."), encoding="utf-8")
    assert rb.main(archived + ["--check-against", str(tmp_path / "copy")]) == 1
    captured = capsys.readouterr()
    assert "1 of 2 rebuilt items identical" in captured.out
    assert "https://news.invalid/p: summary 'Edited.' -> 'Invented too.'" in captured.err


def test_an_archive_set_with_a_link_not_in_its_file_is_not_written(archived, tmp_path, capsys):
    with (rb.DATA / "arch.tsv").open("a", encoding="utf-8") as f:
        f.write("https://news.invalid/gone\t0\tx\n")
    with (rb.DATA / "arch-sources.tsv").open("a", encoding="utf-8") as f:
        f.write(f"https://news.invalid/gone\t{PULKIT}:{DAY}\tThe Verge\tx\tother\t0\t0\n")
    assert rb.main(archived) == 1
    assert f"https://news.invalid/gone: no entry in {PULKIT} {DAY}" in capsys.readouterr().err
    assert not (tmp_path / "out" / "arch").exists()
