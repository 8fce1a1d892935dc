"""Slack's HTTP mode: the /slack/events endpoint on AINEWS_HTTP_PORT. bolt checks each
request's signature; this adds what bolt leaves out: a replayed request is refused, a
body that is not Slack's is refused in one line, and refusals are said without letting
a stranger fill the log."""
from __future__ import annotations

import hashlib
import hmac
import logging
import time

from feeds.plural import count

log = logging.getLogger("ainews.slack")

EVENTS_PATH = "/slack/events"
REQUEST_MAX_AGE = 300.0     # seconds: bolt's limit on a request timestamp's distance from now
NOTE_GAP = 600.0            # seconds between two warnings about refused requests
# Why a request was refused, and what an operator reading it should do.
BAD_SIGNATURE = ("with a bad or stale signature",
                 "if Slack sent them, check SLACK_SIGNING_SECRET and this machine's clock")
REPLAYED = ("whose signature was already used (replays)",
            "Slack never sends a request twice: someone may be replaying captured ones")


async def start_http(runner, host: str, port: int, secret: str) -> None:
    from aiohttp import web

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, _events_handler(runner, secret))
    site_runner = await _listen(web_app, host, port)
    runner._closers.append(site_runner.cleanup)
    runner.mode = "http"
    runner.http_port = site_runner.addresses[0][1] if site_runner.addresses else port
    shown = f"[{host}]" if ":" in host else host      # an IPv6 address, as in a URL
    runner.listening = f"{shown}:{runner.http_port} at {EVENTS_PATH}"


def _events_handler(runner, secret: str):
    """The endpoint's handler: a replayed or unreadable request refused before bolt
    runs it; bolt checks the signature."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    replays, bad, replayed = ReplayGuard(), Refusals(BAD_SIGNATURE), Refusals(REPLAYED)

    async def events(request: web.Request) -> web.Response:
        signature = request.headers.get("X-Slack-Signature", "")
        if not replays.first_use(signature, time.monotonic()):
            replayed.refused(time.monotonic())
            return web.Response(status=401, text="replayed request")
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError as exc:   # bolt parses the body before it checks the signature
            replays.forget(signature)
            return _unreadable(request.headers, await request.read(), secret, exc)
        except ConnectionError:     # the sender went away mid-body: nothing to answer
            replays.forget(signature)
            return web.Response(status=400, text="incomplete request")
        bolt_response = await runner.app.async_dispatch(bolt_request)
        if bolt_response.status == 401:
            replays.forget(signature)    # bolt refused it: it never ran, so it spends nothing
            bad.refused(time.monotonic())
        return await to_aiohttp_response(bolt_response)

    return events


async def _listen(web_app, host: str, port: int):
    """The endpoint served on host:port (its AppRunner); SlackStartError, one line, when
    the port can't be had."""
    from aiohttp import web
    site_runner = web.AppRunner(web_app, access_log=None)
    await site_runner.setup()
    site = web.TCPSite(site_runner, host=host, port=port)
    try:
        await site.start()
    except OSError as exc:
        await site_runner.cleanup()
        from bot.slack.app import SlackStartError
        raise SlackStartError(f"slack: can't listen on port {port} ({exc.strerror}); "
                              "set AINEWS_HTTP_PORT to a free port") from None
    return site_runner


def _unreadable(headers, body: bytes, secret: str, exc: ValueError):
    """A body bolt can't parse (not UTF-8, a `payload` that isn't JSON): 401 unless Slack
    signed it, as bolt answers any unsigned request, so strangers can't fill the log;
    signed, one line (it would otherwise be a 500 and a traceback per request)."""
    from aiohttp import web
    if not signed(secret, headers, body, time.time()):
        return web.Response(status=401, text="invalid request")
    log.warning("slack: refused a signed request to %s whose body is not a Slack payload "
                "(%s: %s)", EVENTS_PATH, type(exc).__name__, str(exc)[:80])
    return web.Response(status=400, text="not a Slack request")


def signed(secret: str, headers, body: bytes, now: float) -> bool:
    """Slack's request signature (v0, HMAC-SHA256 over the raw bytes), timestamp fresh."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    try:
        if abs(now - int(stamp)) > REQUEST_MAX_AGE:
            return False
    except ValueError:
        return False
    mac = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + mac.hexdigest(), headers.get("X-Slack-Signature", ""))


class ReplayGuard:
    """Signatures of requests already taken. bolt refuses a timestamp more than five
    minutes off (either way), so a signature has to be remembered only that long; within
    that window the same signed request sent again is a replay, and Slack itself never
    resends a slash command or a button click."""

    def __init__(self, keep_seconds: float = 2 * REQUEST_MAX_AGE + 60):
        self.keep = keep_seconds
        self._seen: dict[str, float] = {}       # signature -> first seen (monotonic)

    def first_use(self, signature: str, now: float) -> bool:
        while self._seen and now - next(iter(self._seen.values())) > self.keep:
            del self._seen[next(iter(self._seen))]
        if not signature:
            return True                  # unsigned: bolt refuses it anyway
        if signature in self._seen:
            return False
        self._seen[signature] = now
        return True

    def forget(self, signature: str) -> None:
        self._seen.pop(signature, None)


class Refusals:
    """Requests refused for one reason, said in one warning at most every NOTE_GAP.
    Unsaid, a wrong SLACK_SIGNING_SECRET or a clock more than five minutes off refuses
    every real command without a trace; said per request (as bolt did, with the body),
    anyone who can reach the port fills the log."""

    def __init__(self, why: tuple[str, str], gap: float = NOTE_GAP):
        self.why, self.gap, self.unsaid, self.said_at = why, gap, 0, None

    def refused(self, now: float) -> None:
        self.unsaid += 1
        if self.said_at is not None and now - self.said_at < self.gap:
            return
        log.warning("slack: refused %s to %s %s%s; %s", count(self.unsaid, "request"),
                    EVENTS_PATH, self.why[0],
                    "" if self.said_at is None else f" in the last {self.gap / 60:g} minutes",
                    self.why[1])
        self.unsaid, self.said_at = 0, now
