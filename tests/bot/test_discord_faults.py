"""Discord misbehaving: HTTP 500 and 429 on the bot's requests, a dropped or recycled gateway connection,
and events the bot has never heard of. The real bot logs, lets discord.py retry, reconnects, and keeps answering.

What is checked is the bot's side: the answer arrives, or the failure is logged and the member told, and other
members are answered meanwhile. How often and how long discord.py waits between retries is discord.py's business
and is never asserted; the `quick_retries` fixture only shortens its sleeps (by five) so that a request discord.py
gives up on fails in seconds, not half a minute.
"""

import asyncio
import logging
import re

import discord
import pytest

from tests.bot.fake_discord import RECONNECT, FakeDiscord, RecordedRequest
from tests.bot.message_checks import assert_message_within_limits

pytestmark = pytest.mark.asyncio(loop_scope="session")

APP = FakeDiscord.APPLICATION_ID
QUESTION = "What rent cap did Eastmere City Council approve?"
RENT_CAP_TITLE = "Eastmere Council Approves Two-Year Rent Cap"
DEFERRED, EPHEMERAL = 5, 64


class _ScaledAsyncio:
    """The asyncio module as discord.py's HTTP code sees it, with every sleep shortened."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __getattr__(self, name):
        return getattr(asyncio, name)

    async def sleep(self, delay, result=None):
        return await asyncio.sleep(delay * self.factor, result)


@pytest.fixture
def quick_retries(monkeypatch):
    scaled = _ScaledAsyncio(0.2)
    monkeypatch.setattr(discord.webhook.async_, "asyncio", scaled)
    monkeypatch.setattr(discord.http, "asyncio", scaled)


def followup_path(event: dict) -> str:
    return rf"/webhooks/{APP}/{re.escape(event['token'])}"


def carries_embeds(request: RecordedRequest) -> bool:
    return bool(request.json and request.json.get("embeds"))


def replies_to(request: RecordedRequest, message: dict) -> bool:
    return str(((request.json or {}).get("message_reference") or {}).get("message_id")) == message["id"]


def faulted(fake: FakeDiscord, request) -> bool:
    """Whether the fake answered this request with an injected fault (so nothing was delivered)."""
    return any(request is hit for fault in fake.faults for hit in fault.hits)


async def answered(fake: FakeDiscord, event: dict, timeout: float = 30) -> dict:
    """The public answer to an /ask: a follow-up carrying embeds."""
    def public_answer():
        return [r for r in fake.followups(event["token"]) if r.json and r.json.get("embeds") and not faulted(fake, r)]
    return (await fake.wait_for(public_answer, timeout))[-1].json


async def assert_still_answering(fake: FakeDiscord) -> None:
    event = fake.slash_command("ask", {"question": QUESTION})
    await fake.dispatch("INTERACTION_CREATE", event)
    body = await answered(fake, event)
    assert body["embeds"][0]["title"] == RENT_CAP_TITLE
    assert_message_within_limits(body)


async def test_a_followup_answered_500_is_retried_until_delivered(fake_discord, running_bot, quick_retries):
    event = fake_discord.slash_command("ask", {"question": QUESTION})
    fault = fake_discord.fail("POST", followup_path(event), 500, times=2)
    await fake_discord.dispatch("INTERACTION_CREATE", event)

    body = await answered(fake_discord, event)

    assert len(fault.hits) == 2
    assert body["embeds"][0]["title"] == RENT_CAP_TITLE


async def test_a_followup_that_keeps_failing_is_logged_and_the_next_question_is_answered(
    fake_discord, running_bot, quick_retries, caplog
):
    event = fake_discord.slash_command("ask", {"question": QUESTION})
    fault = fake_discord.fail("POST", followup_path(event), 500, times=None, only=carries_embeds)  # the answer never gets through
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    await fake_discord.wait_for(lambda: fault.hits)

    # While that follow-up is failing, another member is answered.
    await assert_still_answering(fake_discord)

    # Once discord.py gives up, the bot logs it and tells the member privately.
    note = await fake_discord.wait_for(
        lambda: [r for r in fake_discord.followups(event["token"]) if r.json and r.json.get("flags", 0) & EPHEMERAL], timeout=30
    )
    assert "something went wrong" in note[0].json["content"]
    assert "command /ask failed" in caplog.text and "DiscordServerError" in caplog.text
    await assert_still_answering(fake_discord)


async def test_a_rate_limited_followup_is_delivered(fake_discord, running_bot):
    event = fake_discord.slash_command("ask", {"question": QUESTION})
    fault = fake_discord.fail("POST", followup_path(event), 429, retry_after=0.5)
    await fake_discord.dispatch("INTERACTION_CREATE", event)

    body = await answered(fake_discord, event)

    assert len(fault.hits) == 1
    assert body["embeds"][0]["title"] == RENT_CAP_TITLE


async def test_a_rate_limited_acknowledgement_is_retried_and_still_in_time(fake_discord, running_bot):
    event = fake_discord.slash_command("ask", {"question": QUESTION})
    fault = fake_discord.fail("POST", rf"/interactions/{event['id']}/[^/]+/callback", 429, retry_after=0.3)
    sent_at = await fake_discord.dispatch("INTERACTION_CREATE", event)

    await answered(fake_discord, event)

    callbacks = fake_discord.callbacks(event["id"])
    assert len(fault.hits) == 1 and len(callbacks) == 2
    assert callbacks[1].json["type"] == DEFERRED and callbacks[1].at - sent_at < 3.0


async def test_a_reply_to_a_mention_answered_500_is_retried_and_delivered(fake_discord, running_bot, quick_retries):
    channel_messages = rf"/channels/{FakeDiscord.CHANNEL_ID}/messages"
    fault = fake_discord.fail("POST", channel_messages, 502, times=1)
    message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> {QUESTION}", author_id=fake_discord.snowflake())
    await fake_discord.dispatch("MESSAGE_CREATE", message)

    replies = await fake_discord.wait_for(
        lambda: [r for r in fake_discord.find("POST", channel_messages) if replies_to(r, message) and not faulted(fake_discord, r)]
    )
    assert len(fault.hits) == 1
    assert replies[0].json["embeds"][0]["title"] == RENT_CAP_TITLE


async def test_a_reply_to_a_mention_that_keeps_failing_is_logged_and_the_bot_keeps_answering(
    fake_discord, running_bot, quick_retries, caplog
):
    channel_messages = rf"/channels/{FakeDiscord.CHANNEL_ID}/messages"
    message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> {QUESTION}", author_id=fake_discord.snowflake())
    fault = fake_discord.fail("POST", channel_messages, 500, times=None, only=lambda request: replies_to(request, message))
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    await fake_discord.wait_for(lambda: "DiscordServerError" in caplog.text, timeout=30)
    assert fault.hits
    assert "on_message" in caplog.text  # discord.py's listener error log names the event
    await assert_still_answering(fake_discord)


@pytest.mark.parametrize("how", ["close 4000", "abrupt drop", "RECONNECT opcode", "close 1000"])
async def test_a_lost_gateway_connection_is_resumed_and_the_bot_keeps_answering(fake_discord, running_bot, how):
    before = len(fake_discord.sessions)
    match how:
        case "close 4000":
            await fake_discord.drop_gateway(code=4000)
        case "abrupt drop":
            await fake_discord.drop_gateway(code=None)
        case "RECONNECT opcode":
            await fake_discord.send_op(RECONNECT)
        case "close 1000":  # a clean close: discord.py backs off (up to ~2 s) and then resumes
            await fake_discord.drop_gateway(code=1000)

    resumed = await fake_discord.wait_for(lambda: [s for s in fake_discord.sessions[before:] if s.resume], timeout=20)
    assert resumed[-1].resume["session_id"].startswith("fake-session-") and resumed[-1].resume["seq"]
    assert not resumed[-1].identify  # resumed, not a new session
    assert not running_bot.is_closed()
    await assert_still_answering(fake_discord)


async def test_unknown_events_are_logged_and_ignored(fake_discord, running_bot, caplog):
    caplog.set_level(logging.DEBUG, logger="discord.gateway")
    await fake_discord.dispatch("SOME_FUTURE_EVENT_CREATE", {"id": "1", "anything": {"nested": [1, 2, 3]}})
    # An interaction of a type this discord.py does not know yet.
    await fake_discord.dispatch("INTERACTION_CREATE", fake_discord.interaction(99, {"id": "1", "name": "future"}))
    await assert_still_answering(fake_discord)
    assert "Unknown event SOME_FUTURE_EVENT_CREATE" in caplog.text
    assert not running_bot.is_closed()
