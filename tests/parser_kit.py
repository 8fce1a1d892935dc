"""Shared pieces of the parser tests: an RSS wrapper and `parse`, which reads through
the XML reader the `reader` fixture chose. Every parser test runs twice: through
parse_feed as shipped (the lxml fast path where it applies) and forced onto feedparser, the
path every feed the fast path declines still takes. Modules declare the fixture as
`reader = pytest.fixture(set_reader, name="reader", autouse=True,
params=["auto", "feedparser"])`."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from feeds.parser import parse_feed_with


DATA = Path(__file__).parent / "data"
FEED = "https://feeds.example.com/ai.xml"
FETCHED = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def rss(items: str, channel: str = "<title>AI Wire</title><link>https://wire.example.com/</link>",
        prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (f'{prolog}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            f' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
            f' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
            f"<channel>{channel}{items}</channel></rss>").encode("utf-8")


READER = "auto"


def set_reader(request):
    """The `reader` fixture: the XML reader parse() uses (see the module docstring)."""
    global READER
    READER = request.param
    yield request.param
    READER = "auto"


def parse(body: bytes, **kw):
    kw.setdefault("feed_url", FEED)
    kw.setdefault("fetched_at", FETCHED)
    return parse_feed_with(READER, body, **kw)


RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://r.example.org/"><title>RDF News</title>
    <link>https://r.example.org/</link><description>d</description>
    <items><rdf:Seq><rdf:li resource="https://r.example.org/1"/></rdf:Seq></items></channel>
  <item rdf:about="https://r.example.org/1"><title>Baidu unveils Ernie 5</title>
    <link>https://r.example.org/1?utm_source=rdf</link><dc:date>2025-02-03T04:05:06+09:00</dc:date>
    <dc:creator>Li Wei</dc:creator><description>Baidu &lt;b&gt;cut&lt;/b&gt; prices.</description></item>
</rdf:RDF>"""


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>Bomb</title><item><title>boom &lol9;</title>'
    '<link>https://x.com/1</link><description>&lol9;&lol9;</description></item></channel></rss>'
).encode()
QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + "A" * 20000 + '">]>'
    '<rss version="2.0"><channel><title>Q</title><item><title>q</title><link>https://x.com/q</link>'
    "<description>" + "&a;" * 20000 + "</description></item></channel></rss>"
).encode()
