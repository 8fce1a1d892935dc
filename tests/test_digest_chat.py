"""/digest as a user types it in Slack and Discord, through the real clients against
the fakes (tests/fakes/chat.py): the time zones people write, and what comes back."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("zone, quoted", [("Europe", "Europe"),
                                          ("E" * 5000, "E" * 59 + "…")],
                         ids=["region", "5000 characters"])
async def test_a_time_zone_that_is_no_zone_file_is_refused_with_the_reason(
        chat, chat_core, zone, quoted):
    """`/digest daily 08:30 Europe` (a region: a directory of zone files) or a very long
    name (too long for a file name) crashed the command: "Sorry, /digest failed"."""
    answer = await chat.ask(("/digest", f"daily 08:30 {zone}"),
                            ("digest", {"mode": "daily", "at": "08:30", "timezone": zone}),
                            admin=True)
    assert f"Unknown time zone '{quoted}'" in answer and "failed" not in answer, answer
    assert chat_core.store.digest_setting(chat.platform, chat.channel) is None


@pytest.mark.parametrize("zone", ["GMT+8", "UTC+8", "+08:00"])
async def test_a_utc_offset_for_a_time_zone_is_pointed_to_the_zones_at_that_offset(
        chat, chat_core, zone):
    """`/digest daily 08:30 GMT+8`, how China writes its time: the answer suggested
    GMT+0, a digest 8 hours off; UTC+8 got no suggestion at all."""
    answer = await chat.ask(("/digest", f"daily 08:30 {zone}"),
                            ("digest", {"mode": "daily", "at": "08:30", "timezone": zone}),
                            admin=True)
    assert f"'{zone}' is a UTC offset, not a time zone" in answer, answer
    assert "Asia/Shanghai" in answer and "Etc/GMT-8 for that offset all year" in answer
    assert "GMT+0" not in answer
    assert chat_core.store.digest_setting(chat.platform, chat.channel) is None


async def test_an_etc_zone_is_said_to_count_the_other_way(chat, chat_core):
    """Etc/GMT+8 is UTC-8: set for a UTC+8 channel, its digest came 16 hours off with
    nothing said."""
    answer = await chat.ask(("/digest", "daily 08:30 Etc/GMT+8"),
                            ("digest", {"mode": "daily", "at": "08:30",
                                        "timezone": "Etc/GMT+8"}), admin=True)
    assert "one digest a day at 08:30 Etc/GMT+8" in answer, answer
    assert "Note: Etc/GMT+8 is UTC-8, 8 hours behind UTC (Etc/ names count the other way)" \
        in answer


# `/digest daily 08:30 America/New York` was refused in Slack with the usage (one word
# too many) and in Discord as an unknown zone, though the zone was plain. Slack's one
# line `daily 8:30 pm Europe/London` read "pm Europe/London" as the zone; Discord's
# at:8:30 pm was "not a time; use 24-hour HH:MM".
@pytest.mark.parametrize("at, zone, at_time, tz", [
    ("08:30", "America/New York", "08:30", "America/New_York"),
    ("8:30 pm", "Europe/London", "20:30", "Europe/London"),
], ids=["a space for the zone's underscore", "a twelve-hour time"])
async def test_a_digest_time_and_zone_as_people_type_them_are_understood(
        chat, chat_core, at, zone, at_time, tz):
    answer = await chat.ask(("/digest", f"daily {at} {zone}"),
                            ("digest", {"mode": "daily", "at": at, "timezone": zone}),
                            admin=True)
    assert f"one digest a day at {at_time} {tz}" in answer, answer
    setting = chat_core.store.digest_setting(chat.platform, chat.channel)
    assert (setting.at_time, setting.tz) == (at_time, tz)


@pytest.mark.parametrize("at, quoted", [("25:00", "25:00"), ("9" * 5000, "9" * 59 + "…")],
                         ids=["one", "5000 characters"])
async def test_a_time_that_is_no_time_is_quoted_short_and_the_example_whole(
        chat, chat_core, at, quoted):
    """A 5,000-character time was quoted whole: the reply, cut to the platform's limit,
    ended inside our example ("as in `/digest mode:daily at:08:30…", a stray backtick
    in Discord), as a long time zone no longer did."""
    answer = await chat.ask(("/digest", f"daily {at}"),
                            ("digest", {"mode": "daily", "at": at}), admin=True)
    assert f"'{quoted}' is not a time" in answer, answer
    assert answer.rstrip("`.").endswith("Europe/Berlin"), answer[-200:]   # the example, whole
    assert chat_core.store.digest_setting(chat.platform, chat.channel) is None
