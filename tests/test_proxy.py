"""feeds/proxy.py: which proxy a URL goes through (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as
curl and urllib read them) and a proxy URL as messages show it."""
from __future__ import annotations

import pytest

from feeds.proxy import Proxies, Proxy, parse_no_proxy, parse_proxy

HTTPS = Proxy(parse_proxy("http://bob:s3cret@proxy.corp:3128"), "HTTPS_PROXY")
HTTP = Proxy(parse_proxy("proxy.corp:8080"), "HTTP_PROXY")
PROXIES = Proxies(https=HTTPS, http=HTTP, no_proxy=parse_no_proxy(
    ".corp, 10.0.0.0/8 intranet.example.com:8443,[fd00::1],*.internal"))


@pytest.mark.parametrize("url, proxy", [
    ("https://news.example.com/feed", HTTPS), ("wss://gateway.discord.gg/?v=10", HTTPS),
    ("http://news.example.com/rss", HTTP), ("ws://news.example.com/", HTTP),
    # NO_PROXY: a domain and its subdomains (with or without the dot), a network, an
    # address, a host with a port (other ports still go through the proxy).
    ("https://wiki.corp/feed", None), ("http://corp/", None), ("https://xcorp/", HTTPS),
    ("http://10.1.2.3/rss", None), ("http://11.1.2.3/rss", HTTP),
    ("https://intranet.example.com:8443/", None), ("https://intranet.example.com/", HTTPS),
    ("http://[fd00::1]:8080/", None), ("https://a.b.internal/", None),
    # Loopback never: the proxy's localhost is another machine (a local Ollama).
    ("http://localhost:11434/v1", None), ("http://127.0.0.1:9/", None),
    ("http://[::1]:9/", None), ("http://app.localhost/", None),
])
def test_a_url_goes_through_its_schemes_proxy_unless_no_proxy_names_it(url, proxy):
    assert PROXIES.for_url(url) == proxy


def test_no_proxy_star_sends_everything_straight_and_no_setting_is_no_proxy():
    assert Proxies(https=HTTPS, no_proxy=("*",)).for_url("https://x.example/") is None
    assert Proxies(https=HTTPS).for_url("http://x.example/") is None   # no HTTP_PROXY
    assert not Proxies() and Proxies().for_url("https://x.example/") is None


def test_a_proxy_is_shown_without_its_credentials():
    assert (HTTPS.shown, HTTPS.where) == ("http://***@proxy.corp:3128", "proxy.corp:3128")
    assert (HTTP.shown, HTTP.url) == ("http://proxy.corp:8080", "http://proxy.corp:8080")
    assert "s3cret" not in repr(PROXIES) + PROXIES.summary()
    assert PROXIES.summary().startswith("https through http://***@proxy.corp:3128; http "
                                        "through http://proxy.corp:8080")


@pytest.mark.parametrize("raw, words", [
    ("socks5h://p:1080", "is a socks5h:// proxy"), ("http://p:0", "needs a host and port"),
    ("http://p:99999", "needs a host and port"), ("http://[::1", "is not a URL"),
    ("https://p:3128", "must start with http://"),
    # A password's unencoded "/" ends the host early: proxy "ss", port 80, was used.
    ("http://bob:p@ss/0rd@proxy.corp:3128", "has an .@. after its host, so its password ends"),
])
def test_a_malformed_proxy_url_says_what_is_wrong(raw, words):
    with pytest.raises(ValueError, match="^" + words.replace("?", r"\?")):
        parse_proxy(raw)


def test_a_proxy_without_a_port_is_on_80_as_urllib_and_httpx_read_it():
    assert parse_proxy("http://proxy.corp/") == "http://proxy.corp:80"


@pytest.mark.parametrize("url", [
    "http://0.0.0.0:11434/v1",             # Ollama's OLLAMA_HOST=0.0.0.0, copied into LLM_BASE_URL
    "http://127.1:11434/v1",               # the short form the guard itself knows (literal_ip)
    "http://[::ffff:127.0.0.1]:11434/v1",  # IPv4-mapped loopback (is_loopback False before 3.13)
    "http://[::]:11434/v1", "http://localhost.:11434/v1", "http://127.0.0.1.:11434/v1",
    "http://localhost.localdomain:11434/v1",
])
def test_this_machine_however_written_is_never_proxied(url):
    """README: loopback is never proxied, 'as the proxy's localhost is another machine'.
    These reach this machine straight, and through the proxy its own localhost."""
    assert PROXIES.for_url(url) is None
