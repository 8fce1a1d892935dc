"""The edit queue beside the dispatch mark (storage/dispatch_mark.py), as channels see it:
an edit routes again only the stories edited, each as old as when it was first seen."""
from __future__ import annotations

from bot.dispatch import dispatch_new
from tests.dispatch_kit import add, deliver, follow, route_edits, story
from tests.fakes.recorder import RecordingAdapter

QWEN = "Alibaba cuts Qwen API prices by 50%"


def alibaba(clock, sid: str, title: str = QWEN, *also: str):
    return story(sid, title, clock, companies=("Alibaba", *also), topics=("pricing",))


async def test_an_archive_rewrite_posts_none_of_its_old_stories(store, clock):
    """A feed rewriting its archive stamps every entry with the time of the rewrite:
    each story is judged by when it was first seen, not only one of them."""
    follow(store, clock, "tencent", "company", "Tencent")
    titles = {"s1": QWEN, "s2": "Alibaba opens its Qwen 3 weights",
              "s3": "Alibaba Cloud books $2bn of AI revenue"}
    dispatch_new(store, add(store, clock, *(alibaba(clock, s, t) for s, t in titles.items())),
                 clock())
    clock.advance(days=3)
    add(store, clock, *(alibaba(clock, s, f"{t}, ahead of Tencent", "Tencent")
                        for s, t in titles.items()))        # published: now
    route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert adapter.sends == []


async def test_an_edit_does_not_send_a_new_channel_the_stories_before_it(store, clock):
    """A channel that subscribed after a story went out does not get that story when
    another story of its feed is edited."""
    follow(store, clock, "early")
    first = story("s1", "Anthropic raises $4bn from Amazon", clock)
    dispatch_new(store, add(store, clock, first, alibaba(clock, "s2")), clock())
    follow(store, clock, "late")
    clock.advance(minutes=5)
    add(store, clock, alibaba(clock, "s2", "Alibaba cuts Qwen API prices by 60%"))
    route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    sent = [(s.channel, s.brief.id) for s in adapter.sends]
    assert sent.count(("early", "s1")) == 1 and ("late", "s1") not in sent
