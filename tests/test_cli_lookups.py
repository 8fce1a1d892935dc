"""`ainews` lookups (latest, search, company, topic) over a stored archive: titles,
minus words, limits and counts said the way chat says them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli import main
from tests.cli_kit import run_cli, db_env


env = pytest.fixture(db_env, name="env")


def store_rows(rows: list[tuple[str, str, str]]) -> None:
    """(id, title, text) rows stored as new stories, an hour apart, newest first."""
    from datetime import timedelta
    from feeds.models import Story, utcnow
    from storage.store import Store
    now = utcnow()
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([Story(sid, f"https://a.example/{sid}", title, text, "A",
                                     "https://a.example/rss", now - timedelta(hours=i))
                               for i, (sid, title, text) in enumerate(rows)],
                              backlog=False, now=now)


@pytest.mark.parametrize("flags, title, code", [
    ([], "Latest stories", 0),
    (["--strategy-only"], "Latest AI strategy news", 1),     # none of them: nothing there
])
def test_latest_is_titled_for_what_it_lists(env, capsys, flags, title, code):
    from feeds.models import Story, utcnow
    from storage.store import Store
    store = Store(os.environ["AINEWS_DB"])
    store.add_new_stories([Story("s1", "https://a.example/1", "A phone review", "Nice.", "A",
                                 "https://a.example/rss", utcnow())], backlog=False, now=utcnow())
    store.close()
    exit_code, out, _ = run_cli(capsys, "latest", *flags)
    assert exit_code == code and out.splitlines()[0] == title


@pytest.mark.parametrize("argv, found", [
    (["company", "nvidia"], {"deal", "laptop"}),
    (["company", "nvidia", "--strategy-only"], {"deal"}),
    (["topic", "chips"], {"deal", "laptop"}),
    (["topic", "chips", "--strategy-only"], {"deal"}),
])
def test_company_and_topic_list_other_news_unless_strategy_only(env, capsys, argv, found):
    """As `ainews latest` does: every stored story here, the chat's list (its strategy
    stories) with --strategy-only."""
    from feeds.models import Classification, Story, utcnow
    from storage.store import Store
    with Store(os.environ["AINEWS_DB"]) as store:
        store.add_new_stories([Story(sid, f"https://a.example/{sid}", title, title, "A",
                                     "https://a.example/rss", utcnow(),
                                     classification=Classification(strategy, 2.0, ("Nvidia",),
                                                                   ("chips",)))
                               for sid, title, strategy in [
                                   ("deal", "Nvidia buys a chip start-up", True),
                                   ("laptop", "A gaming laptop with Nvidia graphics", False)]],
                              backlog=False, now=utcnow())
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.splitlines()} == found


@pytest.fixture
def archive(env):
    """Three stored stories about OpenAI (one with Microsoft, one with Nvidia)."""
    rows = [("m", "OpenAI signs a Microsoft cloud deal", "OpenAI and Microsoft extend it."),
            ("t", "OpenAI opens a Tokyo office", "OpenAI will hire in Japan."),
            ("n", "Nvidia ships chips to OpenAI", "Nvidia said OpenAI bought them.")]
    store_rows(rows)


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


@pytest.mark.parametrize("argv, found", [
    (["tokyo office"], {"t"}),
    (["office tokyo"], set()),              # the words, but not as a phrase
    (["microsoft cloud", "openai"], {"m"}),
    (["openai", "-microsoft cloud"], {"t", "n"}),
    (['"signs a" openai'], {"m"}),          # quotes inside the argument, as typed
])
def test_search_reads_a_quoted_argument_as_a_phrase(archive, capsys, argv, found):
    """`ainews search "office tokyo"` found the Tokyo office story: the shell takes the
    quotes off, and the words were searched apart, where chat searches a phrase."""
    code, out, err = run_cli(capsys, "search", "--json", *argv)
    assert code == (0 if found else 1), err      # 1: nothing there
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


@pytest.fixture
def spellings(env):
    """Stories the index reads alike: "U.S.", "US" and "use" (all `us` to the stemmer,
    the first one as the words "u s"); "opens", "opened" and "OpenAI" (`opens*` was
    stemmed to `open*`)."""
    rows = [("dots", "U.S. widens its chip export rules", "The rules cover more chips."),
            ("caps", "US export ban hits Nvidia", "The ban starts in May."),
            ("use", "Firms use export data to train models", "They say it helps."),
            ("spaced", "Model U S-class export edition ships", "A product name."),
            ("opens", "Alibaba opens its Qwen weights", "Anyone may download them."),
            ("opened", "Tencent opened a lab in Paris", "It hires researchers."),
            ("openai", "OpenAI signs a cloud deal", "The deal is large."),
            ("zh", "阿里巴巴发布AI芯片", "通义千问Qwen3模型降价。")]
    store_rows(rows)


@pytest.mark.parametrize("query, found", [
    # The index holds "U.S." as "u s", and "US" as "us", which is also "use": searched
    # as typed, with its dots or closed up ("chat-gpt" finds ChatGPT), and nothing else.
    (["U.S.", "export"], {"dots", "caps"}),
    (['"U.S."', "export"], {"dots", "caps"}),
    (["US", "export"], {"dots", "caps"}),       # found "use" too: the stemmer's `us`
    (["us", "export"], {"caps", "use"}),        # lower case: a pronoun or the country
    # A prefix as typed: `opens*` found "opened" and "OpenAI" (the stemmer's `open*`).
    (["opens*"], {"opens"}),
    (["open*"], {"opens", "opened", "openai"}),
    (["Alibaba-ope*"], {"opens"}),
    # Latin words inside Chinese text, as the unspaced scan finds them.
    (["AI"], {"zh"}),
    (["qwen3*"], {"zh"}),
])
def test_search_finds_what_was_typed_not_what_the_stemmer_reads_alike(spellings, capsys,
                                                                       query, found):
    code, out, err = run_cli(capsys, "search", "--json", *query)
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.splitlines()} == found


def test_search_options_still_say_what_is_wrong(archive, capsys):
    with pytest.raises(SystemExit):
        run_cli(capsys, "search", "openai", "--limit")
    assert "--limit" in capsys.readouterr().err


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


@pytest.mark.parametrize("argv, code", [(["latest"], 0), (["company", "qwen"], 1),
                                        (["topic", "open source"], 1)])   # 1: none found
def test_a_lookup_does_not_build_the_classifiers_phrase_scan(archive, capsys, monkeypatch,
                                                             argv, code):
    """A lookup needs the gazetteer's names, not the scan that classifies: compiling its
    pattern was 0.17 s of every `ainews latest` (0.7 s)."""
    import feeds.phrases
    compiled = []
    real = feeds.phrases.re.compile
    monkeypatch.setattr(feeds.phrases.re, "compile",
                        lambda p, *a: compiled.append(len(p)) or real(p, *a))
    exit_code, out, _ = run_cli(capsys, *argv)
    assert exit_code == code and out and not [n for n in compiled if n > 10_000]


def test_a_lookup_does_not_load_the_http_client(archive, tmp_path):
    """aiohttp (for feeds, chat, loopback servers) was imported by every lookup, though
    a lookup reads only the database: 0.13 s of each `ainews latest`."""
    code = ("import sys; from bot.cli import main; code = main(['latest']); "
            "print(code, 'aiohttp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=os.environ, timeout=120).stdout
    assert out.splitlines()[-1] == "0 False"


CONSOLE_OFF = "the console adapter is off (a chat platform is configured)"


@pytest.mark.parametrize("argv", [["company", "qwen"], ["topic", "chips"],
                                  ["latest", "--topic", "chips"]],
                         ids=["company", "topic", "latest-topic"])
@pytest.mark.parametrize("console, next_step", [
    ("", "`ainews latest` shows the newest stories; the running bot prints the next one "
         "on its console."),
    (CONSOLE_OFF, "`ainews latest` shows the newest stories."),
    (None, "`ainews latest` shows the newest stories."),
], ids=["console-follows-all", "console-paused", "no-console"])
def test_an_empty_lookup_names_no_chat_command_or_channel(env, capsys, argv, console,
                                                          next_step):
    """The terminal is no channel and has no `subscribe`: an empty `ainews company qwen`
    said "this channel follows it, so the next one is posted here", or sent the operator
    to "`subscribe Alibaba` (admins)", a command only chat has."""
    from feeds.models import Subscription
    from storage.store import Store
    with Store(os.environ["AINEWS_DB"]) as store:
        if console is not None:
            store.subscribe(Subscription("console", "console", "console", "all", "all"))
        if console:
            store.pause_channel("console", "console", console)
    code, out, err = run_cli(capsys, *argv)
    assert code == 1, err       # nothing there
    assert out.rstrip().endswith(next_step)
    assert "subscribe" not in out and "channel" not in out


@pytest.mark.parametrize("argv", [
    ["search", "a*"],                                   # fewer than 3 letters before *
    ["search", '"a b c d e f g h i"'],                  # a phrase of more than 8 words
    ["search", *[f"w{i}" for i in range(17)]],          # more than 16 words
    ["search", "x" * 301],                              # over 300 characters
    ["search", "-openai"],                              # nothing to look for
    ["why", ""],                                        # no link given
    ["chat", "bogus"],                                  # no such command
])
def test_a_request_to_fix_exits_2(archive, capsys, argv):
    """README, "Exit codes": 1 is "nothing there", 2 "what to fix". A search refused
    for its input exited 1, as if the archive had nothing on it."""
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, (code, err)


@pytest.mark.parametrize("argv", [
    ["company", "zzzcorp"], ["topic", "zzztopic"], ["latest", "--topic", "zzztopic"],
    ["why", "https://a.example/none"], ["chat", "subscribe zzzcorp"],
])
def test_something_unknown_exits_1(archive, capsys, argv):
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and len(err.strip().splitlines()) == 1, (code, err)


@pytest.mark.parametrize("argv", [
    ["search", "zeppelin"], ["search", "office tokyo"], ["company", "Anthropic"],
    ["topic", "chips"], ["latest", "--topic", "funding"],
])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_lookup_that_finds_no_story_exits_1(archive, capsys, argv, as_json):
    """A search with no match exited 0, as one with matches did, while `company zzz`
    exited 1: a script could not tell "nothing there" (README, "Exit codes") from a
    hit, and with --json it printed nothing at all. Stdout keeps only the rows."""
    code, out, err = run_cli(capsys, *argv, *["--json"] * as_json)
    note, rest = (err, out) if as_json else (out, err)
    assert code == 1 and "`ainews latest` shows the newest stories" in note, (code, out, err)
    assert rest == "" and (len(note.strip().splitlines()) == 1 if as_json else
                           note.strip().splitlines()[-1].startswith(("No ", "Nothing ")))
