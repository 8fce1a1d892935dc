"""Reading an OpenAI-compatible endpoint's answer (feeds/llm.py, feeds/judge.py).

The servers operators run differ in what they send back: a proxy may answer 200 with
JSON that is no chat completion, some gateways send `content` as a list of text parts,
reasoning models (Qwen3, DeepSeek-R1 through Ollama or vLLM) put `<think>...</think>`
before the answer, small local models wrap the JSON in a code fence or a sentence, and
a model that rambles or loops stops at the token cap (finish_reason "length").
Each is read here, or refused with a reason, never with an AttributeError.
"""
from __future__ import annotations

import json
import re


class LLMRejected(Exception):
    """The model's answer failed validation; str() says why. `kind` is what sort of
    rejection it is, fixed text: the log says each kind once (feeds/llm.py rejected),
    and a key made from the message would grow with every name a model invents. A
    message naming the answer's specifics gives one; a fixed message is its own kind."""

    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind or message


class NotACompletion(Exception):
    """HTTP 200 whose body is no chat completion: the endpoint's fault, not the story's."""


# The tags alone, found in one pass; what lies between is cut by index (_without_thinking).
# A regex spanning open to close (`<think>.*?</think>`) rescans the rest of the answer
# from every unclosed `<think>`, and one for a fence (^```\s*(.*?)\s*```$) backtracks over
# whitespace: a degenerate answer of a few thousand newlines held the event loop (every
# chat connection, every post) for minutes.
_THINK_TAG = re.compile(r"<(/?)think(?:ing)?>", re.I)


def reply_text(resp) -> str:
    """The first choice's text ("" for an empty `choices` or `content: null`: the
    model said nothing, a rejection). Anything shaped otherwise is NotACompletion."""
    choices = getattr(resp, "choices", None)
    if choices is None or not isinstance(choices, list):
        if error := _sent_error(resp):
            raise NotACompletion(f"the endpoint sent an error with HTTP 200: {error}")
        raise NotACompletion(f"the answer is not a chat completion ({_shape(resp)}); "
                             "is LLM_BASE_URL an OpenAI-compatible API?")
    if not choices:
        return ""
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):   # [{"type": "text", "text": "..."}], as some gateways send
        return "".join(p.get("text", "") if isinstance(p, dict) else getattr(p, "text", "")
                       for p in content if _is_text_part(p))
    raise NotACompletion(f"the answer's content is {type(content).__name__}, not text")


def cut_off(resp) -> bool:
    """Whether the answer stopped at the token cap rather than at its end (after
    reply_text: resp is a completion)."""
    return _finish(resp) == "length"


def filtered(resp) -> bool:
    """Whether the provider's content filter stopped the answer (Azure OpenAI, and
    gateways in front of others): empty or cut short, through no fault of the model's."""
    return _finish(resp) == "content_filter"


def _finish(resp) -> str | None:
    choices = getattr(resp, "choices", None) or [None]
    return getattr(choices[0], "finish_reason", None)


# Where servers put a thinking model's reasoning apart from its answer: DeepSeek's API,
# DashScope, SGLang and vLLM before 0.10 "reasoning_content"; Ollama, OpenRouter and
# later vLLM "reasoning".
REASONING_FIELDS = ("reasoning_content", "reasoning")


def reasoning_of(message) -> tuple[str, str]:
    """(field, text) of a message's (or a streamed delta's) reasoning; ("", "") for none."""
    for field in REASONING_FIELDS:
        text = getattr(message, field, None)
        if isinstance(text, str) and text:
            return field, text
    return "", ""


def from_reasoning(resp) -> str:
    """The answer of a completion whose content is empty, found in its reasoning ("" for
    none). A reasoning parser that never sees the thinking end files the whole output
    there (vLLM's and SGLang's DeepSeek parsers, when the model writes no </think>), the
    JSON answer included; the answer is validated as any other. LLMRejected when the
    reasoning holds no object: the model stopped thinking without answering."""
    choices = getattr(resp, "choices", None) or [None]
    field, text = reasoning_of(getattr(choices[0], "message", None))
    if text and "{" not in text:
        raise LLMRejected(f"answer is reasoning only ({field}, no answer after it)",
                          "answer is reasoning only")
    return text


def _is_text_part(part) -> bool:
    kind = part.get("type") if isinstance(part, dict) else getattr(part, "type", None)
    return kind in (None, "text")


def _sent_error(resp) -> str:
    """The error a body holds instead of choices, in the provider's words ("" for none):
    OpenRouter sends an upstream provider's failure so, `{"error": {"message": "Provider
    returned error", "code": 429, "metadata": {"raw": "Too Many Requests", ...}}}`."""
    error = getattr(resp, "error", None)
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return ""
    meta = error.get("metadata") if isinstance(error.get("metadata"), dict) else {}
    said = [str(error["code"])] if error.get("code") else []
    # which upstream provider failed, and in its own words
    upstream = [str(meta[k]) for k in ("provider_name", "raw") if meta.get(k)]
    if upstream:
        said.append(": ".join(upstream))
    return str(error.get("message") or "no message") + (f" ({'; '.join(said)})" if said else "")


def _shape(resp) -> str:
    return type(resp).__name__ if not hasattr(resp, "choices") else "no choices list"


def parse_json(content: str) -> dict:
    """The one JSON object in a model's answer. Reasoning before it is dropped; so is a
    code fence or a sentence around it, which small local models add despite being
    asked not to (the object is validated field by field afterwards)."""
    content = _without_thinking(content).strip()
    if not content:
        raise LLMRejected("answer is empty")
    if content.lower().startswith(("<think>", "<thinking>")):   # cut off while reasoning
        raise LLMRejected("answer is reasoning only (cut off before the JSON)")
    content = _unfenced(content)
    try:
        data = json.loads(content)
    except _NOT_JSON as e:
        data = _embedded_object(content)
        if data is None:
            raise LLMRejected(f"answer is not JSON ({_why_not(e)})",
                              "answer is not JSON") from None
    if not isinstance(data, dict):
        raise LLMRejected("answer is not a JSON object")
    return data


def _embedded_object(content: str) -> dict | None:
    """'Here is the JSON: {...}' -> the object, when the text holds exactly one."""
    start, end = content.find("{"), content.rfind("}")
    if start == -1 or end < start:
        return None
    try:
        data = json.loads(content[start:end + 1])
    except _NOT_JSON:
        return None
    return data if isinstance(data, dict) else None


# Besides JSONDecodeError, json.loads raises RecursionError for arrays nested some
# thousands deep and ValueError for an integer of over 4,300 digits: the answer's fault,
# a rejection like any other, not a bug with a traceback per story.
_NOT_JSON = (ValueError, RecursionError)


def _why_not(e: Exception) -> str:
    return e.msg if isinstance(e, json.JSONDecodeError) else "nested too deep or too long"


def _without_thinking(content: str) -> str:
    """Each `<think>...</think>` (or <thinking>) cut out: from an opening tag to the first
    closing one after it. An opening tag never closed, and all after it, stays. A closing
    tag never opened cuts all before it: DeepSeek-R1's chat template opens the block in
    the prompt, so its answer is "reasoning</think>{...}", the reasoning often with a "{"."""
    kept, start, open_at = [], 0, None
    for tag in _THINK_TAG.finditer(content):
        closing = bool(tag.group(1))
        if open_at is None and not closing:
            open_at = tag.start()
        elif open_at is not None and closing:
            kept.append(content[start:open_at])
            start, open_at = tag.end(), None
        elif closing and tag.start() == _first_tag(content) and "{" in content[tag.end():]:
            # Only the answer's first tag, with the answer after it: a "</think>" quoted
            # inside the JSON (a story about R1's format) is text, not a block's end.
            kept, start = [], tag.end()
    kept.append(content[start:])
    return "".join(kept)


def _first_tag(content: str) -> int:
    first = _THINK_TAG.search(content)
    return first.start() if first else -1


def _unfenced(content: str) -> str:
    """```json ... ``` -> what is inside (content is stripped already)."""
    if len(content) < 6 or not (content.startswith("```") and content.endswith("```")):
        return content
    inner = content[3:-3]
    return (inner[4:] if inner.startswith("json") else inner).strip()
