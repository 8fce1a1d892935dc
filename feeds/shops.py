"""Where to buy it and what it runs on: "$339.99 ($60 off) at Amazon", "pre-order it from
Amazon"; "on iOS and Android", "for iPhone and Android". A deals post names Amazon as the
shop, an app's launch names Android and the iPhone as platforms, not as the news: /company
amazon listed headphone and vacuum deals (6 of its 75 stories in the shared corpus),
/company google the iOS-and-Android launches of ChatGPT's voice mode, Zoomerang and others
(5 of its 262). The classifier leaves out a company named only so (as one named only in a photo
credit); the story still counts it.
"""
from __future__ import annotations

import re

# "at/from/on/via Amazon" in a sentence that sells: a price cut, a shop price ("for
# $229", not "for $4 billion"), a pre-order, a sales day. "Anthropic raised $4bn from
# Amazon" and "a $38bn deal on Amazon's cloud" sell nothing; nor does Amazon's cloud
# ("50% off on Amazon Bedrock", "on Amazon SageMaker at 30% off"): an AWS story. Only the
# shop's words are returned, so another company the sentence names stays named.
_CLOUD = r"(?:['’]s)?\s+(?:Bedrock|SageMaker|Web\s+Services|AWS|EC2)\b"
_SHOP = re.compile(rf"\b(?:at|from|on|via|through)\s+Amazon(?!{_CLOUD})(?:['’]s)?\b")
_SELLING = re.compile(r"\$[\d,.]+\s*(?:\w+\s+)?off\b|\d\s?%\s*off\b|\boff\)|\bpre-?order|"
                      r"\bfor \$[\d,.]+(?!\d|\s*(?:billion|million|trillion|bn|m)\b)|"
                      r"\b(?:all-time low|lowest price|on sale|Black Friday|Prime Day|Cyber Monday)\b",
                      re.I)
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")


def shop_mentions(text: str) -> list[str]:
    """The "at Amazon" of each sentence of `text` that sells something there."""
    if "Amazon" not in text:
        return []
    return [m.group() for s in _SENTENCE.findall(text)
            if "Amazon" in s and _SELLING.search(s) for m in _SHOP.finditer(s)]


# Two or more platforms in a list: "iOS and Android", "Windows, Android", "iPhone or iPad".
_PLATFORM = r"(?:iOS|iPadOS|iPhones?|iPads?|Android|Windows|macOS|Mac|ChromeOS|the web)"
_PLATFORMS = re.compile(rf"\b{_PLATFORM}(?:(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+){_PLATFORM})+\b")


def platform_lists(text: str) -> list[str]:
    """The lists of platforms an app or device runs on in `text`."""
    return _PLATFORMS.findall(text) if "Android" in text or "iP" in text else []
