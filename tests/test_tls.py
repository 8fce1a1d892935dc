"""TLS trust (feeds/tls.py): AINEWS_CA_FILE's CAs added to each library's own, never in
their place, and a refused certificate said with the setting that trusts its CA."""
from __future__ import annotations

import ssl

import pytest

from feeds.tls import _httpx_context_maker, aiohttp_context, httpx_verify, tls_reason
from tests.fakes.tls import COMPANY_CA


def _httpx_client():
    from openai import DefaultAsyncHttpxClient   # the LLM's client class
    return DefaultAsyncHttpxClient


TRUST = {   # client -> (the library's own context, ours with the CA file)
    "aiohttp": (ssl.create_default_context, lambda: aiohttp_context(str(COMPANY_CA))),
    "httpx": (lambda: _httpx_context_maker(_httpx_client())(),
              lambda: httpx_verify(str(COMPANY_CA), _httpx_client())),
}


def _cas(context: ssl.SSLContext) -> set[tuple]:
    return {(c["subject"], c["serialNumber"]) for c in context.get_ca_certs()}


@pytest.mark.parametrize("client", TRUST)
def test_the_ca_file_is_trusted_besides_the_librarys_own_cas(client):
    """Behind a TLS-inspecting proxy that lets some hosts through untouched, those keep
    their public certificates: the company's CA must not replace the usual ones."""
    own, ours = (make() for make in TRUST[client])
    added = _cas(ours) - _cas(own)
    assert _cas(own) <= _cas(ours) and len(added) == 1
    assert "ainews test company CA" in str(added)


def test_without_a_ca_file_each_library_keeps_its_own_cas():
    assert aiohttp_context(None) is None   # aiohttp's default context
    own, ours = TRUST["httpx"][0](), httpx_verify(None, _httpx_client())
    assert _cas(ours) == _cas(own)


def test_a_tls_failure_is_read_from_what_it_was_raised_from():
    """openai's APIConnectionError("Connection error.") holds the refused certificate
    two exceptions down."""
    refused = ssl.SSLCertVerificationError(1, "certificate verify failed")
    refused.verify_message = "unable to get local issuer certificate"
    try:
        try:
            raise refused
        except ssl.SSLError as e:
            raise ConnectionError("Connection error.") from e
    except ConnectionError as outer:
        assert tls_reason(outer) == ("certificate verify failed: unable to get local issuer "
                                     "certificate; AINEWS_CA_FILE names a CA to trust, such "
                                     "as a company's")
    assert tls_reason(ConnectionError("refused")) is None
