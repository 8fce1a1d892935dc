"""URL canonicalisation: tracking variants of one article collapse to one spelling; links
and hosts as chat shows them."""
from __future__ import annotations

import pytest

from feeds.models import story_id
from feeds.url_display import link_url, shown_url, target_url
from feeds.urls import canonical_url, find_alternate, is_web_url

BASE = "https://news.example.com/feeds/ai/rss.xml"


@pytest.mark.parametrize("url, expected", [
    # tracking parameters and fragments dropped; other parameters kept in order
    ("https://x.com/a?utm_source=rss&utm_medium=feed&utm_campaign=ai", "https://x.com/a"),
    ("https://x.com/a?id=7&utm_source=rss&page=2#comments", "https://x.com/a?id=7&page=2"),
    ("https://x.com/a?z=1&a=2&m=3", "https://x.com/a?z=1&a=2&m=3"),
    ("https://x.com/a?fbclid=IwAR0&gclid=Cj0&mc_cid=1&mc_eid=2", "https://x.com/a"),
    ("https://x.com/a?ref=hn&ref_src=twsrc&story=9", "https://x.com/a?story=9"),
    ("https://x.com/a?UTM_Source=rss&spm=a2c6h.1", "https://x.com/a"),
    ("https://x.com/a?source=rss&q=ai", "https://x.com/a?q=ai"),
    ("https://x.com/search?source=web&q=ai", "https://x.com/search?source=web&q=ai"),
    ("https://x.com/a?q=a%20b&utm_term=x", "https://x.com/a?q=a%20b"),
    ("https://x.com/a?id=7&&utm_source=x&", "https://x.com/a?id=7"),   # empty pairs go too
    ("https://x.com/a?+utm_source=x&id=1", "https://x.com/a?id=1"),
    ("https://x.com/s?q=rss+feed&topic=feeds", "https://x.com/s?q=rss+feed&topic=feeds"),
    # host lowercased, default ports dropped, other ports kept, empty path -> "/"
    ("HTTPS://News.Example.COM:443/Path/Case", "https://news.example.com/Path/Case"),
    ("http://example.com:80", "http://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com./a", "http://example.com/a"),
    ("https://News.Example.com", "https://news.example.com/"),
    ("https://example.com?id=1", "https://example.com/?id=1"),
    ("http://Example.com.:8080/a", "http://example.com:8080/a"),
    ("http://[2001:DB8::1]:80/a?utm_source=x", "http://[2001:db8::1]/a"),
    ("  https://example.com/padded  ", "https://example.com/padded"),
    # userinfo dropped: it can disguise the host ("reuters.com@evil") or carry a secret
    ("https://www.reuters.com@evil.example/ai", "https://evil.example/ai"),
    ("https://user:s3cret@example.com/a", "https://example.com/a"),
    # a reader's credentials in the query dropped as well: a personalised feed's links
    # carry the subscriber's, which every channel shown the link could use
    ("https://x.com/a?access_token=eyJ1&id=7&token=t&apikey=k", "https://x.com/a?id=7"),
    ("https://x.com/a?p=3&api_key=k&x-api-key=k&auth=a&jwt=j&oauth_token=o",
     "https://x.com/a?p=3"),
    ("https://x.com/a?PHPSESSID=s&jsessionid=s&session_id=s&client_secret=c&pwd=p",
     "https://x.com/a"),
    ("/story/1?Access%5FToken=t&id=2", "https://news.example.com/story/1?id=2"),
    # but not what selects an article or makes a signed link work
    ("https://x.com/a?key=ai-capex&code=US&hash=h1&sid=07/01/02&pass=1",
     "https://x.com/a?key=ai-capex&code=US&hash=h1&sid=07/01/02&pass=1"),
    ("https://cdn.x.com/a.pdf?Expires=1&Signature=s&Key-Pair-Id=K&sig=s&sort_key=d",
     "https://cdn.x.com/a.pdf?Expires=1&Signature=s&Key-Pair-Id=K&sig=s&sort_key=d"),
    ("https://x.com/a?author=jo&monkey=2&tokens=9", "https://x.com/a?author=jo&monkey=2&tokens=9"),
    # relative links resolved against the base
    ("/story/1?utm_source=x", "https://news.example.com/story/1"),
    ("story-2.html", "https://news.example.com/feeds/ai/story-2.html"),
    ("../top.html#frag", "https://news.example.com/feeds/top.html"),
    ("//cdn.example.org/a", "https://cdn.example.org/a"),
    # not web URLs: left alone
    ("mailto:tips@example.com", "mailto:tips@example.com"),
    ("tag:example.com,2024:post-1", "tag:example.com,2024:post-1"),
    ("ftp://example.com/a?utm_source=x#f", "ftp://example.com/a?utm_source=x#f"),
    ("http:///no-host?utm_source=x", "http:///no-host?utm_source=x"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url, BASE) == expected


def test_canonical_url_is_idempotent():
    once = canonical_url("HTTP://A.example:80/x/?b=1&utm_source=y&a=2#f")
    assert once == "http://a.example/x/?b=1&a=2"
    assert canonical_url(once) == once


def test_malformed_url_does_not_raise():
    assert canonical_url("http://[::1") == "http://[::1"
    assert canonical_url("http://host:notaport/x") == "http://host:notaport/x"
    assert canonical_url("") == ""
    # With a base too (every feed link has one): a JSON Feed item's "url" crashed the feed.
    assert canonical_url("http://[::1", "https://example.com/feed.json") == "http://[::1"
    assert canonical_url("/a", "http://[bad/feed") == "/a"
    # A bad base must not keep an absolute link's tracking parameters (dedupe would miss it).
    assert canonical_url("HTTPS://N.example/a?utm_source=x&id=1#top", "http://[bad/feed") \
        == "https://n.example/a?id=1"
    assert canonical_url("a.html", "  https://n.example/x/ ") == "https://n.example/x/a.html"


def test_tracking_variants_share_the_id_when_there_is_no_guid():
    variants = [
        "https://www.example.com/ai/qwen-pricing?utm_source=twitter",
        "https://WWW.example.com:443/ai/qwen-pricing?fbclid=abc#top",
        "https://www.example.com/ai/qwen-pricing?utm_medium=rss&utm_campaign=daily",
    ]
    ids = {story_id("https://feed/a", "", canonical_url(v)) for v in variants}
    assert len(ids) == 1
    other = story_id("https://feed/a", "", canonical_url("https://www.example.com/ai/other"))
    assert other not in ids


@pytest.mark.parametrize("s, expected", [
    ("https://x.com/1", True), ("HTTP://x.com", True), ("  http://x", True),
    ("tag:x,2020:1", False), ("urn:uuid:1234", False), ("12345", False), ("", False),
])
def test_is_web_url(s, expected):
    assert is_web_url(s) is expected


# Written out here, not read from feeds.urls: dropping a key there must fail this test.
TRACKING = ["fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
            "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref",
            "ref_src", "ref_url", "referrer", "referer", "spm", "guccounter", "guce_referrer",
            "guce_referrer_sig", "smid", "cmpid", "ncid", "icid", "sr_share", "at_medium",
            "at_campaign", "WT.mc_id", "wt_mc", "oly_enc_id", "oly_anon_id", "vero_id",
            "__twitter_impression", "share_source", "rss_source", "utm_content", "pk_campaign",
            "mtm_source", "source=rss", "src=feed", "from=RSS", "via=rss_feed", "cmp=feedly"]


@pytest.mark.parametrize("pair", TRACKING)
def test_every_tracking_parameter_is_dropped(pair):
    pair = pair if "=" in pair else pair + "=x1"
    assert canonical_url(f"https://x.com/a?id=7&{pair}&page=2") == "https://x.com/a?id=7&page=2"


@pytest.mark.parametrize("kind", ["application/rss+xml", "application/atom+xml",
                                  "application/feed+json", "application/json",
                                  "application/rdf+xml", "Application/RSS+XML ; charset=utf-8"])
def test_page_advertising_a_feed_of_any_kind_is_followed_to_it(kind):
    page = (f'<html><head><link rel="stylesheet" href="/s.css">'
            f'<link rel="Alternate" type="{kind}" href=" feeds/ai.xml "></head></html>')
    assert find_alternate(page, "https://news.example/tech/") == \
        "https://news.example/tech/feeds/ai.xml"


@pytest.mark.parametrize("page,found", [
    ('<link rel="alternate" type="text/html" href="/en">', None),       # not a feed
    ('<link rel="alternate" type="application/rss+xml" href="  ">', None),
    ('<link rel="self" type="application/rss+xml" href="/x">', None),
    ('<link type="application/rss+xml" href="/x">', None),
    ('<base href=" https://cdn.example/y/ "><link rel="alternate" '
     'type="application/atom+xml" href="atom">', "https://cdn.example/y/atom"),
    ('<base href="https://cdn.example/x/"><link rel="alternate" '
     'type="application/rss+xml" href="rss">', "https://cdn.example/x/rss"),
    ("", None),
])
def test_feed_discovery_follows_only_real_feed_links(page, found):
    assert find_alternate(f"<html><head>{page}</head></html>" if page else page,
                          "https://news.example/") == found


LONGEST = "https://news.example/" + "a" * (512 - len("https://news.example/"))


@pytest.mark.parametrize("url,link", [
    ("https://news.example/a b?q=<x>|y", "https://news.example/a%20b?q=%3Cx%3E%7Cy"),
    (" https://news.example/x \n", "https://news.example/x"),   # as a feed may space it
    ("https://straße.de:8443/x", "https://xn--strae-oqa.de:8443/x"),   # not strasse.de
    ("https://Straße.de/x", "https://xn--strae-oqa.de/x"),             # whatever its case
    ("ftp://files.example/x", None), ("file://host/etc/passwd", None),
    ("javascript:alert(1)", None), ("http:///no-host", None),
    (LONGEST, LONGEST), (LONGEST + "a", None),               # the platform's limit: 512
])
def test_only_a_web_link_with_a_host_becomes_a_chat_link(url, link):
    assert link_url(url, 512) == link


@pytest.mark.parametrize("url,shown", [
    ("https://news.example/a?b=1", "https://news.example/a?b=1"),
    ("https://pаypal.com/login", "https://xn--pypal-4ve.com/login"),   # a Cyrillic "а"
    ("https://pаypal.com:99999/x", "https://xn--pypal-4ve.com:99999/x"),   # bad port too
    ("https://☕.example/x", "https://xn--53h.example/x"),     # IDNA 2008 refuses: as yarl
    ("http://[bad/feed", "http://[bad/feed"),                 # unreadable: as it came
    ("https://" + "ä" * 64 + ".de/x", "https://" + "%C3%A4" * 64 + ".de/x"),   # no DNS name
])
def test_a_link_is_shown_with_its_host_as_browsers_reach_it(url, shown):
    assert shown_url(url) == shown


@pytest.mark.parametrize("url,shown", [
    ("https://news.example/a@b?c=1#d", "https://news.example/a@b?c=1#d"),     # as written
    ("https://paypal.com@evil.example/login", "https://evil.example/login"),   # a user part
    ("https://paypal.com:443@evil.example:8443/x", "https://evil.example:8443/x"),
    ("https://pаypal.com/login", "https://xn--pypal-4ve.com/login"),          # a Cyrillic "а"
    ("https://u@pаypal.com/login", "https://xn--pypal-4ve.com/login"),
    ("https://paypal．com/login", "https://paypal.com/login"),                # as browsers map it
    ("https://paypal.com%2Eevil.example/x", "https://paypal.com.evil.example/x"),
    ("https://paypal.com%40evil.example/x", "https://paypal.com%40evil.example/x"),   # no host
    ("https://" + "ä" * 64 + ".de/x", "https://" + "%C3%A4" * 64 + ".de/x"),   # no DNS name
])
def test_a_url_in_feed_text_is_shown_as_where_it_goes(url, shown):
    assert target_url(url) == shown


@pytest.mark.parametrize("text, shown", [
    # a password goes, the user stays (it tells two accounts apart); a lone user part
    # is most often a token (https://TOKEN@host/rss), so it goes whole
    ("https://alice:s3cretpw@private.example/rss", "https://alice:***@private.example/rss"),
    ("https://ghp_T0ken@private.example/rss", "https://***@private.example/rss"),
    ("http://a:p@ss@h.example:8080/rss", "http://a:***@h.example:8080/rss"),
    # a password holding "/", "?" or "#" unescaped (a URL urllib refuses, and the error
    # quotes): its user part still runs to the "@" before the host, not one in the path
    ("https://alice:s3cr/etpw@private.example/rss", "https://alice:***@private.example/rss"),
    ("https://alice:s3cr?etpw@private.example/rss", "https://alice:***@private.example/rss"),
    ("https://alice:s3cr#etpw@10.0.0.5:8080/rss", "https://alice:***@10.0.0.5:8080/rss"),
    ("https://alice:p@ss/w@private.example/rss/@bob",
     "https://alice:***@private.example/rss/@bob"),
    # an "@" in a path is no user part, after a port or a user part as well
    ("https://medium.example/@bob.smith/ai", "https://medium.example/@bob.smith/ai"),
    ("https://medium.example:8443/@bob.smith/ai", "https://medium.example:8443/@bob.smith/ai"),
    ("https://alice:pw@h.example/rss/@bob.smith/x", "https://alice:***@h.example/rss/@bob.smith/x"),
    ("https://h.example/rss?u=a:b/c@d.example", "https://h.example/rss?u=a:b/c@d.example"),
    # values of query keys that carry credentials; other parameters stay as written
    ("https://h.example/rss?apikey=XYZ&id=4&access_token=abc#top",
     "https://h.example/rss?apikey=***&id=4&access_token=***#top"),
    ("https://h.example/rss?Token=t&key=k&api-key=a&sig=s&monkey=2&topic=ai",
     "https://h.example/rss?Token=***&key=***&api-key=***&sig=***&monkey=2&topic=ai"),
    # Reddit's private feeds (saved, inbox): the secret is ?feed=, the user name stays;
    # WordPress's ?feed= is a format, shown as is
    ("https://www.reddit.com/user/alice/saved.rss?feed=0f1e2d3c4b5a&user=alice",
     "https://www.reddit.com/user/alice/saved.rss?feed=***&user=alice"),
    ("https://blog.example/?feed=rss2", "https://blog.example/?feed=rss2"),
    ("https://blog.example/?feed=comments-rss2&p=1",
     "https://blog.example/?feed=comments-rss2&p=1"),
    # a tracker's passkey and other common names; a key that only sorts stays
    ("https://t.example/rss?passkey=abc123&hash=h&code=c&pass=p&client_secret=s",
     "https://t.example/rss?passkey=***&hash=***&code=***&pass=***&client_secret=***"),
    ("https://h.example/rss?sort_key=date&oauth_token=o&x-api-key=x&lang_code=en",
     "https://h.example/rss?sort_key=date&oauth_token=***&x-api-key=***&lang_code=en"),
    # in a message or log line: every URL in it, the words around it kept
    ("poller: Feed 22 (http://alice:s3cretpw@10.0.0.5/rss?token=t) failed",
     "poller: Feed 22 (http://alice:***@10.0.0.5/rss?token=***) failed"),
    # nothing to hide; shown twice, the same
    ("https://news.example/rss?id=7", "https://news.example/rss?id=7"),
    ("mail ops@news.example about it", "mail ops@news.example about it"),
    ("https://alice:***@h.example/rss?token=***", "https://alice:***@h.example/rss?token=***"),
])
def test_a_feed_urls_secrets_are_not_shown(text, shown):
    from feeds.urls import without_secrets
    assert without_secrets(text) == shown
