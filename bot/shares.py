"""A lookup shared into the channel once, on every platform: the clicks of a double
click both arrive before the first share took the button away (Slack) or posted
(Discord), so each adapter remembers the answers it shared lately."""
from __future__ import annotations

from typing import Hashable

ALREADY_SHARED = "Already posted to the channel."


class Shares:
    """Answers shared lately, by the platform's name for the answer. Kept in memory: after
    a restart the button is gone (Slack) or the double click long over."""

    REMEMBER = 1000

    def __init__(self):
        self._shared: dict[Hashable, None] = {}    # insertion-ordered: oldest first

    def take(self, key: Hashable | None) -> bool:
        """True if the answer `key` names may be shared now (and is taken); False if it
        was. An answer the click doesn't name is always shared."""
        if key is None:
            return True
        if key in self._shared:
            return False
        self._shared[key] = None
        if len(self._shared) > self.REMEMBER:
            del self._shared[next(iter(self._shared))]
        return True

    def give_back(self, key: Hashable | None) -> None:
        """Nothing was posted (the lookup failed, the platform refused it): clickable again."""
        if key is not None:
            self._shared.pop(key, None)
