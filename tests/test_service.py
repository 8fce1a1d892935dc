"""`ainews run` end to end, as a real subprocess: local feed server -> console output.

Covers first-poll silence, crash safety (a SIGKILL mid-delivery followed by a restart
loses nothing), stopping by signal without waiting for a slow feed, one instance per
database, and the demo."""
from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import signal
from pathlib import Path

import pytest

from storage.store import Store
from tests.fakes.feedserver import make_rss
from tests.fakes.stories import archive_entry, strategy_entry
from tests.service_kit import (AINEWS, env_for, hangups_heard, run_once, story_links, publish, run_once_log,
                               run_once_output_and_log, empty_feed_server)


server = pytest.fixture(empty_feed_server, name="server")


RULE = "-" * 72


async def test_first_poll_is_silent_then_new_story_is_posted(server, tmp_path):
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    first = await run_once(env)
    assert story_links(first) == []           # backlog: stored, never posted
    publish(server, 1, [strategy_entry(0), strategy_entry(1)])
    second = await run_once(env)
    assert story_links(second) == ["https://news.example.com/story/1"]
    assert "Tencent cuts prices of its AI models" in second and "Why it matters" in second
    assert story_links(await run_once(env)) == []   # nothing twice


async def read_until_posts(proc, count: int) -> str:
    seen = ""
    while seen.count(RULE) < count:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, "ainews run exited before posting"
        seen += line.decode()
    return seen


async def test_sigkill_mid_delivery_loses_nothing(server, tmp_path):
    n_feeds, n_new = 4, 48
    publish(server, n_feeds, [archive_entry(f) for f in range(n_feeds)])
    env = env_for(tmp_path, [server.url(f"/feed{f}.xml") for f in range(n_feeds)])
    await run_once(env)                          # first poll: feeds known, nothing posted
    publish(server, n_feeds, [strategy_entry(i) for i in range(n_new)])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    # We read slowly: the pipe fills and the bot is blocked mid-delivery when killed.
    printed = await read_until_posts(proc, 3)
    proc.send_signal(signal.SIGKILL)
    printed += (await proc.stdout.read()).decode()
    await proc.wait()
    with Store(tmp_path / "ainews.db") as store:
        pending = store.outbox_counts()
    assert sum(n for state, n in pending.items() if state != "sent") > 0, pending
    printed += await run_once(env)
    with Store(tmp_path / "ainews.db") as store:   # every new strategy story (cluster lead)
        expected = {b.url for b in store.latest(1000, strategy_only=True)}
    assert len(expected) > n_new * 3 // 4
    links = story_links(printed)
    assert set(links) == expected
    assert len(links) - len(expected) <= 1       # at most the one in flight at the kill


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_signal_stops_the_service_cleanly(server, tmp_path, sig):
    """SIGHUP too: an ssh session dropped with `make run` in it, or a `kill -HUP` meant
    as "reload", killed the bot with no log line (and systemd took it for a clean exit)."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE,
                                                preexec_fn=hangups_heard)
    log = b""
    while b"service: adapters: console" not in log:
        log += await asyncio.wait_for(proc.stderr.readline(), 30)
    proc.send_signal(sig)
    rest = await asyncio.wait_for(proc.stderr.read(), 30)
    assert await proc.wait() == 0
    assert b"service: stopped" in rest and b"Traceback" not in log + rest
    assert f"service: {sig.name} received, shutting down".encode() in rest
    if sig == signal.SIGHUP:
        assert b"ainews has no reload" in rest


async def test_a_bot_started_with_nohup_outlives_the_hang_up(server, tmp_path):
    """`nohup ainews run &`: SIGHUP ignored on purpose, so the bot outlives the ssh
    session; the service took SIGHUP over anyway and stopped at the hang-up."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    proc = await asyncio.create_subprocess_exec(
        AINEWS, "run", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    log = b""
    while b"service: adapters: console" not in log:
        log += await asyncio.wait_for(proc.stderr.readline(), 30)
    polls = len(server.requests_for("/feed0.xml"))
    proc.send_signal(signal.SIGHUP)
    for _ in range(600):                   # until a poll pass after the hang-up, or an exit
        if len(server.requests_for("/feed0.xml")) > polls + 1 or proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    assert proc.returncode is None, "ainews run stopped at a SIGHUP nohup ignores"
    proc.send_signal(signal.SIGTERM)       # the operator's stop, later
    rest = await asyncio.wait_for(proc.stderr.read(), 30)
    assert await proc.wait() == 0
    assert b"service: SIGTERM received, shutting down\n" in rest
    assert b"SIGHUP" not in rest


async def test_a_stop_does_not_wait_for_a_console_nobody_reads(server, tmp_path):
    """The terminal stops reading (Ctrl-S, `ainews run | less` left paused, a stuck log
    pipe): the console's print blocked the event loop, so SIGTERM (whose handler runs on
    it) did nothing until someone read stdout. The stop now ends the run once the post in
    flight's grace is over, saying so; that post, never written, is printed at the next
    start: nothing is lost."""
    from bench.soak_stories import StoryPool
    n_feeds = 4
    publish(server, n_feeds, [archive_entry(f) for f in range(n_feeds)])
    env = env_for(tmp_path, [server.url(f"/feed{f}.xml") for f in range(n_feeds)])
    await run_once(env)
    pool = StoryPool(seed=3, hostile_every=10**9)
    publish(server, n_feeds, [pool.next().rss_entry(0) for _ in range(500)])
    unread, stdout = os.pipe()                  # stdout's pipe: nobody reads it
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env, stdout=stdout,
                                                stderr=asyncio.subprocess.PIPE)
    os.close(stdout)
    try:
        await _until_stdout_blocks(proc)
        proc.send_signal(signal.SIGTERM)
        rest = asyncio.ensure_future(proc.stderr.read())
        exited = await asyncio.wait_for(asyncio.shield(proc.wait()), 40)
    except asyncio.TimeoutError:
        exited = None
    finally:
        printed = await asyncio.to_thread(_read_all, unread)   # the old code exits now
        await asyncio.wait_for(proc.wait(), 30)
    after = (await rest).decode()
    assert exited == 0, f"ainews run ignored SIGTERM while its stdout was not read: {after}"
    assert "console: stdout is not being read" in after and "service: stopped" in after
    second = await run_once_output_and_log(env)
    with Store(tmp_path / "ainews.db") as store:
        expected = {b.url for b in store.latest(1000, strategy_only=True)}
    links = set(re.findall(r"https://outlet\d+\.example\.com/news/\S+", printed + second[0]))
    assert expected <= links
    assert "recovered 1 post left in flight" in second[1]


async def _until_stdout_blocks(proc) -> str:
    """Wait (60 s at most) until a thread of the bot is blocked writing to its stdout
    pipe, which is full (Linux: /proc/PID/task/*/wchan); returns its log meanwhile."""
    log = ""
    for _ in range(1200):
        if _writing_to_a_full_pipe(proc.pid):
            return log
        with contextlib.suppress(asyncio.TimeoutError):
            log += (await asyncio.wait_for(proc.stderr.readline(), 0.05)).decode()
    proc.kill()
    pytest.fail(f"the bot never blocked on its stdout: {log[-600:]}")


def _writing_to_a_full_pipe(pid: int) -> bool:
    for task in glob.glob(f"/proc/{pid}/task/*"):
        with contextlib.suppress(OSError):      # a thread that just ended
            if "pipe_write" in Path(task, "wchan").read_text():
                return True
    return False


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


async def test_demo_shows_briefs_and_filters_the_review():
    proc = await asyncio.create_subprocess_exec(AINEWS, "demo", "--seconds", "9",
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "China’s Alibaba shifts towards revenue over open-source AI" in text
    assert "Why it matters" in text and "headphones" not in text


async def test_stop_does_not_wait_for_a_slow_feed(server, tmp_path):
    publish(server, 1, [strategy_entry(0)])
    server.add_slow("/slow.xml", 30.0, make_rss("Slow", []))
    env = env_for(tmp_path, [server.url("/feed0.xml"), server.url("/slow.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    while not server.requests_for("/slow.xml"):       # the pass is waiting on the slow feed
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(proc.stderr.read(), 10)   # well before the 15 s timeout
    assert await proc.wait() == 0 and b"poll pass in progress is abandoned" in rest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_run_once_without_waiting_for_a_slow_feed(server, tmp_path, sig):
    """Ctrl-C on a cron-style `run --once` must stop it, as it stops `run`."""
    publish(server, 1, [strategy_entry(0)])
    server.add_slow("/slow.xml", 30.0, make_rss("Slow", []))
    env = env_for(tmp_path, [server.url("/feed0.xml"), server.url("/slow.xml")])
    proc = await asyncio.create_subprocess_exec(AINEWS, "run", "--once", env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    while not server.requests_for("/slow.xml"):       # the pass is waiting on the slow feed
        await asyncio.sleep(0.05)
    proc.send_signal(sig)
    rest = await asyncio.wait_for(proc.stderr.read(), 10)   # well before the 15 s timeout
    assert await proc.wait() == 0 and b"poll pass in progress is abandoned" in rest


@pytest.mark.parametrize("second", [["run", "--once"], ["run"]])
async def test_a_second_instance_on_the_same_database_refuses_to_start(server, tmp_path,
                                                                      second):
    """Two `ainews run` on one database would both post (a second start also puts the
    first one's posts in flight back to due: duplicates). `ainews poll` may run beside
    it: it leaves posting to the bot (test_a_manual_poll_leaves_its_new_stories_to_the_bot_to_post)."""
    publish(server, 1, [strategy_entry(0)])
    env = env_for(tmp_path, [server.url("/feed0.xml")])
    first = await asyncio.create_subprocess_exec(AINEWS, "run", env=env,
                                                 stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.PIPE)
    try:
        log = b""
        while b"service: adapters: console" not in log:
            log += await asyncio.wait_for(first.stderr.readline(), 30)
        proc = await asyncio.create_subprocess_exec(AINEWS, *second, env=env,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2 and out == b""
        assert err.decode().startswith("ainews: service: another `ainews run` is using ")
        assert f"(pid {first.pid})" in err.decode() and "Traceback" not in err.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 30)
    assert first.returncode == 0
    assert "service: stopped" in await run_once_log(env)   # free again once it stopped


async def test_run_names_its_proxy_without_credentials_and_reads_loopback_straight(server,
                                                                                   tmp_path):
    from tests.fakes.proxy import FakeProxy
    publish(server, 1, [strategy_entry(0)])
    async with FakeProxy() as proxy:
        env = env_for(tmp_path, [server.url("/feed0.xml")], NO_PROXY=".corp",
                      HTTP_PROXY=proxy.url("bob", "s3cret"))
        log = await run_once_log(env)
    assert (f"service: through a proxy: http through http://***@127.0.0.1:{proxy.port} "
            "(straight to loopback and NO_PROXY: corp)") in log
    assert "s3cret" not in log and proxy.seen == [] and server.requests_for("/feed0.xml")
