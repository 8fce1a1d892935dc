"""What a failed delivery attempt means, and how a retry avoids posting twice.

Shared by single posts (bot/delivery.py) and roundups (bot/roundups.py)."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from typing import Sequence

from bot.adapter import Adapter, DeliveryError, TransientError
from feeds.plural import count

log = logging.getLogger("ainews.delivery")

# A 429 says "not now", not "this post is broken": it may happen this many times more
# often than other transient errors before the post is given up. Its Retry-After is
# honoured alone for the first max_attempts; past those the usual backoff applies as
# well, so a storm of short Retry-Afters (1 s for ten minutes) can't spend every
# attempt in a minute: the post outlasts a storm of ~18 h, as a 5xx outage of ~12 h.
RATE_LIMITED_FACTOR = 2
# An exception that is none of the three delivery errors is a bug (an adapter's, or the
# row's data, e.g. int("abc") on a message id). It may be a fluke, so it is retried like
# a transient error, but on this attempt the row counts as rejected: a bug costs its
# channel one backoff step (a minute), never the ~18 h of the full transient schedule.
UNEXPECTED_ATTEMPTS = 2
# How long after `ainews restore` a first post of a story published before it is looked
# for in its channel (before_restore): the stories the bot posted since the backup are
# queued again at the first polls after the restore, and age out of
# AINEWS_MAX_POST_AGE_HOURS (48 by default) soon after.
RESTORE_LOOKBACK = timedelta(days=2)


async def earlier_post(adapter: Adapter, channel: str, nonce: str, rows: Sequence,
                       now: datetime, restored: datetime | None = None) -> str | None:
    """The message id of the post of these outbox rows (one post, or a roundup's) an
    earlier attempt already made, when the adapter can look posts up (`find_sent`),
    else None. A retry follows a crash or a timeout that may have come after the
    platform accepted the post; without this check a platform with no idempotency key
    (Slack), or one that forgets it (Discord, after a few minutes), would show it
    twice. `restored`: when `ainews restore` put a backup back (see before_restore)."""
    find = getattr(adapter, "find_sent", None)
    retry = max(r.attempts for r in rows) > 1
    ago = tried_ago(rows, now) if retry else before_restore(adapter, rows, restored, now)
    if find is None or not (retry or ago is not None):
        return None
    found = await find(channel, nonce, [r.brief for r in rows], tried_ago=ago)
    if found:
        log.info("delivery: %s/%s: %s was already posted %s (%s); not posting it again",
                 adapter.platform, channel, nonce, "by an earlier attempt" if retry else
                 "before the database was restored from a backup", found)
    return found


def before_restore(adapter: Adapter, rows, restored: datetime | None,
                   now: datetime) -> float | None:
    """Seconds back to the oldest of these rows' stories when the bot may have posted
    them before a restore, else None. A restored outbox knows nothing of the posts made
    since the backup, and the feeds still list their stories: without a look in the
    channel they were all posted again. Only an adapter that knows a post by the
    stories it shows (`finds_by_story`: Discord, Slack) can look, the nonces of the
    posts made since the backup being unknown to the restored outbox; the console
    can't look at all."""
    if (restored is None or not getattr(adapter, "finds_by_story", False)
            or now - restored > RESTORE_LOOKBACK):
        return None
    oldest = min(r.brief.published for r in rows)
    return max(0.0, (now - oldest).total_seconds()) if oldest < restored else None


def tried_ago(rows, now: datetime) -> float | None:
    """Seconds since the earliest first attempt of these rows, by delivery's clock (the
    stored time moves back with a clock step: storage/delivery_clock.py). None when
    one's is unknown (tried before the outbox kept it) or lies after now (a step not yet
    noticed)."""
    firsts = [r.first_try for r in rows]
    if not firsts or any(f is None for f in firsts):
        return None
    age = (now - min(firsts)).total_seconds()
    return age if age >= 0 else None


def rate_limited(error: Exception) -> bool:
    return isinstance(error, TransientError) and error.retry_after is not None


def attempt_limit(max_attempts: int, error: Exception) -> int:
    """How many attempts a post (or roundup) gets before this error gives it up."""
    if platform_down(error):
        return sys.maxsize     # the token, not the post: nothing is given up for it
    return max_attempts * (RATE_LIMITED_FACTOR if rate_limited(error) else 1)


def platform_down(error: Exception) -> bool:
    return isinstance(error, TransientError) and error.down


def unexpected(error: Exception) -> bool:
    """Not one of the adapter contract's errors: a bug, not a platform answer."""
    return not isinstance(error, DeliveryError)


def bug_reason(attempts: int, error: Exception) -> str:
    return f"adapter error on {count(attempts, 'attempt')}: {reason_of(error)}"


def reason_of(error: Exception) -> str:
    return getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
