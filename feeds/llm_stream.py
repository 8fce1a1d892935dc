"""Answers that come as a stream of chunks (server-sent events), read into one answer
shaped as a chat completion for feeds/llm_reply.py.

Two kinds of server answer only that way: one that refuses a request not streamed
(DashScope's QwQ and QVQ models: "This model only support stream mode"), asked again
with `stream` on (feeds/llm_request.py), and one that streams whatever it is asked (a
gateway or proxy set to), whose body the openai client hands over as text."""
from __future__ import annotations

import json
from types import SimpleNamespace

from feeds.llm_reply import reasoning_of


async def collected(stream) -> SimpleNamespace:
    """The openai client's stream of chunks, read to its end and closed."""
    parts, thought, finish = [], [], None
    try:
        async for chunk in stream:
            finish = _add(parts, thought, _choice(chunk), finish)
    finally:
        await stream.close()
    return _completion("".join(parts), finish, "".join(thought))


def from_events(body: str) -> SimpleNamespace | None:
    """A streamed body's answer, or None when the text is no event stream."""
    if not body.lstrip().startswith("data:"):
        return None
    parts, thought, finish = [], [], None
    for line in body.splitlines():
        data = line[5:].strip() if line.startswith("data:") else ""
        if not data or data == "[DONE]":
            continue
        try:
            chunk = json.loads(data, object_hook=lambda d: SimpleNamespace(**d))
        except ValueError:   # a garbled event: the rest may still read
            continue
        finish = _add(parts, thought, _choice(chunk), finish)
    return _completion("".join(parts), finish, "".join(thought))


def _choice(chunk):
    """The chunk's first choice, or None (a usage-only chunk has none)."""
    choices = getattr(chunk, "choices", None)
    return choices[0] if isinstance(choices, list) and choices else None


def _add(parts: list[str], thought: list[str], choice, finish):
    """Adds the choice's text to parts, its reasoning to thought; the finish reason so
    far. The reasoning is kept apart: the answer only when no answer came besides it
    (feeds/llm_reply.py from_reasoning)."""
    if choice is None:
        return finish
    delta = getattr(choice, "delta", None)
    text = getattr(delta, "content", None)
    if isinstance(text, str):
        parts.append(text)
    said = reasoning_of(delta)[1]
    if said:
        thought.append(said)
    return getattr(choice, "finish_reason", None) or finish


def _completion(content: str, finish, reasoning: str = "") -> SimpleNamespace:
    message = SimpleNamespace(role="assistant", content=content, reasoning_content=reasoning)
    return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason=finish)])
