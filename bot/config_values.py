"""Settings' values: one parser per kind of setting (yes/no, a number in a range, a
path, a file of CA certificates, a URL, a list of user IDs, an LLM API's base URL, a secret sent in an HTTP header
(a token: no spaces), a limit the word `unlimited` lifts, a log level). Each takes (name,
raw) and raises ConfigError, one line naming the variable; bot/config.py maps each
variable to its parser."""
from __future__ import annotations

import math
import re
import ssl
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is wrong; str() is the one line to show the user."""


def yes_no(name: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"config: {name}={raw!r} is not a yes/no value (use 1 or 0)")


def ranged_number(kind, name: str, raw: str, minimum: float, maximum: float | None = None):
    try:
        value = kind(raw.strip())
    except ValueError:
        value = math.nan
    if math.isnan(value):   # float("nan") parses, but no schedule or timeout can use it
        word = "a whole number" if kind is int else "a number"
        raise ConfigError(f"config: {name}={raw!r} is not {word}") from None
    if value < minimum:
        raise ConfigError(f"config: {name}={raw!r} must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"config: {name}={raw!r} must be at most {maximum:g}")
    return value


def user_path(raw: str) -> Path:
    # `.env`, docker's --env-file and systemd pass "~/..." unexpanded: no shell reads them.
    return Path(raw.strip()).expanduser()


def id_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated user IDs (SLACK_ADMIN_USER_IDS, DISCORD_ADMIN_USER_IDS). Each
    platform's adapter checks their form at start and warns of those that can't match."""
    return tuple(x.strip() for x in raw.split(",") if x.strip())


def db_path(name: str, raw: str) -> Path:
    """A database: a path (as user_path) or an SQLite URI (storage/db_path.py)."""
    from storage.db_path import db_setting
    try:
        return db_setting(raw)
    except ValueError as e:
        raise ConfigError(f"config: {name}={raw!r} {e}") from None


def ca_file(name: str, raw: str) -> Path | None:
    """A PEM file of CA certificates (AINEWS_CA_FILE), read now: a wrong path would
    otherwise surface as every https feed, Discord, Slack and the LLM failing at once."""
    if not raw.strip():
        return None
    path = user_path(raw)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError:   # an OSError too: first
        raise ConfigError(f"config: {name}={raw!r} holds no PEM certificate (a CA's, "
                          "-----BEGIN CERTIFICATE-----)") from None
    except OSError as e:
        raise ConfigError(f"config: {name}={raw!r}: cannot read it "
                          f"({e.strerror or type(e).__name__})") from None
    return path


def http_url(name: str, raw: str) -> str:
    v = raw.strip()
    if v and not v.startswith(("http://", "https://", "ws://", "wss://")):
        raise ConfigError(f"config: {name}={_shown(raw)!r} must start with http:// or "
                          "https://")
    return v


def _shown(url: str) -> str:
    """The URL as an error may print it: a user:password@ part is a secret (hidden as a
    feed's URL is). Imported here: only an error needs it, and it brings lxml along."""
    from feeds.urls import without_secrets
    return without_secrets(url)


def llm_url(name: str, raw: str) -> str:
    """The API's base, as the openai client takes it: a pasted endpoint
    (.../v1/chat/completions) or a host-less URL would fail every call with a 404 or a
    connection error, found only at the first brief."""
    v = http_url(name, raw).rstrip("/")
    try:
        parts = urlsplit(v)
    except ValueError:   # "http://[::1/v1": urlsplit's own error was a traceback, exit 1
        parts = urlsplit("")
    if v and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ConfigError(f"config: {name}={_shown(raw)!r} must be an http(s) URL with a host, "
                          "e.g. http://localhost:11434/v1")
    base = re.sub(r"/(chat/)?completions$", "", v)
    if base != v:
        raise ConfigError(f"config: {name}={_shown(raw)!r} is the chat endpoint; set the "
                          f"API's base instead: {_shown(base)}")
    return v


def _header_secret(name: str, raw: str) -> str:
    """A key or token sent in an HTTP header (LLM_API_KEY, the chat tokens; Slack's
    signing secret too, ASCII hex): printable ASCII only. A key pasted with typographic
    quotes or an ellipsis failed every call with a UnicodeEncodeError naming no setting.
    The error does not print the key, only the character at fault."""
    v = _unquoted(raw.strip())
    bad = next((i for i, c in enumerate(v) if not " " <= c <= "~"), None)
    if bad is not None:
        raise ConfigError(f"config: {name}=[not shown] holds {v[bad]!r} (character {bad + 1} "
                          f"of {len(v)}), which an HTTP header cannot carry: was it pasted "
                          "with typographic quotes or an ellipsis?")
    return v


def _unquoted(v: str) -> str:
    """`docker run --env-file` keeps the quotes python-dotenv strips (KEY="..."): sent
    with them, a token was refused. No key or token is quoted in itself."""
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1].strip()
    return v


def token(name: str, raw: str) -> str:
    """A Slack token or signing secret, an LLM API key: a header secret without spaces.
    `docker run --env-file` keeps an inline comment (`SLACK_BOT_TOKEN=xoxb-... # bot`) in
    the value, and Slack refused it as invalid_auth with no hint why."""
    v = _header_secret(name, raw)
    if " " in v:
        raise ConfigError(f"config: {name}=[not shown] holds a space, which a token or key "
                          "never does: docker's --env-file keeps text after `#` (an inline "
                          "comment) as part of the value; put the comment on a line of its own")
    return v


def bot_token(name: str, raw: str) -> str:
    """DISCORD_TOKEN: discord.py sends it after "Bot ", so one copied with its "Bot "
    (from a request's Authorization header) was refused as if mistyped; a token has no
    space, so one with another is refused here with the reason (an inline comment too,
    as token's)."""
    v = re.sub(r"^Bot\s+", "", _header_secret(name, raw), flags=re.IGNORECASE)
    if any(c.isspace() for c in v):
        raise ConfigError(f"config: {name}=[not shown] holds a space, which a bot token "
                          "never does: copy the token alone from the Developer Portal "
                          "(Bot > Reset Token), with any comment on a line of its own "
                          "(docker's --env-file keeps text after `#` in the value)")
    return v


def gate_margin(name: str, raw: str) -> float | None:
    """A margin like AINEWS_LLM_JUDGE_MARGIN's, or "off": the AI gate's "no" stands."""
    if raw.strip().lower() == "off":
        return None
    return ranged_number(float, name, raw, 0, 1)


# One word lifts any limit. 0 lifts the limits where zero could mean nothing else (an
# age, days kept, an answer's tokens), as it always has; for the hourly call caps 0 is
# zero calls, so "unlimited" is their only way to say "no cap" (`none` or `off` would
# read either way there).
UNLIMITED = "unlimited"


def _limit(kind, name: str, raw: str, minimum: float, maximum: float | None, spellings: str):
    """A number, or UNLIMITED (None); a bad value's line lists what is accepted."""
    if raw.strip().lower() == UNLIMITED:
        return None
    try:
        return ranged_number(kind, name, raw, minimum, maximum)
    except ConfigError as e:
        raise ConfigError(f"{e}; use {spellings}") from None


def hourly_cap(name: str, raw: str) -> int | None:
    """Calls an hour: 0 is none at all (the LLM unused), `unlimited` no cap."""
    return _limit(int, name, raw, 0, None, "a number of calls (0: no calls at all) or "
                  f"{UNLIMITED} (no cap)")


def channel_cap(name: str, raw: str) -> int:
    """Posts a channel gets an hour, 1 or more. Not `unlimited`, though the other caps
    take it: past the cap stories go out in roundups instead of burying a channel."""
    spellings = "use a number of posts an hour, 1 or more, e.g. 60"
    if raw.strip().lower() == UNLIMITED:
        raise ConfigError(f"config: {name}={raw!r}: a channel's posts always have a cap "
                          f"(past it they go out in roundups); {spellings}")
    try:
        return ranged_number(int, name, raw, 1)
    except ConfigError as e:
        raise ConfigError(f"{e}; {spellings}") from None


def channels_cap(name: str, raw: str) -> int | None:
    """Channels of one server or workspace getting posts: 1 or more, or `unlimited`."""
    return _limit(int, name, raw, 1, None, f"a number of channels, 1 or more, or {UNLIMITED}")


def max_post_age(name: str, raw: str) -> float:
    hours = _limit(float, name, raw, 0, 24 * 366, f"a number of hours or {UNLIMITED} (0: "
                   "the same, no limit)")
    return hours or 0.0


def keep_days(name: str, raw: str) -> int:
    """0 or `unlimited` keeps everything; else at least 3 days: a new report joins the
    cluster of one within 48 h, compared by text, so a story must stay whole that long."""
    spellings = f"3 or more days, or {UNLIMITED} (0: the same, keep everything)"
    days = _limit(int, name, raw, 0, 36600, spellings) or 0
    if 0 < days < 3:
        raise ConfigError(f"config: {name}={raw!r} is too few (stories are clustered by "
                          f"their text within 48 h); use {spellings}")
    return days


def max_tokens(name: str, raw: str) -> int:
    """0 or `unlimited` sends no cap; else at least 256: below it not even an English
    brief (about 230 tokens) fits, and every answer would be cut off."""
    spellings = f"256 or more, or {UNLIMITED} (0: the same, no cap)"
    cap = _limit(int, name, raw, 0, None, spellings) or 0
    if 0 < cap < 256:
        raise ConfigError(f"config: {name}={raw!r} is too few (a long brief takes about "
                          f"230 tokens in English, 1,200 in Chinese); use {spellings}")
    return cap


def level_name(name: str, raw: str) -> str:
    v = raw.strip().upper()
    v = "WARNING" if v == "WARN" else v     # Python's logging takes WARN too
    if v not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"config: {name}={raw!r} must be DEBUG, INFO, WARNING or ERROR")
    return v


# The standard proxy variables, each in the spellings curl and urllib read: the lower
# case one wins when both are set (as there); an empty value is unset.
PROXY_NAMES = {"https": ("https_proxy", "HTTPS_PROXY"), "http": ("http_proxy", "HTTP_PROXY"),
               "no_proxy": ("no_proxy", "NO_PROXY")}


def proxies(values: Mapping[str, str]):
    """The Proxies (feeds/proxy.py) the environment and .env set; ConfigError naming the
    variable for a malformed one, its credentials not shown."""
    from feeds.proxy import Proxies, Proxy, parse_no_proxy, parse_proxy
    found = {}
    for key, names in PROXY_NAMES.items():
        name = next((n for n in names if (values.get(n) or "").strip()), None)
        if name is None:
            continue
        try:
            found[key] = (parse_no_proxy(values[name]) if key == "no_proxy"
                          else Proxy(parse_proxy(values[name]), name))
        except ValueError as e:
            raise ConfigError(f"config: {name}={_masked(values[name].strip())!r} {e}") from None
    return Proxies(**found)


def _masked(raw: str) -> str:
    """A proxy setting as an error shows it: user:password@, with or without a scheme
    (feeds.urls.without_secrets needs one), written as ***@. Up to the value's last "@":
    random passwords hold "/" and "@", which a proxy setting has no other use for."""
    return re.sub(r"^([a-z0-9+.-]+://)?.*@", r"\1***@", raw, flags=re.I | re.S)
