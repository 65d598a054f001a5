"""Shards: the real bot on two shards of the fake Discord, in one process and split across two `python -m bot`
processes that share one stories folder and one index folder."""

import asyncio
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

import index
from bot.records import RECORDS_FILE
from tests.bot.conftest import STORIES_DIR
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.harness import started_bot
from tests.support import ROOT

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEFERRED = 5
MODERATOR = 1300000000000000001
POLL_SECONDS = 1.0
STRIKE = ("How long will the Brackwater ferry strike last?", "Brackwater Ferry Crews Strike Over Night Shifts")
TELESCOPE = ("How big is the telescope at Tidewell Observatory?", "Tidewell Observatory Wins Funding for New Telescope")
HARBOUR_TITLE = "Kestrel Harbour Seawall Gets Emergency Repairs"
HARBOUR = f"""{HARBOUR_TITLE}
Last updated March 9, 2025

• Engineers found a 40-metre crack in the Kestrel Harbour seawall after the February storms.[1]
• The port authority will spend 6 million crowns on emergency repairs, starting with steel sheet piling.[1]

Narrative A

Acting fast on the seawall protects homes and the fishing fleet before the next storm season.

Narrative B

The crack was reported years ago; emergency spending now is the price of ignoring maintenance.
"""
HARBOUR_QUESTION = "How much will the emergency repairs to the Kestrel Harbour seawall cost?"


async def told(fake: FakeDiscord, event: dict, timeout: float = 60.0) -> dict:
    """Dispatch an interaction (down its guild's shard) and return the last thing the member was told."""
    await fake.dispatch("INTERACTION_CREATE", event)
    done = await fake.wait_for(
        lambda: fake.followups(event["token"]) or [c for c in fake.callbacks(event["id"]) if c.json["type"] != DEFERRED],
        timeout,
    )
    return done[-1].json["data"] if done[-1].path.endswith("/callback") else done[-1].json


async def answered_title(fake: FakeDiscord, question: str, guild_id: int) -> str | None:
    body = await told(fake, fake.slash_command("ask", {"question": question}, guild_id=guild_id))
    return body["embeds"][0]["title"] if body.get("embeds") else None


def identified_shards(fake: FakeDiscord) -> set[tuple[int, int]]:
    return {session.shard for session in fake.sessions if session.identify and not session.socket.closed}


async def test_two_shards_in_one_process_both_connect_and_each_answers_its_guilds(fake_discord, knowledge_base):
    guilds = {shard: fake_discord.add_guild(shard=shard, shard_count=2) for shard in (0, 1)}
    async with started_bot(knowledge_base, shard_count=2, guild_id=None) as bot:
        assert identified_shards(fake_discord) >= {(0, 2), (1, 2)}
        assert sorted(bot.shards) == [0, 1] and bot.shard_count == 2
        for shard, guild_id in guilds.items():
            assert bot.get_guild(guild_id).shard_id == shard  # each guild arrived on its own shard's connection
            assert fake_discord.session_for(guild_id).shard == (shard, 2)
        for (question, title), guild_id in zip((STRIKE, TELESCOPE), guilds.values(), strict=True):
            assert await answered_title(fake_discord, question, guild_id) == title


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """The index folder's files with their sizes and times, less what bots keep beside the index (votes, answers)."""
    return {str(p.relative_to(folder)): ((info := p.stat()).st_size, info.st_mtime_ns)
            for p in sorted(folder.rglob("*")) if not p.name.startswith(RECORDS_FILE) and not p.name.endswith(".salt")}


async def stop(process: asyncio.subprocess.Process, log: Path) -> None:
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 60)
    except TimeoutError:
        process.send_signal(signal.SIGUSR1)  # every thread's stack into its log, shown by the assertion
        await asyncio.sleep(1)
        process.kill()
        await process.wait()
    assert process.returncode == 0, log.read_text()


@pytest.mark.slow
async def test_a_story_added_through_one_shard_process_is_answered_by_the_other(fake_discord, embedder, tmp_path):
    stories, index_dir = tmp_path / "stories", tmp_path / "index"
    shutil.copytree(STORIES_DIR, stories)
    await asyncio.to_thread(index.build, [stories], index_dir, embedder=embedder)  # both start on an up-to-date index
    guilds = {shard: fake_discord.add_guild(shard=shard, shard_count=2) for shard in (0, 1)}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DISCORD_TOKEN": "fake-token", "STORYBOT_GUILD_ID": "",
           "STORYBOT_INDEX_DIR": str(index_dir), "STORYBOT_STORIES_DIR": str(stories), "STORYBOT_SHARD_COUNT": "2",
           "STORYBOT_POLL_SECONDS": str(POLL_SECONDS), "HF_HUB_OFFLINE": "1"}
    processes, logs = [], [tmp_path / f"shard-{shard}.log" for shard in (0, 1)]
    try:
        for shard, log in enumerate(logs):
            with open(log, "wb") as output:  # the child keeps its own descriptor
                processes.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tests.bot.bot_process", str(fake_discord.port), cwd=tmp_path,
                    env={**env, "STORYBOT_SHARD_IDS": str(shard)}, stdout=output, stderr=output))
        await fake_discord.wait_for(lambda: identified_shards(fake_discord) >= {(0, 2), (1, 2)}, timeout=120)
        # Each process answers its own shard's guild from the index as it was.
        assert await answered_title(fake_discord, STRIKE[0], guilds[0]) == STRIKE[1]
        assert await answered_title(fake_discord, HARBOUR_QUESTION, guilds[1]) != HARBOUR_TITLE

        event = fake_discord.subcommand("storyadmin", "add", {"file": fake_discord.attachment("harbour.txt", HARBOUR.encode())},
                                        guild_id=guilds[0], user_id=MODERATOR, permissions=MANAGE_MESSAGES)
        reply = await told(fake_discord, event)
        assert reply["content"].startswith(f"Added “{HARBOUR_TITLE}”"), reply
        added, after_the_change = time.monotonic(), folder_state(index_dir)

        while (title := await answered_title(fake_discord, HARBOUR_QUESTION, guilds[1])) != HARBOUR_TITLE:
            assert time.monotonic() - added < 30 * POLL_SECONDS, f"shard 1 still answers {title!r}"
            await asyncio.sleep(POLL_SECONDS / 4)
        picked_up = time.monotonic() - added
    finally:
        for process, log in zip(processes, logs, strict=False):
            await stop(process, log)
    reader_log = logs[1].read_text()
    assert re.search(r"answering from gen-\S+, built by another process", reader_log), reader_log
    assert folder_state(index_dir) == after_the_change  # the other process only read the new generation
    print(f"shard 1 answered the story added through shard 0 after {picked_up:.1f} s (poll every {POLL_SECONDS} s)")
