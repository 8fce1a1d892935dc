"""The request's optional parts as an endpoint takes them (feeds/llm.py asks, and
feeds/llm_endpoint.py tells the endpoint's health): a part it refuses (LM Studio's
response_format, DashScope's Qwen3 thinking outside streaming, max_tokens and the
temperature on OpenAI's reasoning models), or an answer not streamed (DashScope's QwQ),
is dropped, set or renamed once and the request sent again; a cap that does not fit
beside a long article in a small context window (vLLM says by how much) is lowered for
that request."""
from __future__ import annotations

import logging
import re

log = logging.getLogger("ainews.llm")

# OpenAI and Azure: "Unsupported parameter: 'max_tokens' is not supported with this
# model. Use 'max_completion_tokens' instead." The instruction, not the name alone: a server
# may say "'max_tokens' or 'max_completion_tokens' is too large" of a cap past its context.
_USE_COMPLETION_TOKENS = re.compile(r"\buse\W*max_completion_tokens\b")
_DEFAULT_TEMPERATURE = re.compile(r"temperature.{0,80}(?:unsupported|not support|only the "
                                  r"default)|(?:unsupported|not support).{0,40}temperature")
# vLLM: "maximum context length is 4096 tokens. However, you requested 5210 tokens (4910
# in the messages, 300 in the completion)" / "... your request has 610 input tokens".
# At most 9 digits, each a whole number: "(\d+) in the messages" tried every digit of a
# long run as a start and scanned to its end (quadratic: 51 s for a 100 KB error body),
# and int() refuses more than 4,300 digits (a ValueError out of the refusal's handling).
_WINDOW = re.compile(r"maximum context length is (\d{1,9})(?!\d)", re.I)
_PROMPT = re.compile(r"(?<!\d)(\d{1,9}) in the messages|has (\d{1,9}) input tokens", re.I)
# DashScope's QwQ and QVQ: "This model only support stream mode, please enable the stream
# parameter to access the model." (not "... for non-streaming calls": Qwen3's thinking).
_STREAM_ONLY = re.compile(r"only supports? stream|stream mode|enable the stream|"
                          r"\bstream(?:ing)? (?:is |must be )?(?:required|true)")
# JSON mode refused: by the part's name (LM Studio: "'response_format.type' must be
# 'json_schema' or 'text'") or by the feature's (DeepSeek: "deepseek-reasoner does not
# support Json Output."), which kept every brief from its reasoner refused.
_JSON_MODE = re.compile(r"response_format|json[ _](?:output|mode|object)")
MIN_CAP = 256   # below it even an English brief is cut off (LLM_MAX_TOKENS's floor)


class RequestShape:
    """The request's optional parts, narrowed once when the endpoint turns one down."""

    def __init__(self):
        self.options: dict = {"response_format": {"type": "json_object"}}
        # The answer's token cap. OpenAI's reasoning models (o1, o3, o4, gpt-5) take it
        # only as max_completion_tokens; most other servers only as max_tokens.
        self.cap_name = "max_tokens"
        self.temperature = True   # OpenAI's reasoning models take only their default
        self.stream = False       # asked for (feeds/llm_stream.py) by a model that only streams
        self.changes = 0          # parts adapted so far: a request sent before is resent

    def request(self, temperature: float, max_tokens: int) -> dict:
        """The optional parts, the temperature and the answer's token cap (none for 0)."""
        parts = dict(self.options)
        if self.temperature:
            parts["temperature"] = temperature
        if max_tokens:
            parts[self.cap_name] = max_tokens
        if self.stream:
            parts["stream"] = True
        return parts

    def adapt(self, e: Exception, model: str) -> bool:
        """Whether a refusal was about a part we can drop or set (then send again)."""
        text = str(e).lower()
        for part in (self._json_mode, self._thinking, self._cap, self._temperature,
                     self._streamed):
            change = part(text)
            if change:
                log.warning("llm: %s %s", model, change)
                self.changes += 1
                return True
        return False

    def _json_mode(self, text: str) -> str:
        if not _JSON_MODE.search(text) or "response_format" not in self.options:
            return ""
        del self.options["response_format"]   # the prompts ask for JSON too
        return "does not take response_format json_object: JSON is asked for in the prompt alone"

    def _thinking(self, text: str) -> str:
        if "enable_thinking" not in text or "extra_body" in self.options:
            return ""
        self.options["extra_body"] = {"enable_thinking": False}
        return "thinks only when streamed: asking with enable_thinking off"

    def _cap(self, text: str) -> str:
        if not _USE_COMPLETION_TOKENS.search(text) or self.cap_name != "max_tokens":
            return ""
        self.cap_name = "max_completion_tokens"
        return "takes max_completion_tokens, not max_tokens: LLM_MAX_TOKENS is sent as that"

    def _temperature(self, text: str) -> str:
        # OpenAI: "Unsupported value: 'temperature' does not support 0.2 with this model.
        # Only the default (1) value is supported."
        if not _DEFAULT_TEMPERATURE.search(text) or not self.temperature:
            return ""
        self.temperature = False
        return "takes only its default temperature: asking without one"

    def _streamed(self, text: str) -> str:
        # Every story was refused as if for itself, and the check at start-up failed
        # with a warning that blamed one story: no LLM brief ever, and no word why.
        if not _STREAM_ONLY.search(text) or self.stream:
            return ""
        self.stream = True
        return "answers only when streamed: asking with stream on"


def fitted_cap(e: Exception, cap: int) -> int:
    """A smaller cap that fits this refused request in the model's context window, or 0.
    vLLM counts the answer's cap in the window and says by how much a request is over,
    so a small local model can still answer a long article with less room to answer."""
    text = str(e)
    window, prompt = _WINDOW.search(text), _PROMPT.search(text)
    if not (cap and window and prompt):
        return 0
    room = int(window[1]) - int(prompt[1] or prompt[2]) - 8   # a little slack for counting
    return room if MIN_CAP <= room < cap else 0
