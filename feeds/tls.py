"""TLS trust: the CAs every client the bot opens trusts, and what a refused certificate says.

AINEWS_CA_FILE (bot/config.py reads and checks it) is a PEM of CAs trusted besides each
library's own: an intranet feed signed by a company CA, and behind a TLS-inspecting
proxy (Zscaler, Netskope, Palo Alto) every site, Discord, Slack and the LLM included,
re-signed by the company's CA. Only one variable, SSL_CERT_FILE, could otherwise add
it, by replacing the system's CAs, and only from the process environment, not .env.

- aiohttp's clients (the fetcher, discord.py, slack_sdk) trust the system's CAs:
  `aiohttp_context` adds the file's to those.
- openai's httpx client trusts httpx's own (certifi's bundle, for httpx):
  `httpx_verify` adds the file's to those.
- `tls_reason` says why a handshake failed, with where to name a CA when no CA trusted
  here vouches for the certificate; `cannot_reach` says why a connection failed, and
  whether that CA is the fix.
Nothing here reads the environment.
"""
from __future__ import annotations

import functools
import ssl
import sys
from pathlib import Path

__all__ = ["CA_HINT", "UNKNOWN_CA", "aiohttp_context", "cannot_reach", "handshake_failed",
           "httpx_verify", "tls_reason"]

# OpenSSL's words for a certificate no CA trusted here vouches for: an intranet's,
# signed by the company's own CA, a TLS-inspecting proxy's (or one the server sent itself).
UNKNOWN_CA = ("unable to get local issuer certificate", "self-signed certificate",
              "self-signed certificate in certificate chain",
              "self signed certificate", "self signed certificate in certificate chain")
CA_HINT = "; AINEWS_CA_FILE names a CA to trust, such as a company's"


@functools.lru_cache(maxsize=4)   # each poll opens a session; the system's CAs take a while
def aiohttp_context(ca_file: str | Path | None) -> ssl.SSLContext | None:
    """aiohttp's own context (the system's CAs, http/1.1) with `ca_file`'s CAs too;
    None without one: the library's default, untouched."""
    if not ca_file:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca_file)
    context.set_alpn_protocols(("http/1.1",))
    return context


def httpx_verify(ca_file: str | Path | None, client_class: type) -> ssl.SSLContext | bool:
    """`verify=` for `client_class` (an httpx AsyncClient, such as openai's): the CAs
    its httpx trusts by default (certifi's bundle, not the system's), or SSL_CERT_FILE's
    and SSL_CERT_DIR's, as httpx reads them itself (a client made with trust_env off,
    for the proxy's sake, would not), and `ca_file`'s."""
    make = _httpx_context_maker(client_class)
    if make is None:
        return _with_ca_file(ssl.create_default_context(), ca_file) if ca_file else True
    return _with_ca_file(make(), ca_file)


def _with_ca_file(context: ssl.SSLContext, ca_file: str | Path | None) -> ssl.SSLContext:
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _httpx_context_maker(client_class: type):
    """The create_ssl_context of the httpx package `client_class` comes from (openai
    has shipped on httpx and on a fork of it), or None."""
    for klass in client_class.__mro__:
        package = sys.modules.get(klass.__module__.partition(".")[0])
        if callable(make := getattr(package, "create_ssl_context", None)):
            return make
    return None


def tls_reason(e: BaseException) -> str | None:
    """Why a TLS handshake failed, read from `e` or what it was raised from:
    "certificate verify failed: unable to get local issuer certificate; AINEWS_CA_FILE
    names ...", or OpenSSL's reason in words ("wrong version number"). None when no
    TLS error of OpenSSL's is found."""
    for err in _chain(e):
        if message := getattr(err, "verify_message", None):
            hint = CA_HINT if message in UNKNOWN_CA else ""
            return f"certificate verify failed: {message}{hint}"
    for err in _chain(e):   # OpenSSL's reason, e.g. WRONG_VERSION_NUMBER
        code = getattr(err, "reason", None)
        if isinstance(err, ssl.SSLError) and isinstance(code, str):
            return code.replace("_", " ").lower()
    return None


def handshake_failed(e: BaseException) -> str | None:
    """"TLS handshake failed (...)" as the fetcher says it, for any client's failure that
    is one (tls_reason); None for another."""
    reason = tls_reason(e)
    return f"TLS handshake failed ({reason})" if reason is not None else None


def cannot_reach(e: BaseException, where: str = "", words: str | None = None,
                 ) -> tuple[str, bool]:
    """Why a connection failed, and whether the fix is a CA to trust (AINEWS_CA_FILE),
    not the network or the far end: a refused handshake as the fetcher says it, "TLS
    handshake failed (...)", else "Type: words" (`words`: e's message, as the caller
    cleans it). With `where`: "can't reach WHERE: TLS ..." or "can't reach WHERE (Type: words)"."""
    reason = tls_reason(e)
    if reason is None:
        said = f"{type(e).__name__}: {str(e) if words is None else words}"
        return (f"can't reach {where} ({said})" if where else said), False
    tls = f"TLS handshake failed ({reason})"
    return (f"can't reach {where}: {tls}" if where else tls), reason.endswith(CA_HINT)


def _chain(e: BaseException | None):
    """`e`, and what it wraps: the exceptions it was raised from (httpx, openai) and
    aiohttp's certificate_error and os_error."""
    seen: list[BaseException] = []
    while e is not None and not any(e is s for s in seen) and len(seen) < 10:
        seen.append(e)
        yield e
        for wrapped in (getattr(e, "certificate_error", None), getattr(e, "os_error", None)):
            if isinstance(wrapped, BaseException):
                yield wrapped
        e = e.__cause__ or e.__context__
