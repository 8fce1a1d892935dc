"""Who counts as a Slack admin (Caller.is_admin): SLACK_ADMIN_USER_IDS, else the
workspace's admin and owner flags by users.info, members of the bot's own workspace or
org only, cached."""
from __future__ import annotations

import logging
import re
import time
from typing import Callable

from slack_sdk.errors import SlackApiError

from bot.slack.webapi import NETWORK_ERRORS

log = logging.getLogger("ainews.slack")

USER_ID = re.compile(r"^[UW][A-Z0-9]+$")   # a member ID, as Slack's "Copy member ID" gives it


class AdminCheck:
    """Caller.is_admin for Slack: SLACK_ADMIN_USER_IDS, else users.info admin/owner flags,
    cached for `ttl` seconds so a busy channel doesn't spend the users.info rate limit.
    A lookup that failed is a refusal remembered for `failed_ttl` (shorter): a flaky
    Slack isn't asked again at every retry, nor an admin refused for the whole `ttl`."""

    def __init__(self, client, admin_ids=(), *, ttl: float = 300.0, failed_ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 home: tuple[str, str] | None = None):
        ids = [str(i).strip().upper() for i in admin_ids]
        wrong = [str(i).strip() for i, up in zip(admin_ids, ids) if not USER_ID.match(up)]
        if wrong:
            # A name never matches a caller: say so now, not by refusing that admin later.
            log.warning("slack: SLACK_ADMIN_USER_IDS has %s, which %s not member IDs (like "
                        "U0123ABCD: a profile's ⋮ → Copy member ID); ignoring %s",
                        ", ".join(map(repr, wrong)), "is" if len(wrong) == 1 else "are",
                        "it" if len(wrong) == 1 else "them")
        self.client, self.admin_ids = client, frozenset(i for i in ids if USER_ID.match(i))
        self.ttl, self.failed_ttl, self.clock = ttl, min(failed_ttl, ttl), clock
        self._cache: dict[str, tuple[bool, float]] = {}    # user -> (is_admin, until)
        self._home = home      # the bot's (team_id, enterprise_id); None: ask auth.test

    async def __call__(self, user_id: str) -> bool:
        if user_id in self.admin_ids:
            return True
        hit = self._cache.get(user_id)
        if hit and self.clock() < hit[1]:
            return hit[0]
        try:
            resp = await self.client.users_info(user=user_id)
        except (SlackApiError, *NETWORK_ERRORS) as exc:
            log.warning("slack: users.info for %s failed (%s); treating as non-admin%s",
                        user_id, *_users_info_failure(exc))
            return self._remember(user_id, False, self.failed_ttl)
        user = resp.get("user") or {}
        flagged = any(bool(user.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))
        is_admin = flagged and await self._our_member(user)
        # Flagged yet no home: a refusal made because auth.test failed just now.
        known = not flagged or self._home is not None
        return self._remember(user_id, is_admin, self.ttl if known else self.failed_ttl)

    def _remember(self, user_id: str, is_admin: bool, ttl: float) -> bool:
        self._cache[user_id] = (is_admin, self.clock() + ttl)
        return is_admin

    async def _our_member(self, user: dict) -> bool:
        """An admin of another organisation in a shared (Slack Connect) channel is no
        admin here: the flags count only for members of the bot's own workspace or
        Enterprise Grid org. SLACK_ADMIN_USER_IDS can still name anyone."""
        if self._home is None:
            try:
                auth = await self.client.auth_test()
            except (SlackApiError, *NETWORK_ERRORS) as exc:
                log.warning("slack: auth.test failed (%s); treating as non-admin",
                            type(exc).__name__)
                return False
            self._home = (str(auth.get("team_id") or ""), str(auth.get("enterprise_id") or ""))
        team, org = self._home
        user_org = str((user.get("enterprise_user") or {}).get("enterprise_id") or "")
        return user.get("team_id") == team or bool(org and user_org == org)


def _users_info_failure(exc) -> tuple[str, str]:
    """Why users.info failed, and the fix when the operator can make one: an app made
    without users:read refuses every admin, and the log is all they have to go on."""
    why = (exc.response.get("error") if isinstance(exc, SlackApiError)
           and hasattr(exc.response, "get") else None) or type(exc).__name__
    fix = ("; add the users:read scope (slack-manifest.yml) and reinstall the app, or "
           "name the admins in SLACK_ADMIN_USER_IDS") if why == "missing_scope" else ""
    return why, fix
