"""What a roundup says: its title when the hourly cap held posts back, the text that names
its first stories (all a push notification shows), and what /digest off says of the
stories it lets go. The digest's schedule is bot/digest.py."""
from __future__ import annotations

from typing import Callable, Sequence

from feeds.models import Brief
from feeds.plural import count


def overflow_title(cap: int) -> str:
    """The title of a roundup of posts the hourly cap held back, as members read it. A
    busy channel's posts are spread before the cap is reached (bot/pacing.py frees_at),
    so "this channel's hourly cap was reached" was not always so."""
    return f"More AI strategy news (this channel gets at most {count(cap, 'post')} an hour)"


# The title of a roundup of the posts a channel kept while paused (bot/kept_posts.py).
KEPT_TITLE = "AI strategy news from while this channel was paused"


ROUNDUP_SIZE = 10     # briefs in one roundup message (a Discord message holds 10 embeds)
ROUNDUP_NAMED = 3     # stories a roundup's notification text names


def roundup_text(title: str, briefs: Sequence[Brief],
                 name: Callable[[Brief], str]) -> tuple[str, str]:
    """A roundup's text, all a push notification shows of it, so it names its first
    stories: ("Title: 5 stories: A; B; C", "; …and 2 more"), with the title and each
    `name` written as the platform writes them; the platform cuts it to its limits."""
    named = "; ".join(name(b) for b in briefs[:ROUNDUP_NAMED])
    more = len(briefs) - ROUNDUP_NAMED
    return (f"{title}: {count(len(briefs), 'story')}: {named}",
            f"; …and {more} more" if more > 0 else "")


def released_note(held: int, room: int, cap: int) -> str:
    """What /digest off says of the `held` stories it lets go with `room` posts left in
    the channel's hourly `cap`: posted now as far as there is room, the rest in roundups
    once the cap frees, within the hour. All were said to "go out now"."""
    if held <= room:
        return (" The story held for the digest goes out now." if held == 1 else
                f" The {count(held, 'story')} held for the digest go out now.")
    later = held - max(room, 0)
    how = _roundups(later, cap)
    if room <= 0:
        these = ("the story held for the digest follows" if held == 1 else
                 f"the {count(held, 'story')} held for the digest follow")
        return f" This channel has had its {count(cap, 'post')} this hour, so {these} {how}."
    rest = "the last one follows" if later == 1 else f"the other {later} follow"
    return (f" Of the {count(held, 'story')} held for the digest, {room} go"
            f"{'es' if room == 1 else ''} out now and {rest} {how} (this channel gets at "
            f"most {count(cap, 'post')} an hour).")


def _roundups(stories: int, cap: int) -> str:
    """When and how `stories` follow: a roundup is one of the `cap` posts an hour, so
    more roundups than the cap take an hour more for each cap's worth (a cap of 2 sent
    the 3 roundups of 23 stories over 2 hours, said to follow "within about an hour").
    One story waiting alone is posted as itself (bot/roundups.py), not in a roundup."""
    n = -(-stories // ROUNDUP_SIZE)
    if stories == 1:        # (it goes as itself, unless others join it meanwhile)
        return "within about an hour"
    if n == 1:
        return "within about an hour in one roundup"
    hours = -(-n // max(cap, 1))
    return (f"within about an hour in {n} roundups" if hours == 1 else
            f"in {n} roundups over about {hours} hours")
