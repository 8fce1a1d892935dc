"""A company's https for the fakes: a certificate for intranet.test and 127.0.0.1 signed
by a company CA no system trusts (tests/data/tls, valid 2020-2125), as an intranet's
server presents, or a TLS-inspecting proxy (Zscaler, Netskope) for every site."""
from __future__ import annotations

import ssl
from pathlib import Path

TLS = Path(__file__).parents[1] / "data" / "tls"
COMPANY_CA = TLS / "ca.pem"


def company_signed() -> ssl.SSLContext:
    """A server's context presenting the certificate COMPANY_CA signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "server.pem", TLS / "server.key")
    return context
