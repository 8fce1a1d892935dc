"""A fake OpenAI-compatible server on loopback: /v1/chat/completions, scripted answers.

Each request pops the next scripted behaviour (the last one repeats):
  ("json", {...})   a completion whose content is that object as JSON
  ("raw", "text")   a completion whose content is that text
  ("cut", "text")   that text, stopped at the token cap (finish_reason "length")
  ("status", 429)   an HTTP error with an OpenAI-style error body
  ("sleep", 2.0)    wait that long, then answer the next behaviour
  ("body", "text")  HTTP 200 whose body is that text (not a completion: a broken proxy)
  ("fn", f)         the behaviour f(request body) returns: an answer per request
  ("echo-key", 401) an HTTP error whose message quotes the key sent, as some gateways do
  ("error", (400, "message", {headers}))  an HTTP error with that message (and headers)
`delay` makes every request wait that long first; `max_in_flight` is the most requests
handled at once.
"""
from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web


class FakeLLM:
    def __init__(self):
        self.script: list[tuple] = [("json", {"headline": "h", "bullets": ["a", "b", "c"],
                                              "why_it_matters": "w"})]
        self.requests: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.delay = 0.0
        self.in_flight = self.max_in_flight = 0

    async def start(self) -> "FakeLLM":
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def _next(self) -> tuple:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def _completions(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization", "")})
        kind, value = self._next()
        if kind == "fn":
            kind, value = value(body)
        if kind == "sleep":
            await asyncio.sleep(value)
            kind, value = self._next()
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
        content = json.dumps(value) if kind == "json" else value
        finish = "length" if kind == "cut" else "stop"
        return web.json_response(_completion(body.get("model", "m"), content, finish))


def _completion(model: str, content: str, finish: str = "stop") -> dict:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
