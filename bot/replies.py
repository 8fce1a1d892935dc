"""Platform-neutral command input and output: adapters translate to and from these."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bot.examples import Example, Text, console, sentence_case, spell
from feeds.models import Brief


DM = "dm"       # a Caller's workspace in a direct message (there is no guild or team)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and where. Adapters fill is_admin from the platform's own rules,
    which its traits name in its users' words (bot/platforms.py)."""
    platform: str            # a registered platform's name (bot/platforms.py): "slack", ...
    workspace: str           # guild id / team id / "console" / DM
    channel: str
    user: str
    is_admin: bool = False
    # Asked in a thread: the channel it is in ("" elsewhere). A Discord thread has an id of
    # its own, and the bot's post it was opened under is the channel's.
    parent: str = ""

    @property
    def in_dm(self) -> bool:
        """A direct message: no channel to follow news in, so no /subscribe or the like
        (Discord has none there) to offer."""
        return self.workspace == DM


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers. `kind`:
    - "briefs": `briefs` to show (may be empty; then `text` says why), `title` above them;
                with briefs, a `text` is a note under the title on how to read them
                (search: no story had every word, these have some);
    - "text":   plain `text` (lines), e.g. help, subscriptions, topics tables;
    - "error":  `text` says what went wrong and what to do instead; `nothing_there` when
                what was asked for is not there (an unknown company, topic, story or feed,
                a URL that is no working feed), else the request itself is to be fixed.
                Chat shows both alike; `ainews` exits 1 or 2, as its README says.
    Lookups are ephemeral (only the caller sees them, with a share button); changes to a
    channel's subscriptions are posted visibly. Text here is trusted (ours) except where
    it quotes user or feed input; renderers escape everything anyway.

    `parts` is the text with its command examples kept apart (bot/examples.py), so each
    platform spells them its own way (`spelled`); `text` is the console's spelling."""
    kind: str
    text: str = ""
    title: str = ""
    briefs: tuple[Brief, ...] = ()
    ephemeral: bool = True
    shareable: bool = False   # a lookup the caller may share into the channel
    parts: Text = ()
    nothing_there: bool = False

    def __post_init__(self):
        spelled = spell(self.parts, console)
        if self.text and self.text != spelled:
            # Text alone (or replaced, dataclasses.replace(reply, text=...)): no examples.
            object.__setattr__(self, "parts", (self.text,))
        else:
            object.__setattr__(self, "text", spelled)

    def spelled(self, example: Callable[[Example], str],
                text: Callable[[str], str] = str) -> str:
        """The text as one platform shows it: examples by `example`, the rest by `text`."""
        return spell(self.parts, example, text)

    def said(self, example: Callable[[Example], str],
             text: Callable[[str], str] = str) -> str:
        """The text as a chat message shows it (Slack, Discord): `spelled`, an error in
        sentence case. The core writes errors in lower case to follow "ainews: " on the
        command line; in chat they started lower case beside the adapters' capitalised
        ones. Other kinds are left as written: the why answer opens with a headline."""
        parts = sentence_case(self.parts) if self.kind == "error" else self.parts
        return spell(parts, example, text)

    @classmethod
    def error(cls, text: "str | Text") -> "Reply":
        return cls(kind="error", ephemeral=True, **_text(text))

    @classmethod
    def not_there(cls, text: "str | Text") -> "Reply":
        """An error saying what was asked for is not there (see `nothing_there`)."""
        return cls(kind="error", ephemeral=True, nothing_there=True, **_text(text))

    @classmethod
    def message(cls, text: "str | Text", *, ephemeral: bool = True) -> "Reply":
        return cls(kind="text", ephemeral=ephemeral, **_text(text))


def _text(text: "str | Text") -> dict:
    return {"text": text} if isinstance(text, str) else {"parts": tuple(text)}


def failed(command: str) -> Reply:
    """What a user sees when a command broke on our side, in Slack and Discord alike
    (Discord said "Sorry, that command failed ... try again later", Slack named the
    command and whom to tell)."""
    return Reply.error(f"Sorry, /{command} failed on our side. Try again in a minute; if "
                       "it keeps failing, tell whoever runs the bot.")
