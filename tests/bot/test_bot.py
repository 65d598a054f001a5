"""The client itself: how it logs in, what it asks the gateway for, and that it survives reconnects."""

import logging

import discord
import pytest

import index
from bot.bot import SYNCED_COMMANDS_FILE
from tests.bot.fake_discord import RECONNECT
from tests.bot.harness import copy_index, started_bot

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_bot_logs_in_without_ever_logging_its_token(fake_discord, knowledge_base, caplog):
    caplog.set_level(logging.DEBUG)
    async with started_bot(knowledge_base) as bot:
        identify = fake_discord.session.identify
        assert identify["token"] == "fake-token"
        # Servers and their messages only; in particular no privileged intent (members, presences, content).
        assert identify["intents"] == discord.Intents(guilds=True, guild_messages=True).value
        assert bot.allowed_mentions.to_dict() == {"parse": []}
        assert [r.path for r in fake_discord.requests[:3]] == [
            "/users/@me", "/oauth2/applications/@me",
            f"/applications/{fake_discord.APPLICATION_ID}/guilds/{fake_discord.GUILD_ID}/commands",
        ]
    assert caplog.records and "fake-token" not in caplog.text


async def test_commands_are_synced_only_when_the_command_tree_changed(fake_discord, embedder, story_index_dir, tmp_path):
    knowledge_base = index.load(copy_index(story_index_dir, tmp_path / "index"), embedder=embedder)

    def syncs() -> int:
        return sum(bool(r.match("PUT", rf"/applications/{fake_discord.APPLICATION_ID}/guilds/\d+/commands")) for r in fake_discord.requests)

    before = syncs()
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 1  # never synced from this folder
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 1  # the same tree: not synced again
    (tmp_path / "index" / SYNCED_COMMANDS_FILE).write_text("0" * 64)  # as after an older version of the bot
    async with started_bot(knowledge_base, synced_before=True):
        assert syncs() == before + 2
    async with started_bot(knowledge_base, synced_before=True, guild_id=str(fake_discord.GUILD_ID + 1)):
        assert syncs() == before + 3  # another server has never seen them


async def test_after_discord_asks_it_to_reconnect_the_bot_resumes_and_keeps_answering(fake_discord, knowledge_base):
    async with started_bot(knowledge_base):
        first = fake_discord.session
        await fake_discord.send_op(RECONNECT)
        resumed = await fake_discord.wait_for(lambda: fake_discord.session is not first and fake_discord.session.resume)
        assert resumed["session_id"] == f"fake-session-{fake_discord.sessions.index(first) + 1}"
        assert resumed["seq"] is not None

        event = fake_discord.slash_command("ask", {"question": "Why are the Brackwater ferry crews on strike?"})
        await fake_discord.dispatch("INTERACTION_CREATE", event)
        answer = (await fake_discord.wait_for(lambda: fake_discord.followups(event["token"])))[0].json
        assert answer["embeds"][0]["title"] == "Brackwater Ferry Crews Strike Over Night Shifts"
        assert len(fake_discord.session.heartbeats) >= 1  # the new connection is kept alive too
