"""The bot starts and answers with its auxiliary stores broken: the records database locked, read-only,
corrupt or on a full disk, and a read-only index directory. Votes and the audit log say politely that they are unavailable,
the problem is logged once, and an answer never waits for the records.
"""

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import subprocess
import time

import pytest
import pytest_asyncio

import index
from bot.exts.storyadmin import AUDIT_UNAVAILABLE
from bot.records import RECORDS_FILE, Records
from tests.bot.conftest import STORIES_DIR
from tests.bot.fake_discord import MANAGE_MESSAGES
from tests.bot.harness import bot_settings, copy_index, started_bot
from tests.support import read_only

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "Which Lowmoor branch libraries will close?"
EPHEMERAL = 64


@pytest.fixture
def index_dir(story_index_dir, tmp_path):
    return copy_index(story_index_dir, tmp_path / "index")


@pytest_asyncio.fixture(loop_scope="session")
async def ask_and_vote(fake_discord):
    async def run(bot) -> tuple[dict, float, dict]:
        """Ask, then click 👍: the answer's body, the seconds it took, and the vote's reply."""
        event = fake_discord.slash_command("ask", {"question": QUESTION})
        started = time.perf_counter()
        await fake_discord.dispatch("INTERACTION_CREATE", event)
        [followup] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
        took = time.perf_counter() - started
        body = followup.json
        up = body["components"][0]["components"][0]["custom_id"]
        click = fake_discord.button_click(up, fake_discord.sent_message(followup), user_id=fake_discord.snowflake())
        await fake_discord.dispatch("INTERACTION_CREATE", click)
        [vote] = await fake_discord.wait_for(lambda: fake_discord.callbacks(click["id"]))
        return body, took, vote.json["data"]
    return run


async def feedback_reply(fake_discord) -> dict:
    event = fake_discord.subcommand("storyadmin", "feedback", permissions=MANAGE_MESSAGES)
    await fake_discord.dispatch("INTERACTION_CREATE", event)
    return (await fake_discord.wait_for(lambda: fake_discord.callbacks(event["id"])))[0].json["data"]


def break_records(index_dir, how: str):
    path = index_dir / RECORDS_FILE
    if how == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    elif how == "a directory":
        path.mkdir()


@pytest.mark.parametrize("how", ["corrupt", "a directory"])
async def test_the_bot_starts_and_answers_with_a_broken_records_database(fake_discord, embedder, index_dir, ask_and_vote, caplog, how):
    break_records(index_dir, how)
    caplog.set_level(logging.INFO)
    async with started_bot(index.load(index_dir, embedder=embedder), poll_seconds="0", stories_dir=str(STORIES_DIR)) as bot:
        for _ in range(2):
            body, _, vote = await ask_and_vote(bot)
            assert body["embeds"][0]["title"] == "Lowmoor to Close Four Branch Libraries"
            assert vote["flags"] & EPHEMERAL and vote["content"] == "Sorry, votes are unavailable right now; the problem has been logged."
        reply = await feedback_reply(fake_discord)
        assert reply["flags"] & EPHEMERAL and reply["content"].startswith("Feedback is unavailable right now")
        event = fake_discord.subcommand("storyadmin", "reindex", permissions=MANAGE_MESSAGES)
        await fake_discord.dispatch("INTERACTION_CREATE", event)
        [reindexed] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
        assert reindexed.json["content"].splitlines()[1] == AUDIT_UNAVAILABLE  # the change stands; the moderator is told
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and "storybot.sqlite3" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]  # logged once, not at every question
    assert "cannot be used" in logged[0].getMessage()


async def test_a_locked_records_database_never_delays_an_answer(fake_discord, embedder, index_dir, ask_and_vote):
    Records.beside(index_dir).audit("reindex", actor="test")  # create it
    holder = sqlite3.connect(index_dir / RECORDS_FILE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (and, in WAL mode, blocks no reader)
    try:
        async with started_bot(index.load(index_dir, embedder=embedder), poll_seconds="0") as bot:
            for _ in range(3):
                body, took, vote = await ask_and_vote(bot)
                assert body["embeds"][0]["title"] == "Lowmoor to Close Four Branch Libraries"
                assert took < 3, f"an answer waited {took:.1f}s for a locked database"
                assert "unavailable" in vote["content"]
    finally:
        holder.close()


async def test_a_read_only_records_database_and_index_directory_still_start_and_answer(fake_discord, embedder, index_dir, ask_and_vote):
    Records.beside(index_dir).audit("reindex", actor="test")
    from bot.knowledge import open_library

    settings = bot_settings(stories_dir=str(STORIES_DIR), index_dir=str(index_dir), poll_seconds="0")
    files = sorted(p for p in index_dir.rglob("*") if p.is_file())
    before = {p: p.stat().st_mtime_ns for p in files}
    with read_only(index_dir):
        library = await asyncio.to_thread(open_library, settings)  # an up-to-date index: nothing written
        async with started_bot(library.knowledge_base, poll_seconds="0") as bot:
            body, _, vote = await ask_and_vote(bot)
            assert body["embeds"][0]["title"] == "Lowmoor to Close Four Branch Libraries"
            assert "unavailable" in vote["content"]
    assert {p: p.stat().st_mtime_ns for p in files} == before


@pytest.fixture
def full_disk(tmp_path):
    """A real file system of its own (a 64 MB tmpfs, mounted as root can), to be filled by the test."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root), so a disk cannot be filled for real")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk):
    """Write until the file system refuses (ENOSPC): from here on SQLite gets SQLITE_FULL."""
    with open(disk / "filler", "wb", buffering=0) as filler:  # unbuffered: closing it has nothing left to write
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
    assert shutil.disk_usage(disk).free < 65536


@pytest.mark.parametrize("held_open", [False, True], ids=["closed", "held open by a reader"])
async def test_a_full_disk_under_the_records_database_still_starts_answers_and_logs_once(
        fake_discord, embedder, story_index_dir, full_disk, ask_and_vote, caplog, held_open):
    """Closed, SQLite cannot even make its shared-memory file ("disk I/O error"); held open by another reader
    (an export, say), its write-ahead log cannot grow ("database or disk is full"). Both are a full disk."""
    index_dir = copy_index(story_index_dir, full_disk / "index")
    Records.beside(index_dir).audit("reindex", actor="test")  # the bot ran before the disk filled up
    with contextlib.closing(sqlite3.connect(index_dir / RECORDS_FILE)) as reader:
        if held_open:
            reader.execute("SELECT COUNT(*) FROM audit").fetchone()
        else:
            reader.close()
        fill(full_disk)
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full" if held_open else "disk I/O error"):
            with contextlib.closing(sqlite3.connect(index_dir / RECORDS_FILE)) as db, db:  # the real error, not a simulation
                db.execute("INSERT INTO audit (at, actor, action) VALUES ('now', 'test', 'probe')")
        from bot.knowledge import open_library

        caplog.set_level(logging.INFO)
        settings = bot_settings(stories_dir=STORIES_DIR, index_dir=index_dir, poll_seconds=0)
        library = await asyncio.to_thread(open_library, settings)  # an up-to-date index: nothing to write
        async with started_bot(library.knowledge_base, poll_seconds=0, stories_dir=STORIES_DIR) as bot:
            for _ in range(3):
                body, took, vote = await ask_and_vote(bot)
                assert body["embeds"][0]["title"] == "Lowmoor to Close Four Branch Libraries"
                assert took < 3
                assert vote["flags"] & EPHEMERAL and vote["content"] == "Sorry, votes are unavailable right now; the problem has been logged."
            event = fake_discord.subcommand("storyadmin", "reindex", permissions=MANAGE_MESSAGES)
            await fake_discord.dispatch("INTERACTION_CREATE", event)
            [reindexed] = await fake_discord.wait_for(lambda: fake_discord.followups(event["token"]))
            assert reindexed.json["content"].splitlines()[1] == AUDIT_UNAVAILABLE
            reply = await feedback_reply(fake_discord)  # reading needs no space once SQLite's files exist
            assert reply["flags"] & EPHEMERAL
            if held_open:
                assert reply["embeds"][0]["title"] == "Feedback — 0 vote(s)"
            else:
                assert reply["content"].startswith("Feedback is unavailable right now")
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and "storybot.sqlite3" in r.getMessage()]
    assert len(logged) == 1 and "cannot be used" in logged[0], logged  # once, and never "works again" in between
