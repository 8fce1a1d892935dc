"""Where a story names a company that is not what it is about: a photo credit ("Photo by
X / Getty Images"), a Chinese follow-us footer (feeds/boilerplate.py), a share price in a
market report (feeds/share_moves.py), the shop of a deals post or an app's platforms
(feeds/shops.py). The classifier leaves out a company named only there
(Classifier._named_in_story); the verdict still counts it.
"""
from __future__ import annotations

import re

from feeds.boilerplate import follow_us_footers
from feeds.share_moves import share_moves
from feeds.shops import platform_lists, shop_mentions

__all__ = ["headline_side_mentions", "side_mentions"]

# A photo credit ("Photo by X / Getty Images", "Image: Nvidia", "... | Illustration: The
# Verge"): it names who took the picture, not what the story is about.
# Two patterns, each run only where it can match (a line that opens with a credit word,
# a text with "|"): one pattern over every character of a long story cost the backfill
# a tenth of classify's time.
_CREDIT_WORDS = ("photo", "image", "illustration", "screenshot", "picture", "credit")
_CREDIT_LINE = re.compile(r"[ \t]*(?:photo(?:graph)?|image|illustration|screenshot|picture|credit)s?"
                          r"(?:[ \t]+by)?[ \t]*:?[ \t]+([^\n]{2,100})$", re.I)
_CREDIT_INLINE = re.compile(r"[|][ \t]*(?:photo|image|illustration|screenshot)s?"
                            r"(?:[ \t]+by[ \t]*:?|[ \t]*:)[ \t]*([^\n|]{2,80})$", re.I | re.M)


def side_mentions(text: str) -> str:
    """The parts of `text` that name a company without being about it, a line each."""
    return "\n".join(_credits(text) + follow_us_footers(text) + share_moves(text)
                     + shop_mentions(text) + platform_lists(text))


def headline_side_mentions(title: str) -> str:
    """The parts of a headline that name a company as a shop or a platform ("... comes
    to iOS and Android", "$30 off at Amazon"). A headline's share price is the news of
    the company it quotes ("英伟达盘前涨2.5%"), and it has no credits or footers."""
    return "\n".join(shop_mentions(title) + platform_lists(title))


def _credits(text: str) -> list[str]:
    """Who the text's photo credits name: "Photo by X / Getty Images" on a line of its
    own, or after a "|" at a caption's end."""
    found = [m[1] for line in text.split("\n")
             if line.lstrip(" \t")[:12].lower().startswith(_CREDIT_WORDS)
             and (m := _CREDIT_LINE.match(line))]
    return found + (_CREDIT_INLINE.findall(text) if "|" in text else [])
