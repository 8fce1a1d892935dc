"""Assembly: settings -> store, classifier, fetch policy, formatter, commands.

The CLI and the service build the same parts the same way through App."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from feeds.classify import Classifier, GazetteerError, load_gazetteer
from feeds.gazetteer import log_loaded
from storage.store import Store

if TYPE_CHECKING:
    from feeds.fetcher import FetchPolicy, Fetcher

log = logging.getLogger("ainews.app")


@dataclass
class App:
    settings: Settings
    store: Store = field(init=False)

    def __post_init__(self) -> None:
        self.store = Store(self.settings.db_path, upgrade_refused=self._older_bot_running)

    def _older_bot_running(self) -> str | None:
        """Why an older ainews's database must not be upgraded now: its bot still runs on
        it (`git pull`, then a lookup before the restart). Migrated under it, that bot
        goes on writing the old way (before 29 November 17:22 its new stories were never
        indexed for search once migration 6 ran). A bot of this version would have
        upgraded the file when it started, so the bot holding the lock is an older one."""
        from bot.runlock import running_pid
        pid = running_pid(self.settings.db_path)
        if pid is None:
            return None
        return (f"an `ainews run` of an older version (pid {pid}) is using it: stop that "
                "bot first, then start this version")

    @cached_property
    def classifier(self) -> Classifier:
        return make_classifier(self.settings)

    def log_user_data(self) -> None:
        """`ainews run` names the operator's AINEWS_USER_DATA file once, at start-up;
        a lookup (`ainews company x`) loads it without a word."""
        if self.settings.user_data is not None:
            log_loaded(self.classifier.gz, self.settings.user_data, logging.INFO)

    # feeds.fetcher is imported where it is used: with it comes aiohttp, 0.13 s of
    # every lookup (`ainews latest`), which reads only the database.
    @property
    def fetch_policy(self) -> FetchPolicy:
        return fetch_policy(self.settings)

    def fetcher(self) -> Fetcher:
        from feeds.fetcher import Fetcher
        return Fetcher(self.fetch_policy)

    def article_fetcher(self) -> Fetcher:
        """Article pages are fetched from links in feed text: never from private hosts."""
        from feeds.fetcher import Fetcher
        return Fetcher(replace(self.fetch_policy, allow_private=False))

    @cached_property
    def llm(self):
        """One LLM condenser per process, so its hourly call cap covers every poll; the
        calls it sends are kept in the store, so the cap covers every start too."""
        llm = make_llm(self.settings, self.classifier.gz)
        if llm is not None:
            llm.cap.keep_in(self.store, "llm")
        return llm

    @cached_property
    def judge(self):
        """The optional LLM judge: the condenser's client and rest, its own hourly cap
        (kept in the store as the condenser's)."""
        judge = make_judge(self.settings, self.llm)
        if judge is not None:
            judge.cap.keep_in(self.store, "judge")
        return judge

    def formatter(self, fetcher: Fetcher | None = None):
        from feeds.formatter import Formatter
        return Formatter(self.store, llm=self.llm, fetcher=fetcher,
                         fetch_articles=self.settings.fetch_articles)

    @cached_property
    def commands(self):
        from bot.commands import Commands
        return Commands(self.store, self.classifier, settings=self.settings,
                        fetcher_factory=self.fetcher,
                        hourly_cap=self.settings.channel_hourly_cap)

    async def aclose_clients(self) -> None:
        if self.__dict__.get("llm") is not None:
            await self.llm.aclose()

    def close(self) -> None:
        self.store.close()


def user_gazetteer(s: Settings):
    """The gazetteer with the operator's AINEWS_USER_DATA file; its errors name the
    setting, since the path alone does not say where it was configured."""
    try:
        return load_gazetteer(s.user_data)
    except GazetteerError as e:
        if s.user_data is None:
            raise
        raise GazetteerError(f"{e}; check AINEWS_USER_DATA") from None


def make_classifier(s: Settings) -> Classifier:
    """The classifier, scoring what the AI gate stopped only when the judge asks."""
    return Classifier(user_gazetteer(s), score_gated=s.llm_judge_asks_gated)


def make_llm(s: Settings, gazetteer=None):
    """The optional LLM condenser, or None when LLM_MODEL and an endpoint/key aren't set.
    `gazetteer`: the classifier's, whose companies a brief's names are checked against."""
    if not s.llm_enabled:
        return None
    from feeds.company_names import CompanyNames
    from feeds.llm import LLMCondenser
    names = CompanyNames(gazetteer) if gazetteer is not None else None
    return LLMCondenser(s.llm_base_url or None, s.llm_api_key, s.llm_model,
                        timeout=s.llm_timeout, hourly_cap=s.llm_hourly_cap,
                        concurrency=s.llm_concurrency, max_tokens=s.llm_max_tokens,
                        names=names, proxy=s.proxies.for_url(llm_url(s)),
                        ca_file=s.ca_file)


def fetch_policy(s: Settings) -> FetchPolicy:
    """How the feeds, articles and `ainews brief URL`'s page are fetched."""
    from feeds.fetcher import FetchPolicy
    return FetchPolicy(allow_private=s.allow_private_hosts, concurrency=s.concurrency,
                       per_host=s.per_host, proxies=s.proxies, ca_file=s.ca_file)


def llm_url(s: Settings) -> str:
    """Where the LLM's calls go: LLM_BASE_URL, else the openai client's default."""
    return s.llm_base_url or "https://api.openai.com/v1"


def make_judge(s: Settings, llm):
    """The optional LLM judge, or None without an LLM or with AINEWS_LLM_JUDGE=0."""
    if llm is None or not s.llm_judge_enabled:
        return None
    from feeds.judge import Judge
    # A second past the client's own timeout, so a slow endpoint is reported (and rested)
    # by the client's timeout rather than cut off unnamed.
    return Judge(llm, hourly_cap=s.llm_judge_hourly_cap, margin=s.llm_judge_margin,
                 gate_margin=s.llm_judge_gate_margin, deadline=s.llm_timeout + 1,
                 same_events=s.llm_same_event)
