"""A fake OpenAI-compatible server on loopback: /v1/chat/completions, scripted answers.

Each request pops the next scripted behaviour (the last one repeats):
  ("json", {...})   a completion whose content is that object as JSON
  ("raw", "text")   a completion whose content is that text
  ("cut", "text")   that text, stopped at the token cap (finish_reason "length")
  ("filtered", "text")  that text, stopped by a content filter (finish_reason "content_filter")
  ("status", 429)   an HTTP error with an OpenAI-style error body
  ("sleep", 2.0)    wait that long, then answer the next behaviour ("fn" included)
  ("trickle", (n, s, {...}))  n blank lines, one every s seconds, then a completion of
                    that object: never quiet long enough for the client's timeout
  ("body", "text")  HTTP 200 whose body is that text (not a completion: a broken proxy)
  ("fn", f)         the behaviour f(request body) returns: an answer per request
  ("echo-key", 401) an HTTP error whose message quotes the key sent, as some gateways do
  ("error", (400, "message", {headers}))  an HTTP error with that message (and headers)
  ("reasoning", (field, "text"))  a completion with no content, the text all in `field`
                    ("reasoning_content", or "reasoning" as Ollama and newer vLLM name
                    it): a reasoning parser that never saw the thinking end
`delay` makes every request wait that long first; `max_in_flight` is the most requests
handled at once, `arrived` how many came (`requests` holds those read after the delay:
one whose client gave up meanwhile is not in it). A request with `stream` true gets its
completion as server-sent events, as does every request when `always_stream` is set (a
gateway that streams unasked); `stream_only` refuses a request not streamed with
DashScope's 400 (its QwQ models). Given an `ssl_context` (tests/fakes/tls.py's
company_signed) it serves https.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time

from aiohttp import web


class FakeLLM:
    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.ssl_context = ssl_context
        self.script: list[tuple] = [("json", {"headline": "h", "bullets": ["a", "b", "c"],
                                              "why_it_matters": "w"})]
        self.requests: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.delay = 0.0
        self.in_flight = self.max_in_flight = self.arrived = 0
        self.stream_only = self.always_stream = False

    async def start(self) -> "FakeLLM":
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def _next(self) -> tuple:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def _completions(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.arrived += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization", "")})
        if self.stream_only and not body.get("stream"):
            return _error(400, STREAM_ONLY)
        kind, value = self._next()
        if kind == "fn":
            kind, value = value(body)
        if kind == "sleep":
            await asyncio.sleep(value)
            kind, value = self._next()
            if kind == "fn":
                kind, value = value(body)
        if kind == "error":
            status, message, *headers = value
            err = {"error": {"message": message, "type": "fake", "code": status}}
            return web.json_response(err, status=status, headers=(headers or [{}])[0])
        if kind in ("status", "echo-key"):
            message = f"fake error {value}"
            if kind == "echo-key":
                message = f"Incorrect API key provided: {request.headers.get('Authorization')}"
            err = {"error": {"message": message, "type": "fake", "code": value}}
            headers = {"Retry-After": "1"} if value == 429 else {}
            return web.json_response(err, status=value, headers=headers)
        if kind == "body":
            return web.Response(text=value, content_type="application/json")
        if kind == "trickle":
            return await _trickled(request, body, *value,
                                   stream=bool(body.get("stream") or self.always_stream))
        thought = {}
        if kind == "reasoning":
            (field, text), value = value, None
            thought = {field: text}
        content = json.dumps(value) if kind == "json" else value
        finish = {"cut": "length", "filtered": "content_filter"}.get(kind, "stop")
        if body.get("stream") or self.always_stream:
            return _events(body.get("model", "m"), content, finish, thought)
        return web.json_response(_completion(body.get("model", "m"), content, finish, thought))


STREAM_ONLY = ("This model only support stream mode, please enable the stream parameter "
               "to access the model. ")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "fake", "code": status}},
                             status=status)


def _events(model: str, content: str | None, finish: str,
            thought: dict | None = None) -> web.Response:
    """The completion as chunks of a few characters each, then the finish and [DONE]:
    reasoning first, "thinking..." or `thought`'s text in its field."""
    field, said = next(iter((thought or {"reasoning_content": "thinking..."}).items()))
    deltas = [{field: said[i:i + 7]} for i in range(0, len(said), 7)]
    text = content or ""
    deltas += [{"content": text[i:i + 7]} for i in range(0, len(text), 7)]
    deltas[0]["role"] = "assistant"
    chunks = [_chunk(model, d, None) for d in deltas] + [_chunk(model, {}, finish)]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return web.Response(text=body, content_type="text/event-stream")


async def _trickled(request: web.Request, body: dict, pieces: int, every: float,
                    answer: dict, stream: bool) -> web.StreamResponse:
    """A server that keeps sending (blank lines, which JSON and server-sent events both
    pass over) and answers only after `pieces` of them."""
    model, content = body.get("model", "m"), json.dumps(answer)
    kind = "text/event-stream" if stream else "application/json"
    resp = web.StreamResponse(headers={"Content-Type": kind})
    await resp.prepare(request)
    for _ in range(pieces):
        await resp.write(b"\n")
        await asyncio.sleep(every)
    done = _events(model, content, "stop").text if stream else json.dumps(
        _completion(model, content))
    await resp.write(done.encode())
    await resp.write_eof()
    return resp


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(model: str, content: str | None, finish: str = "stop",
                thought: dict | None = None) -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, **(thought or {})}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
