"""👍 / 👎 under answers, end to end: stored in real SQLite, changed, summarised, and working after a restart."""

import asyncio
import os
import re
import signal
import sqlite3
import sys

import discord
import pytest
import pytest_asyncio

import index
from bot.records import RECORDS_FILE, Records
from tests.bot.conftest import STORIES_DIR
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.harness import started_bot
from tests.support import ROOT

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEFERRED, MESSAGE, EPHEMERAL = 5, 4, 64
VOTE_ID = re.compile(r"storybot:vote:([0-9a-f]{32}):(up|down)")
RENT_CAP = "Eastmere Council Approves Two-Year Rent Cap"
MEMBER, OTHER_MEMBER = 1400000000000000001, 1400000000000000002


@pytest.fixture
def index_dir(embedder, tmp_path):
    """Its own index, so the records file beside it holds only this test's answers and votes."""
    out = tmp_path / "index"
    index.build([STORIES_DIR], out, embedder=embedder)
    return out


@pytest_asyncio.fixture(loop_scope="session")
async def feedback_bot(fake_discord, embedder, index_dir):
    async with started_bot(index.load(index_dir, embedder=embedder), poll_seconds="0") as bot:
        yield bot


async def ask(fake: FakeDiscord, question: str):
    """The follow-up request carrying the answer."""
    event = fake.slash_command("ask", {"question": question})
    await fake.dispatch("INTERACTION_CREATE", event)
    return (await fake.wait_for(lambda: fake.followups(event["token"])))[0]


def vote_buttons(body: dict) -> dict[str, str]:
    """{"up": custom_id, "down": custom_id} from a message's components (a refusal also has a menu, in a row of its own)."""
    votes = [c["custom_id"] for row in body["components"] for c in row["components"] if VOTE_ID.fullmatch(c.get("custom_id", ""))]
    assert len(votes) == 2, body["components"]
    return {VOTE_ID.fullmatch(custom_id)[2]: custom_id for custom_id in votes}


async def click(fake: FakeDiscord, custom_id: str, message: dict, member: int) -> dict:
    """Click a button as `member`; returns the bot's callback body."""
    event = fake.button_click(custom_id, message, user_id=member)
    await fake.dispatch("INTERACTION_CREATE", event)
    return (await fake.wait_for(lambda: fake.callbacks(event["id"])))[0].json


async def mention(fake: FakeDiscord, question: str):
    """The reply to a question asked by mentioning the bot."""
    message = fake.message_create(f"<@{FakeDiscord.BOT_USER_ID}> {question}", author_id=fake.snowflake())
    await fake.dispatch("MESSAGE_CREATE", message)
    [reply] = await fake.wait_for(lambda: [
        r for r in fake.find("POST", rf"/channels/{FakeDiscord.CHANNEL_ID}/messages")
        if str((r.json.get("message_reference") or {}).get("message_id")) == message["id"]
    ])
    return reply


async def vote(fake: FakeDiscord, sent, **votes: int) -> None:
    """Click 👍 ("up") or 👎 ("down") under a sent answer, e.g. `up=MEMBER, down=OTHER_MEMBER`."""
    buttons, message = vote_buttons(sent.json), fake.sent_message(sent)
    for which, member in votes.items():
        assert (await click(fake, buttons[which], message, member))["data"]["content"].startswith("Thanks")


def stored_votes(index_dir) -> list[dict]:
    return Records.beside(index_dir).votes()


async def test_every_answer_carries_vote_buttons_and_a_vote_is_stored_then_changed(fake_discord, feedback_bot, index_dir):
    sent = await ask(fake_discord, "What rent cap did Eastmere City Council approve?")
    body = sent.json
    buttons = vote_buttons(body)
    assert [b.get("emoji", {}).get("name") for b in body["components"][0]["components"]] == ["👍", "👎"]
    answer_id = VOTE_ID.fullmatch(buttons["up"])[1]
    assert VOTE_ID.fullmatch(buttons["down"])[1] == answer_id
    message = fake_discord.sent_message(sent)

    reply = await click(fake_discord, buttons["up"], message, MEMBER)
    assert reply["type"] == MESSAGE and reply["data"]["flags"] & EPHEMERAL
    assert reply["data"]["content"] == "Thanks — recorded 👍"
    [vote] = stored_votes(index_dir)
    shown = [line for line in body["embeds"][0]["description"].splitlines() if line.startswith("• ")]
    assert (vote["answer_id"], vote["question"], vote["titles"], vote["vote"]) == (
        answer_id, "What rent cap did Eastmere City Council approve?", RENT_CAP, "up")
    assert len(vote["bullets"].split(",")) == len(shown)  # the bullets shown, by their index in the story
    assert vote["member"] == Records.beside(index_dir).member_hash(MEMBER)

    reply = await click(fake_discord, buttons["down"], message, MEMBER)  # changing one's mind replaces the vote
    assert reply["data"]["content"] == "Thanks — recorded 👎"
    assert [(v["member"], v["vote"]) for v in stored_votes(index_dir)] == [(Records.beside(index_dir).member_hash(MEMBER), "down")]

    await click(fake_discord, buttons["up"], message, OTHER_MEMBER)
    assert sorted(v["vote"] for v in stored_votes(index_dir)) == ["down", "up"]


async def test_the_member_id_is_never_stored(fake_discord, feedback_bot, index_dir):
    await vote(fake_discord, await ask(fake_discord, "What rent cap did Eastmere City Council approve?"), up=MEMBER, down=OTHER_MEMBER)
    with sqlite3.connect(index_dir / RECORDS_FILE) as db:
        dump = "\n".join(db.iterdump())
    files = b"".join(path.read_bytes() for path in index_dir.glob(RECORDS_FILE + "*"))
    assert stored_votes(index_dir)
    for member in (MEMBER, OTHER_MEMBER):
        assert str(member) not in dump and str(member).encode() not in files


async def test_mention_answers_and_refusals_carry_the_buttons_too(fake_discord, feedback_bot, index_dir):
    reply = await mention(fake_discord, "what is the best sourdough recipe?")
    assert reply.json["embeds"][0]["title"] == "No story covers that yet"
    buttons = vote_buttons(reply.json)
    voter = fake_discord.snowflake()
    assert (await click(fake_discord, buttons["down"], fake_discord.sent_message(reply), voter))["data"]["content"] == "Thanks — recorded 👎"
    [vote] = [v for v in stored_votes(index_dir) if v["member"] == Records.beside(index_dir).member_hash(voter)]
    assert (vote["question"], vote["answered"], vote["titles"], vote["vote"]) == ("what is the best sourdough recipe?", 0, "", "down")


async def test_moderators_see_a_private_summary_and_members_are_refused(fake_discord, feedback_bot):
    await vote(fake_discord, await ask(fake_discord, "What rent cap did Eastmere City Council approve?"), up=MEMBER, down=OTHER_MEMBER)
    await vote(fake_discord, await mention(fake_discord, "what is the best sourdough recipe?"), down=MEMBER)
    event = fake_discord.subcommand("storyadmin", "feedback", permissions=MANAGE_MESSAGES)
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    [callback] = await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"]))
    data = callback.json["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    assert embed["title"] == "Feedback — 3 vote(s)"
    assert f"👍 1 · 👎 1 — {RENT_CAP}" in embed["description"]
    worst = embed["description"].split("**Worst-rated questions**")[1]
    assert "👍 0 · 👎 1 — “what is the best sourdough recipe?”" in worst
    assert "rent cap" not in worst  # one up, one down: not worse than liked

    event = fake_discord.subcommand("storyadmin", "feedback", permissions=discord.Permissions(send_messages=True))
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    [callback] = await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"]))
    assert callback.json["data"]["flags"] & EPHEMERAL and "Only moderators" in callback.json["data"]["content"]
    assert "embeds" not in callback.json["data"] or not callback.json["data"]["embeds"]


async def test_a_click_on_an_unknown_answer_is_answered_privately(fake_discord, feedback_bot, index_dir):
    sent = await ask(fake_discord, "Which Lowmoor branch libraries will close?")
    message = fake_discord.sent_message(sent)
    forged = "storybot:vote:" + "0" * 32 + ":up"
    message["components"][0]["components"][0]["custom_id"] = forged
    before = stored_votes(index_dir)
    reply = await click(fake_discord, forged, message, MEMBER)
    assert reply["data"]["flags"] & EPHEMERAL and "no longer have that answer" in reply["data"]["content"]
    assert stored_votes(index_dir) == before


async def test_votes_survive_a_restart_of_the_bot(fake_discord, feedback_bot, embedder, index_dir):
    """A second bot process-state (new client, new index load, same files) takes a click on an old message."""
    sent = await ask(fake_discord, "How big is the telescope at Tidewell Observatory?")
    buttons, message = vote_buttons(sent.json), fake_discord.sent_message(sent)
    await click(fake_discord, buttons["up"], message, MEMBER)
    await feedback_bot.close()  # the module's bot is gone: nothing of it is left in memory to receive a click

    async with started_bot(index.load(index_dir, embedder=embedder), poll_seconds="0") as restarted:
        assert restarted is not feedback_bot
        reply = await click(fake_discord, buttons["down"], message, MEMBER)
        assert reply["data"]["content"] == "Thanks — recorded 👎"
        reply = await click(fake_discord, buttons["up"], message, OTHER_MEMBER)
        assert reply["data"]["content"] == "Thanks — recorded 👍"
    telescope = [(v["member"], v["vote"]) for v in stored_votes(index_dir) if "telescope" in v["question"]]
    hashes = Records.beside(index_dir)
    assert sorted(telescope) == sorted([(hashes.member_hash(MEMBER), "down"), (hashes.member_hash(OTHER_MEMBER), "up")])


async def test_votes_survive_a_restart_of_the_bot_process(fake_discord, embedder, index_dir, tmp_path):
    """`python -m bot` in a real process of its own takes a click on a message an earlier bot sent."""
    async with started_bot(index.load(index_dir, embedder=embedder), poll_seconds="0"):
        sent = await ask(fake_discord, "How big is the telescope at Tidewell Observatory?")
    up, message = vote_buttons(sent.json)["up"], fake_discord.sent_message(sent)
    answer_id = VOTE_ID.fullmatch(up)[1]
    sessions = len(fake_discord.sessions)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": "fake-token", "STORYBOT_GUILD_ID": str(FakeDiscord.GUILD_ID),
           "STORYBOT_INDEX_DIR": str(index_dir), "STORYBOT_STORIES_DIR": str(STORIES_DIR), "STORYBOT_POLL_SECONDS": "0",
           "HF_HUB_OFFLINE": "1"}
    log = open(tmp_path / "bot.log", "wb")  # noqa: SIM115 - closed below, after the process
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bot.bot_process", str(fake_discord.port), cwd=tmp_path, env=env, stdout=log, stderr=log,
    )
    try:
        await fake_discord.wait_for(lambda: len(fake_discord.sessions) > sessions and fake_discord.session.identify, timeout=90)
        voter = fake_discord.snowflake()
        reply = await click(fake_discord, up, message, voter)
        assert reply["data"]["content"] == "Thanks — recorded 👍"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.send_signal(signal.SIGUSR1)  # every thread's stack into bot.log, shown by the assertion below
            await asyncio.sleep(1)
            process.kill()
            await process.wait()
        log.close()
    new = [v for v in stored_votes(index_dir) if v["member"] == Records.beside(index_dir).member_hash(voter)]
    assert [(v["answer_id"], v["vote"]) for v in new] == [(answer_id, "up")]
    assert process.returncode == 0, (tmp_path / "bot.log").read_text()
