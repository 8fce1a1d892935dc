"""Reading a response body within the fetcher's size cap, gzip and deflate decoded.

`policy.max_bytes` caps both the bytes on the wire and the decompressed body; the read
is abandoned (connection closed) as soon as either passes the cap, so a huge or endless
body or a gzip bomb costs at most about twice the cap in memory. br is not supported:
the brotli package is not a dependency, and its streaming API cannot bound the output
of one input chunk.
"""
from __future__ import annotations

import zlib

import aiohttp
from yarl import URL

from feeds.fetch_errors import where
from feeds.guard import FetchError

__all__ = ["Inflater", "read_body", "size_text"]

CHUNK = 64 * 1024
ENCODINGS = ("identity", "", "gzip", "x-gzip", "deflate")


class Inflater:
    """Streaming gzip/deflate decoder that never produces more than it is allowed to."""

    def __init__(self, encoding: str):
        self.gzip = encoding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`, returning at most `room` bytes (more pending means too large)."""
        out = bytearray()
        while data and len(out) < room:
            try:
                out += self._z.decompress(data, room - len(out))
            except zlib.error:
                if self._started or self.gzip:
                    raise
                # Some servers send raw deflate without the zlib header.
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                out += self._z.decompress(data, room - len(out))
            self._started = True
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data and self.gzip:
                data, self._z = self._z.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
        return bytes(out)


async def read_body(url: URL, resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body of `resp`, decoded; FetchError past `cap` bytes either side of decoding."""
    if resp.content_length is not None and resp.content_length > cap:
        raise _too_large(url, resp, cap, f"announced a {size_text(resp.content_length)} body")
    inflater = _inflater(url, resp)
    received, body = 0, bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK):
        received += len(chunk)
        if received > cap:
            raise _too_large(url, resp, cap, f"sent more than {size_text(cap)}")
        body += _decode(url, inflater, chunk, cap + 1 - len(body))
        if len(body) > cap:
            raise _too_large(url, resp, cap, "sent a body that decompresses to more "
                                             f"than {size_text(cap)}")
    return bytes(body)


def _inflater(url: URL, resp: aiohttp.ClientResponse) -> Inflater | None:
    """A decoder for the Content-Encoding, None for identity; FetchError for others."""
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ENCODINGS:
        resp.close()
        raise FetchError("http", f"fetcher: {where(url)} sent an unsupported "
                                 f"Content-Encoding: {encoding}")
    return Inflater(encoding) if encoding not in ("identity", "") else None


def _decode(url: URL, inflater: Inflater | None, chunk: bytes, room: int) -> bytes:
    if inflater is None:
        return chunk
    try:
        return inflater.feed(chunk, room)
    except zlib.error as e:
        raise FetchError("http", f"fetcher: {where(url)} sent a corrupt "
                                 f"compressed body ({e})") from None


def _too_large(url: URL, resp: aiohttp.ClientResponse, cap: int, what: str) -> FetchError:
    resp.close()  # drop the connection now rather than drain the rest
    return FetchError("too-large", f"fetcher: {where(url)} {what}; the limit is "
                                   f"{size_text(cap)}")


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"
