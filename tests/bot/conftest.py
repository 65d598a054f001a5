"""Shared fixtures for the bot tests: a real index of the fictional stories, and the real bot on a fake Discord."""

from pathlib import Path

import discord
import pytest
import pytest_asyncio

import index
from tests.bot.fake_discord import FakeDiscord
from tests.bot.harness import started_bot

STORIES_DIR = Path(__file__).parent / "stories"


@pytest.fixture(scope="session")
def story_index_dir(embedder, tmp_path_factory) -> Path:
    """A real index (real model, real FAISS) of tests/bot/stories, built once per session."""
    out = tmp_path_factory.mktemp("bot-index")
    index.build([STORIES_DIR], out, embedder=embedder)
    return out


@pytest.fixture(scope="session")
def knowledge_base(embedder, story_index_dir) -> index.KnowledgeBase:
    return index.load(story_index_dir, embedder=embedder)


@pytest.fixture(scope="session")
def library(knowledge_base, story_index_dir) -> index.Library:
    """The same index behind the library's front door (read only: no test changes it)."""
    return index.Library(STORIES_DIR, story_index_dir, knowledge_base=knowledge_base)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fake_discord():
    server = FakeDiscord(heartbeat_interval=0.2)
    await server.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    server.point_discord_py_here()
    yield server
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running_bot(fake_discord, knowledge_base):
    async with started_bot(knowledge_base) as bot:
        yield bot
