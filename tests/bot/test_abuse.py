"""Abuse: huge questions, questions built to ping or to break the embed, a member hammering /ask,
members calling moderator commands anyway, and the token staying out of every log line and message.

This module runs its own bot with a distinctive token, and records every log line at DEBUG from before
that bot logs in until the module ends.
"""

import asyncio
import json
import logging
import re

import discord
import pytest
import pytest_asyncio

from bot.settings import BotSettings
from tests.bot.fake_discord import FakeDiscord
from tests.bot.harness import COOLDOWN_RATE, started_bot
from tests.bot.message_checks import assert_message_within_limits, assert_nobody_is_pinged

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAy.GhIjKl.abuse-test-secret-token-0123456789"
MESSAGE, DEFERRED, EPHEMERAL = 4, 5, 64
ROLE = 1100000000000000099
PINGS = f"@everyone @here <@&{ROLE}> <@{FakeDiscord.OWNER_ID}> <@!{FakeDiscord.OWNER_ID}> @\u200beveryone"
MARKDOWN = "**bold** __u__ ||spoiler|| ```code``` `x` > quote # heading [free nitro](https://evil.example) <https://evil.example>"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202e\u2066"


def story_file_bytes() -> bytes:
    return (
        b"Abusive Story Added By A Member\n- A member tried to add this story without permission. [1]\n\n"
        b"Narrative A\nIt should never be indexed.\n\nNarrative B\nNor announced.\n"
    )


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))  # with any traceback


@pytest.fixture(scope="module")
def every_log_line():
    handler, root = Collect(), logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def abuse_bot(every_log_line, fake_discord, knowledge_base):
    async with started_bot(knowledge_base, DISCORD_TOKEN=TOKEN) as bot:
        yield bot


@pytest.fixture(scope="module", autouse=True)
def nothing_shows_the_token_or_pings(fake_discord, abuse_bot, every_log_line):
    """After the module's tests, in whatever order they ran: every log line at every level since before login
    (tracebacks included) and every request the bot made were free of the token, and no message could ping."""
    yield
    assert any("logging in using static token" in line for line in every_log_line)  # the capture saw the login
    assert not [line for line in every_log_line if TOKEN in line or TOKEN.split(".")[-1] in line]
    for request in fake_discord.requests:
        assert TOKEN not in json.dumps(request.json) and TOKEN not in request.path and TOKEN not in json.dumps(request.query)
    assert_nobody_is_pinged(fake_discord.requests)


@pytest.fixture
def inference_calls(abuse_bot, monkeypatch):
    """Questions that reached the knowledge base."""
    calls, real = [], abuse_bot.knowledge_base.ask

    def ask(question, **kwargs):
        calls.append(question)
        return real(question, **kwargs)

    monkeypatch.setattr(abuse_bot.knowledge_base, "ask", ask)
    return calls


async def first_callback(fake: FakeDiscord, event: dict):
    await fake.dispatch("INTERACTION_CREATE", event)
    return (await fake.wait_for(lambda: fake.callbacks(event["id"])))[0]


async def test_a_question_of_100000_characters_is_refused_privately_and_never_reaches_the_model(
    fake_discord, abuse_bot, inference_calls
):
    """Discord enforces the option's 500 characters; a modified client can skip that, so the bot checks too."""
    event = fake_discord.slash_command("ask", {"question": "why?" * 25_000})
    callback = await first_callback(fake_discord, event)
    body = callback.json["data"]
    assert callback.json["type"] == MESSAGE and body["flags"] & EPHEMERAL
    assert "100,000 characters" in body["content"] and len(body["content"]) < 300
    await asyncio.sleep(0.3)
    assert len(fake_discord.interaction_requests(int(event["id"]), event["token"])) == 1
    assert inference_calls == []

    author = fake_discord.snowflake()
    message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> " + "why " * 25_000, author_id=author)
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    refusal = await fake_discord.wait_for(
        lambda: [r for r in fake_discord.find("POST", r"/channels/\d+/messages") if "characters long" in (r.json.get("content") or "")]
    )
    assert refusal[0].path != f"/channels/{FakeDiscord.CHANNEL_ID}/messages"  # a direct message, not the channel
    assert inference_calls == []


@pytest.mark.parametrize(
    "question",
    [
        f"{PINGS} what rent cap did Eastmere approve? {PINGS}",
        f"{MARKDOWN} sourdough?",
        f"{INVISIBLE}how{INVISIBLE} long will the{INVISIBLE} Brackwater ferry strike last?{INVISIBLE * 20}",
        ("@everyone " * 60)[:495] + " rent",  # as long as allowed, and every word a ping
        "`" * 490 + " rent cap",  # a question needs a word: with none it is refused (below)
        "\\" * 490 + " rent cap*",
    ],
    ids=["pings", "markdown", "zero-width", "500 characters of pings", "backticks", "backslashes"],
)
async def test_hostile_questions_are_answered_without_pings_or_broken_embeds(fake_discord, abuse_bot, question):
    event = fake_discord.slash_command("ask", {"question": question})
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    followups = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    body = followups[0].json

    assert body["allowed_mentions"] == {"parse": []}
    assert not body.get("flags", 0) & EPHEMERAL and body["embeds"]
    assert_message_within_limits(body)
    text = json.dumps(body["embeds"], ensure_ascii=False)
    assert not any(c in text for c in INVISIBLE), "invisible characters were echoed"
    shown = "\n".join(str(embed.get(key)) for embed in body["embeds"] for key in ("title", "description", "fields"))
    assert not re.search(r"(?<!\\)\[free nitro\]\(", shown)  # a masked link from the question is escaped, never a link
    assert not re.search(r"(?<!\\)`", shown)  # nor a backtick that could open a code block over the rest
    for embed in body["embeds"]:
        assert embed.get("title")
        assert not (embed.get("description") or "").endswith("\\")  # a cut never leaves a dangling escape


@pytest.mark.parametrize(("question", "reply"), [
    (INVISIBLE * 10, "Please include a question"),
    ("`" * 500, "asked in words"),
    ("👍 🔥 ?!", "asked in words"),
])
async def test_a_question_without_words_is_refused_privately(fake_discord, abuse_bot, inference_calls, question, reply):
    event = fake_discord.slash_command("ask", {"question": question})
    callback = await first_callback(fake_discord, event)
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert reply in callback.json["data"]["content"]
    assert inference_calls == []


async def test_a_member_hammering_ask_is_slowed_by_the_cooldown(fake_discord, abuse_bot, inference_calls):
    member = fake_discord.snowflake()
    question = "How big is the telescope at Tidewell Observatory?"
    events = [fake_discord.slash_command("ask", {"question": question}, user_id=member) for _ in range(20)]
    await asyncio.gather(*(fake_discord.dispatch("INTERACTION_CREATE", event) for event in events))
    await fake_discord.wait_for(lambda: all(fake_discord.callbacks(e["id"]) for e in events))
    await fake_discord.wait_for(lambda: sum(bool(fake_discord.followups(e["token"])) for e in events) >= COOLDOWN_RATE)
    await asyncio.sleep(0.3)

    kinds = [fake_discord.callbacks(e["id"])[0].json for e in events]
    answered = [k for k in kinds if k["type"] == DEFERRED]
    refused = [k for k in kinds if k["type"] == MESSAGE]
    assert len(answered) == COOLDOWN_RATE and len(refused) == 20 - COOLDOWN_RATE
    assert all(k["data"]["flags"] & EPHEMERAL and re.search(r"wait \d+ seconds", k["data"]["content"]) for k in refused)
    assert inference_calls.count(question) == COOLDOWN_RATE
    # A mention is the same budget, so it does not get around it.
    message = fake_discord.message_create(f"<@{FakeDiscord.BOT_USER_ID}> {question}", author_id=member)
    await fake_discord.dispatch("MESSAGE_CREATE", message)
    await fake_discord.wait_for(lambda: [r for r in fake_discord.find("POST", r"/channels/\d+/messages")
                                         if "wait" in (r.json.get("content") or "")])
    assert inference_calls.count(question) == COOLDOWN_RATE


def moderator_commands(fake: FakeDiscord) -> list[tuple[str, str | None, list[dict]]]:
    """(command, subcommand or None, options) for every command Discord would hide from members."""
    found = []
    for command in fake.synced_commands:
        if command.get("default_member_permissions") is None:
            continue
        options = command.get("options") or []
        subcommands = [o for o in options if o["type"] == 1]
        assert not [o for o in options if o["type"] == 2], "subcommand groups: extend this test"
        if subcommands:
            found += [(command["name"], sub["name"], sub.get("options") or []) for sub in subcommands]
        else:
            found.append((command["name"], None, options))
    return found


async def test_moderator_commands_refuse_members_even_when_discords_permission_hint_is_bypassed(fake_discord, abuse_bot):
    """Discord hides these commands from members (default_member_permissions), but a modified client or a
    server admin's override can still send the interaction; each command must refuse on its own."""
    commands = moderator_commands(fake_discord)
    assert ("story", None) in [(name, sub) for name, sub, _ in commands]
    titles_before = abuse_bot.knowledge_base.titles()
    channel_posts_before = len(fake_discord.find("POST", rf"/channels/{FakeDiscord.CHANNEL_ID}/messages"))
    for name, sub, options in commands:
        values: dict = {}
        for option in options:
            if option["type"] == 11:  # an attachment: a valid story, which a bypass would add
                values[option["name"]] = fake_discord.attachment("abuse.txt", story_file_bytes())
            elif option["type"] == 3:
                values[option["name"]] = "Eastmere Council Approves Two-Year Rent Cap"
            else:
                assert not option.get("required"), f"/{name} {sub}: option type {option['type']}: extend this test"
        member = discord.Permissions(send_messages=True, read_message_history=True)  # no Manage Messages
        event = (fake_discord.subcommand(name, sub, values, permissions=member) if sub
                 else fake_discord.slash_command(name, values, permissions=member))
        callback = await first_callback(fake_discord, event)
        await asyncio.sleep(0.3)
        sent = fake_discord.interaction_requests(int(event["id"]), event["token"])
        assert callback.json["type"] == MESSAGE and callback.json["data"]["flags"] & EPHEMERAL, f"/{name} {sub or ''}"
        assert "moderators" in callback.json["data"]["content"].lower() or "can't" in callback.json["data"]["content"]
        assert sent == [callback], f"/{name} {sub or ''} did more than refuse: {[r.path for r in sent]}"
    assert abuse_bot.knowledge_base.titles() == titles_before
    assert len(fake_discord.find("POST", rf"/channels/{FakeDiscord.CHANNEL_ID}/messages")) == channel_posts_before


async def test_an_internal_error_is_logged_without_the_token(fake_discord, abuse_bot, monkeypatch, every_log_line):
    async def broken(question):
        raise RuntimeError("the index fell over")

    monkeypatch.setattr(abuse_bot, "answer", broken)
    event = fake_discord.slash_command("ask", {"question": "What rent cap did Eastmere City Council approve?"})
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    followups = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
    assert "something went wrong" in followups[0].json["content"]
    traceback = await fake_discord.wait_for(lambda: [line for line in every_log_line if "the index fell over" in line])
    assert TOKEN not in traceback[0]  # the error was logged with its traceback, and without the token


async def test_the_settings_never_show_the_token():
    settings = BotSettings(_env_file=None, DISCORD_TOKEN=TOKEN)
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())):
        assert TOKEN not in shown
    assert settings.discord_token.get_secret_value() == TOKEN
