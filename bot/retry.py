"""What a failed delivery attempt means, and how a retry avoids posting twice.

Shared by single posts (bot/delivery.py) and roundups (bot/roundups.py)."""
from __future__ import annotations

import logging
import sys
from datetime import datetime
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


async def earlier_post(adapter: Adapter, channel: str, nonce: str, rows: Sequence,
                       now: datetime) -> str | None:
    """The message id of the post of these outbox rows (one post, or a roundup's) an
    earlier attempt already made, when the adapter can look posts up (`find_sent`),
    else None. A retry follows a crash or a timeout that may have come after the
    platform accepted the post; without this check a platform with no idempotency key
    (Slack), or one that forgets it (Discord, after a few minutes), would show it
    twice."""
    find = getattr(adapter, "find_sent", None)
    if max(r.attempts for r in rows) <= 1 or find is None:
        return None
    found = await find(channel, nonce, [r.brief for r in rows],
                       tried_ago=tried_ago(rows, now))
    if found:
        log.info("delivery: %s/%s: %s was already posted by an earlier attempt (%s); "
                 "not posting it again", adapter.platform, channel, nonce, found)
    return found


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
