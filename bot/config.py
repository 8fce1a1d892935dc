"""Settings: read once from the environment and `.env` into a frozen object.

Nothing else in the project reads os.environ. A bad value stops start-up with one
line naming the variable (ConfigError), never a traceback; each kind of value is read by
its parser in bot/config_values.py.
"""
from __future__ import annotations

import difflib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from bot.config_values import (PROXY_NAMES, UNLIMITED, ConfigError, bot_token, ca_file,
                               channel_cap, channels_cap, db_path, gate_margin, hourly_cap,
                               http_url, id_list, keep_days, level_name, llm_url, max_post_age,
                               max_tokens, proxies, ranged_number, token, user_path, yes_no)
from bot.config_links import LINK_ADDRESS, service_link
from feeds.proxy import Proxies

# The shipped base interval (AINEWS_POLL_MINUTES). Two minutes keeps a story's
# publish-to-post delay near two minutes (docs/benchmarks.md, section 4), the point of
# the bot; peers default to 10-60. A 304 costs an outlet little; quiet feeds drift to
# twice the base (feeds/schedule.py).
DEFAULT_POLL_MINUTES = 2.0


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("data/ainews.db")
    feeds_file: Path | None = None          # None: the bundled default list
    poll_minutes: float = DEFAULT_POLL_MINUTES
    max_post_age_hours: float = 48.0        # older stories are stored, not posted; 0: no limit
    keep_days: int = 180                    # stories older are slimmed (bot/retention.py); 0: never
    allow_private_hosts: bool = False
    ca_file: Path | None = None             # CAs every client trusts besides its own (feeds/tls.py)
    fetch_articles: bool = False
    console: bool = False                   # force the console adapter on
    log_level: str = "INFO"
    concurrency: int = 16
    per_host: int = 2
    channel_hourly_cap: int = 10
    # Channels (threads too) of one Discord server or Slack workspace that may get posts;
    # None: no cap. Anyone can add a public Discord bot to a server of their own.
    channels_per_server: int | None = 50
    user_data: Path | None = None           # extra companies/topics TOML
    http_port: int = 3000
    discord_token: str = field(default="", repr=False)
    discord_guild_id: int | None = None
    discord_api_url: str = ""
    discord_gateway_url: str = ""
    discord_threads: bool = False
    discord_admin_user_ids: tuple[str, ...] = ()   # besides the application's owner (feeds)
    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    slack_admin_user_ids: tuple[str, ...] = ()
    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_model: str = ""
    llm_hourly_cap: int | None = 120        # None: unlimited; 0: no calls at all
    llm_timeout: float = 30.0
    llm_concurrency: int = 4
    llm_max_tokens: int = 4096              # cap on an answer (feeds/llm.py MAX_TOKENS); 0: none
    llm_judge: bool | None = None           # None: on whenever an LLM is configured
    llm_judge_hourly_cap: int | None = 120  # judge calls, beside the condenser's cap; as above
    llm_judge_margin: float = 0.30          # also judge stories this far below the threshold
    llm_judge_gate_margin: float | None = 0.20   # ... and those the AI gate stopped (None: never)
    llm_same_event: bool = True             # with the judge: ask whether two reports are one event
    proxies: Proxies = Proxies()            # HTTPS_PROXY, HTTP_PROXY, NO_PROXY: every client's

    @property
    def llm_enabled(self) -> bool:
        return bool((self.llm_base_url or self.llm_api_key) and self.llm_model)

    @property
    def llm_judge_enabled(self) -> bool:
        return self.llm_enabled and self.llm_judge is not False

    @property
    def llm_judge_asks_gated(self) -> bool:
        """Whether the judge asks about stories the AI gate stopped (see Classifier)."""
        return self.llm_judge_enabled and self.llm_judge_gate_margin is not None

    @property
    def max_post_age(self) -> timedelta | None:
        """How old a newly seen story may be and still be posted; None: any age."""
        return timedelta(hours=self.max_post_age_hours) if self.max_post_age_hours else None

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def console_enabled(self) -> bool:
        return self.console or not (self.discord_enabled or self.slack_enabled)


# env var -> (Settings field, parser). Parsers take (name, raw).
_FIELDS = {
    "AINEWS_DB": ("db_path", db_path),
    "AINEWS_FEEDS": ("feeds_file", lambda n, v: user_path(v) if v else None),
    "AINEWS_POLL_MINUTES": ("poll_minutes", lambda n, v: ranged_number(float, n, v, 0.001, 1440)),
    "AINEWS_MAX_POST_AGE_HOURS": ("max_post_age_hours", lambda n, v: max_post_age(n, v)),
    "AINEWS_KEEP_DAYS": ("keep_days", lambda n, v: keep_days(n, v)),
    "AINEWS_ALLOW_PRIVATE_HOSTS": ("allow_private_hosts", yes_no),
    "AINEWS_CA_FILE": ("ca_file", ca_file),
    "AINEWS_FETCH_ARTICLES": ("fetch_articles", yes_no),
    "AINEWS_CONSOLE": ("console", yes_no),
    "AINEWS_LOG_LEVEL": ("log_level", lambda n, v: level_name(n, v)),
    "AINEWS_CONCURRENCY": ("concurrency", lambda n, v: ranged_number(int, n, v, 1, 1024)),
    "AINEWS_PER_HOST": ("per_host", lambda n, v: ranged_number(int, n, v, 1, 64)),
    "AINEWS_CHANNEL_HOURLY_CAP": ("channel_hourly_cap", channel_cap),
    "AINEWS_CHANNELS_PER_SERVER": ("channels_per_server", channels_cap),
    "AINEWS_USER_DATA": ("user_data", lambda n, v: user_path(v) if v else None),
    "AINEWS_HTTP_PORT": ("http_port", lambda n, v: ranged_number(int, n, v, 0, 65535)),
    "DISCORD_TOKEN": ("discord_token", bot_token),
    "DISCORD_GUILD_ID": ("discord_guild_id",
                         lambda n, v: ranged_number(int, n, v, 1) if v.strip() else None),
    "DISCORD_API_URL": ("discord_api_url", http_url),
    "DISCORD_GATEWAY_URL": ("discord_gateway_url", http_url),
    "AINEWS_DISCORD_THREADS": ("discord_threads", yes_no),
    "DISCORD_ADMIN_USER_IDS": ("discord_admin_user_ids", id_list),
    "SLACK_BOT_TOKEN": ("slack_bot_token", token),
    "SLACK_APP_TOKEN": ("slack_app_token", token),
    "SLACK_SIGNING_SECRET": ("slack_signing_secret", token),
    "SLACK_API_URL": ("slack_api_url", lambda n, v: http_url(n, v) or "https://slack.com/api/"),
    "SLACK_ADMIN_USER_IDS": ("slack_admin_user_ids", id_list),
    "LLM_BASE_URL": ("llm_base_url", llm_url),
    "LLM_API_KEY": ("llm_api_key", token),
    "LLM_MODEL": ("llm_model", lambda n, v: v.strip()),
    "LLM_HOURLY_CAP": ("llm_hourly_cap", lambda n, v: hourly_cap(n, v)),
    "LLM_TIMEOUT": ("llm_timeout", lambda n, v: ranged_number(float, n, v, 0.1, 3600)),
    "LLM_CONCURRENCY": ("llm_concurrency", lambda n, v: ranged_number(int, n, v, 1, 64)),
    "LLM_MAX_TOKENS": ("llm_max_tokens", lambda n, v: max_tokens(n, v)),
    "AINEWS_LLM_JUDGE": ("llm_judge", yes_no),
    "AINEWS_LLM_JUDGE_HOURLY_CAP": ("llm_judge_hourly_cap", lambda n, v: hourly_cap(n, v)),
    "AINEWS_LLM_JUDGE_MARGIN": ("llm_judge_margin", lambda n, v: ranged_number(float, n, v, 0, 1)),
    "AINEWS_LLM_JUDGE_GATE_MARGIN": ("llm_judge_gate_margin", lambda n, v: gate_margin(n, v)),
    "AINEWS_LLM_SAME_EVENT": ("llm_same_event", yes_no),
}


# The standard proxy variables, upper case as .env.example lists them (lower case is read too).
PROXY_SETTINGS = tuple(names[1] for names in PROXY_NAMES.values())


def cap_warnings(s: Settings) -> list[str]:
    """Start-up lines for an hourly cap of 0 with the LLM on: it means no calls at all,
    which a reader of LLM_MAX_TOKENS (0: no cap) may not have meant."""
    lines = []
    if s.llm_enabled and s.llm_hourly_cap == 0:   # the judge's calls too (feeds/llm.py)
        verdicts = " and every verdict offline" if s.llm_judge_enabled else ""
        lines.append("llm: LLM_HOURLY_CAP=0 allows no LLM calls: every brief is "
                     f"extractive{verdicts} ({UNLIMITED} is no cap)")
    elif s.llm_judge_enabled and s.llm_judge_hourly_cap == 0:
        lines.append("judge: AINEWS_LLM_JUDGE_HOURLY_CAP=0 allows no judge calls: the "
                     f"offline verdicts stand ({UNLIMITED} is no cap; AINEWS_LLM_JUDGE=0 "
                     "turns the judge off)")
    return lines


def load_settings(environ: Mapping[str, str] | None = None,
                  dotenv_path: str | Path | None = ".env", **overrides) -> Settings:
    """Merge `.env` (lower priority) and the environment into Settings.

    Tests pass `environ={...}, dotenv_path=None` so the real `.env` is never read."""
    merged: dict[str, str] = {}
    if dotenv_path and Path(dotenv_path).is_file():
        from_file = _read_dotenv(Path(dotenv_path))
        _check_names(Path(dotenv_path), from_file)
        merged.update((k, v) for k, v in from_file.items() if v is not None)
    environ = os.environ if environ is None else environ
    # A service link on a setting's name is no setting: .env's value, or the default.
    merged.update((k, v) for k, v in environ.items() if not _linked_setting(k, v))
    values = {}
    for env_name, (attr, parse) in _FIELDS.items():
        if env_name in merged and merged[env_name].strip() != "":
            values[attr] = parse(env_name, merged[env_name])
    values["proxies"] = proxies(merged)
    values.update(overrides)
    settings = Settings(**values)
    _check_llm(settings)
    return settings


def _check_llm(s: Settings) -> None:
    """Half an LLM configuration would leave the LLM condenser off without a word."""
    if (s.llm_base_url or s.llm_api_key) and not s.llm_model:
        raise ConfigError("config: LLM_MODEL is not set, so the LLM condenser would stay "
                          "off; set it (e.g. qwen-plus) or unset LLM_BASE_URL/LLM_API_KEY")
    if s.llm_judge and not s.llm_enabled:
        raise ConfigError("config: AINEWS_LLM_JUDGE=1 needs an LLM (LLM_MODEL and "
                          "LLM_BASE_URL or LLM_API_KEY); set one or unset AINEWS_LLM_JUDGE")
    if s.llm_model and not (s.llm_base_url or s.llm_api_key):
        raise ConfigError(f"config: LLM_MODEL={s.llm_model!r} needs LLM_BASE_URL or "
                          "LLM_API_KEY too (an OpenAI-compatible endpoint); else unset it")


# Prefixes of the settings' names: another tool's SLACK_WEBHOOK_URL may share a .env,
# so those three are only questioned when the name is close to one of ours.
_OURS, _SHARED = "AINEWS_", ("DISCORD_", "SLACK_", "LLM_")


def _check_names(path: Path, values: Mapping[str, str | None]) -> None:
    """A misspelt name in .env (AINEWS_POLL_MINUTE) was skipped without a word, so the
    default applied while the operator believed the setting was in force."""
    for name, value in values.items():
        if name in _FIELDS:
            if value is None:   # "AINEWS_CONSOLE" alone: python-dotenv skips the line
                raise ConfigError(f"config: {path} names {name} without a value; write "
                                  f"{name}=VALUE, or remove the line")
            continue
        # Names are case-sensitive: ainews_poll_minutes was skipped without a word.
        close = difflib.get_close_matches(name.upper(), _FIELDS, n=1, cutoff=0.8)
        if name.upper().startswith(_OURS) or (name.upper().startswith(_SHARED) and close):
            raise ConfigError(f"config: {path} sets {name}, which ainews does not read"
                              f"{_did_you_mean(name, value)}; fix or remove it "
                              "(the README's \"Running it for real\" lists the settings, "
                              "as does .env.example in a checkout)")


def environment_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One start-up line per AINEWS_ name in the environment that ainews does not read
    (AINEWS_POL_MINUTES=5 was skipped without a word). A warning, not a ConfigError as in
    .env: the environment also holds what others put there, such as Kubernetes' service
    links and Docker's legacy links. Other prefixes are shared with libraries (slack_bolt reads SLACK_CLIENT_ID)."""
    environ = os.environ if environ is None else environ
    return [f"config: the environment sets {name}, which ainews does not read"
            f"{_did_you_mean(name, value)}; ignored: fix or remove it"
            for name, value in sorted(environ.items())
            if name.upper().startswith(_OURS) and name not in _FIELDS
            and not service_link(name, value)] + [
        # Both put NAME_PORT=tcp://... there; which one did, the value can't tell.
        f"config: the environment sets {name}={value}, a service link, not a setting: a "
        f"Kubernetes Service or a Docker --link named "
        f"{name.removesuffix('_PORT').lower().replace('_', '-')} puts it there; ignored "
        "(rename that, or set enableServiceLinks: false in the pod spec)"
        for name, value in sorted(environ.items()) if _linked_setting(name, value)]


def _did_you_mean(name: str, value: str | None) -> str:
    close = difflib.get_close_matches(name.upper(), _FIELDS, n=1, cutoff=0.8)
    meant = _token_setting(value) or (close[0] if close else "")
    return f" (did you mean {meant}?)" if meant else ""


def _linked_setting(name: str, value: str | None) -> bool:
    """A setting's name holding a service link: a Service named ainews-http (or a
    container linked as ainews_http) puts AINEWS_HTTP_PORT=tcp://10.0.0.7:3000 there,
    and start-up stopped on it."""
    return name in _FIELDS and bool(LINK_ADDRESS.fullmatch(value or ""))


# A Slack token's prefix says which setting it belongs in, whatever the name is close
# to: SLACK_SOCKET_TOKEN=xapp-... was pointed at SLACK_BOT_TOKEN.
_TOKEN_PREFIXES = {"xapp-": "SLACK_APP_TOKEN", "xoxb-": "SLACK_BOT_TOKEN"}


def _token_setting(value: str | None) -> str:
    value = (value or "").strip()
    return next((name for prefix, name in _TOKEN_PREFIXES.items()
                 if value.startswith(prefix)), "")


_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def _read_dotenv(path: Path) -> dict[str, str | None]:
    """The `.env` file's settings; ConfigError for a file or line that can't be read
    (python-dotenv itself skips such a line, so a default would silently apply)."""
    try:
        # utf-8-sig: Windows editors save "UTF-8 with BOM".
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config: {path} is not UTF-8 (byte {e.start}); save it as "
                          "UTF-8") from None
    except OSError as e:
        raise ConfigError(f"config: cannot read {path}: {e.strerror or e}") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:   # the line is not shown: it may hold a token
            name = _NAME.match(binding.original.string)
            what = f" ({name[1]})" if name else ""
            raise ConfigError(f"config: {path} line {binding.original.line}{what} cannot "
                              "be read: check its quotes and the NAME=value form")
    return dotenv_values(stream=io.StringIO(text))   # None: a name without "="
