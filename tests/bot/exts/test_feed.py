"""The story feed and `/story channel: changes_only:` end to end: the real bot, real index, real records, and the
fake Discord. Every test has its own stories, index, records and bot."""

import asyncio
import logging

import discord
import pytest
import pytest_asyncio

import index
from bot.records import Records, StoryVersions
from bot.rendering.changes import NEW_STORY_INTRO, UPDATED_STORY_INTRO
from tests.bot.exts.test_storyadmin import HARBOUR, MODERATOR, run
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.harness import started_bot
from tests.bot.message_checks import assert_message_within_limits, assert_nobody_is_pinged, message_bodies

pytestmark = pytest.mark.asyncio(loop_scope="session")

FEED = FakeDiscord.OTHER_CHANNEL_ID
FEED_POSTS = rf"/channels/{FEED}/messages"
HARBOUR_TITLE = "Kestrel Harbour Seawall Gets Emergency Repairs"
EPHEMERAL = 64
POSTER = MANAGE_MESSAGES | discord.Permissions(view_channel=True, send_messages=True, embed_links=True)  # in the channel picked

# The harbour story, updated: a bullet reworded, one added, a narrative changed, a source added, a new date.
HARBOUR_UPDATED = (
    HARBOUR.replace("March 9, 2025", "April 2, 2025")
    .replace("6 million crowns", "8.5 million crowns")
    .replace("• Fishing boats must moor", "• Night crews began work on 30 March under floodlights.[3]\n• Fishing boats must moor")
    .replace("before the next storm season.", "before the next storm season, and insurers agree.")
    .replace("[2] Coast Weekly — Fishing fleet moved to Gull Point",
             "[2] Coast Weekly — Fishing fleet moved to Gull Point\n[3] Harbour Post — Night works begin (https://post.example/night)")
)


def feed_bot(embedder, stories_dir, index_dir, **settings):
    """A bot on this test's index, announcing to the feed channel unless told otherwise (the watcher off)."""
    settings = {"stories_dir": stories_dir, "poll_seconds": 0, "feed_channel_id": FEED, **settings}
    return started_bot(index.load(index_dir, embedder=embedder), **{k: v for k, v in settings.items() if v is not None})


@pytest_asyncio.fixture(loop_scope="session")
async def bot(fake_discord, embedder, stories_dir, index_dir):
    async with feed_bot(embedder, stories_dir, index_dir) as bot:
        await settled(bot)  # the baseline: the stories as they are, posted never
        yield bot
    if message_bodies(fake_discord.requests):
        assert_nobody_is_pinged(fake_discord.requests)


async def settled(bot) -> None:
    """Once the feed has compared the stories with the versions it knows and posted all it queued."""
    feed = bot.get_cog("Feed")
    await feed.find_changes()
    await asyncio.wait_for(feed.queue.join(), 30)


async def add(fake: FakeDiscord, filename: str, text: str) -> dict:
    event = fake.subcommand("storyadmin", "add", {"file": fake.attachment(filename, text.encode())},
                            permissions=MANAGE_MESSAGES, user_id=MODERATOR)
    return await run(fake, event)


def feed_posts(fake: FakeDiscord, since: int = 0) -> list[dict]:
    return [request.json for request in fake.find("POST", FEED_POSTS) if request.at >= since]


async def test_an_added_story_is_posted_to_the_feed_channel_as_its_card(fake_discord, bot):
    start = fake_discord.loop_time()
    assert feed_posts(fake_discord, start) == []  # the library as it was at start is the baseline: nothing posted
    assert (await add(fake_discord, "harbour.txt", HARBOUR))["content"].startswith("Added")
    [post] = await fake_discord.wait_for(lambda: feed_posts(fake_discord, start))
    assert post["content"] == NEW_STORY_INTRO
    [card] = post["embeds"]
    assert card["title"] == HARBOUR_TITLE
    assert "6 million crowns" in card["description"] and "Last updated **March 9, 2025**" in card["description"]
    assert [f["name"] for f in card["fields"]] == ["Narrative A", "Narrative B", "Sources"]
    assert post["allowed_mentions"] == {"parse": []}
    assert_message_within_limits(post)
    await settled(bot)
    assert len(feed_posts(fake_discord, start)) == 1


async def test_an_update_posts_only_what_changed(fake_discord, bot):
    await add(fake_discord, "harbour.txt", HARBOUR)
    await settled(bot)
    start = fake_discord.loop_time()
    assert (await add(fake_discord, "harbour.txt", HARBOUR_UPDATED))["content"].startswith("Updated")
    [post] = await fake_discord.wait_for(lambda: feed_posts(fake_discord, start))
    assert post["content"] == UPDATED_STORY_INTRO and post["allowed_mentions"] == {"parse": []}
    [embed] = post["embeds"]
    assert embed["title"] == HARBOUR_TITLE
    description = embed["description"]
    assert description.startswith("Last updated **April 2, 2025** (was March 9, 2025)")
    assert "**New bullets**\n• Night crews began work on 30 March under floodlights.[[3]](https://post.example/night)" in description
    assert "**Reworded**\n• The port authority will spend 8.5 million crowns" in description
    assert "was: ~~The port authority will spend 6 million crowns" in description
    assert "40-metre crack" not in description and "Gull Point" not in description  # unchanged bullets are not repeated
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Narrative A (changed)"].endswith("before the next storm season, and insurers agree.")
    assert "Narrative B (changed)" not in fields
    assert fields["New sources"] == "[3] Harbour Post — [Night works begin](https://post.example/night)"
    assert_message_within_limits(post)


async def test_a_restart_posts_nothing_again_but_an_edit_made_while_off_once(fake_discord, embedder, stories_dir, index_dir):
    start = fake_discord.loop_time()
    async with feed_bot(embedder, stories_dir, index_dir) as first:
        await settled(first)
        await add(fake_discord, "harbour.txt", HARBOUR)
        await settled(first)
    assert len(feed_posts(fake_discord, start)) == 1
    async with feed_bot(embedder, stories_dir, index_dir) as second:  # the same index folder: nothing new
        await settled(second)
        await settled(second)
    assert len(feed_posts(fake_discord, start)) == 1

    [saved] = [path for path in stories_dir.iterdir() if path.read_text() == HARBOUR]
    saved.write_text(HARBOUR_UPDATED)  # edited by hand while no bot runs; the next start builds it (python -m bot does)
    index.build([stories_dir], index_dir, embedder=embedder)
    async with feed_bot(embedder, stories_dir, index_dir) as third:
        await settled(third)
    async with feed_bot(embedder, stories_dir, index_dir) as fourth:
        await settled(fourth)
    posts = feed_posts(fake_discord, start)
    assert [p["content"] for p in posts] == [NEW_STORY_INTRO, UPDATED_STORY_INTRO]
    assert "8.5 million crowns" in posts[1]["embeds"][0]["description"]


async def test_a_burst_of_three_updates_is_posted_in_order_one_at_a_time(fake_discord, bot):
    await add(fake_discord, "harbour.txt", HARBOUR)
    await settled(bot)
    feed = bot.get_cog("Feed")
    feed.post.cancel()  # held while the burst arrives, so that all three wait in the queue
    while feed.post.is_running():
        await asyncio.sleep(0.01)
    amounts = ["7 million", "8 million", "9 million"]
    for amount in amounts:
        assert (await add(fake_discord, "harbour.txt", HARBOUR.replace("6 million", amount)))["content"].startswith("Updated")
    await feed.find_changes()
    assert feed.queue.qsize() == 3
    start = fake_discord.loop_time()
    fault = fake_discord.fail("POST", FEED_POSTS, 429, retry_after=0.5)  # the first post is rate limited
    feed.post.start()
    await settled(bot)
    assert len(fault.hits) == 1  # discord.py waited out the 429 and sent it again
    posts = feed_posts(fake_discord, start)[1:]  # the first is the one refused with 429
    assert len(posts) == 3
    for post, before, after in zip(posts, ["6 million", *amounts], amounts, strict=False):
        description = post["embeds"][0]["description"]
        assert f"spend {after} crowns" in description and f"was: ~~The port authority will spend {before} crowns" in description
    times = [r.at for r in fake_discord.find("POST", FEED_POSTS) if r.at >= start]
    assert times == sorted(times) and len(times) == 4


async def test_a_removed_story_is_not_announced_and_one_added_again_is_new(fake_discord, bot):
    await add(fake_discord, "harbour.txt", HARBOUR)
    await settled(bot)
    start = fake_discord.loop_time()
    body = await run(fake_discord, fake_discord.subcommand("storyadmin", "remove", {"title": HARBOUR_TITLE},
                                                          permissions=MANAGE_MESSAGES, user_id=MODERATOR))
    assert body["content"].startswith("Removed")
    await settled(bot)
    assert feed_posts(fake_discord, start) == []
    await add(fake_discord, "harbour.txt", HARBOUR)
    await settled(bot)
    assert [p["content"] for p in feed_posts(fake_discord, start)] == [NEW_STORY_INTRO]


async def test_a_hand_edit_picked_up_by_the_watcher_is_announced(fake_discord, embedder, stories_dir, index_dir):
    start = fake_discord.loop_time()
    async with feed_bot(embedder, stories_dir, index_dir, poll_seconds=0.2) as bot:
        await settled(bot)
        (stories_dir / "harbour.txt").write_text(HARBOUR)
        [post] = await fake_discord.wait_for(lambda: feed_posts(fake_discord, start), timeout=30)
    assert post["content"] == NEW_STORY_INTRO and post["embeds"][0]["title"] == HARBOUR_TITLE


async def test_with_no_feed_channel_nothing_is_posted_but_versions_are_recorded(fake_discord, embedder, stories_dir, index_dir):
    start = fake_discord.loop_time()
    async with feed_bot(embedder, stories_dir, index_dir, feed_channel_id=None) as bot:
        assert bot.settings.feed_channel_id is None
        await settled(bot)
        await add(fake_discord, "harbour.txt", HARBOUR)
        await settled(bot)
        await add(fake_discord, "harbour.txt", HARBOUR_UPDATED)
        await settled(bot)
        recorded = StoryVersions(Records.beside(index_dir)).recorded()
    assert [r.path for r in fake_discord.requests if r.at >= start and r.path.startswith("/channels/")] == []
    assert recorded[index.models.story_id_for(HARBOUR_TITLE)] == bot.library.story_model(HARBOUR_TITLE).content_hash()


async def test_a_broken_records_database_pauses_the_feed_and_the_bot_still_answers(fake_discord, embedder, stories_dir, index_dir, caplog):
    caplog.set_level(logging.INFO)
    (index_dir / "storybot.sqlite3").mkdir()  # cannot be opened as a database
    start = fake_discord.loop_time()
    async with feed_bot(embedder, stories_dir, index_dir) as bot:
        await settled(bot)
        assert (await add(fake_discord, "harbour.txt", HARBOUR))["content"].startswith("Added")
        await settled(bot)
        embed = (await run(fake_discord, fake_discord.slash_command("ask", {"question": "How much will the Kestrel Harbour seawall repairs cost?"})))
        assert embed["embeds"][0]["title"] == HARBOUR_TITLE
        assert bot.get_cog("Feed").paused
    assert feed_posts(fake_discord, start) == []
    paused = [r for r in caplog.records if "story feed is paused" in r.getMessage()]
    assert len(paused) == 1


async def test_story_changes_only_says_plainly_when_no_previous_version_is_known(fake_discord, bot):
    event = fake_discord.slash_command("story", {"title": "Lowmoor to Close Four Branch Libraries", "changes_only": True},
                                       permissions=MANAGE_MESSAGES)
    body = await run(fake_discord, event)
    assert body["flags"] & EPHEMERAL
    assert body["content"].startswith("I don't know a previous version of “Lowmoor to Close Four Branch Libraries”")


async def test_story_posts_only_the_changes_to_the_channel_a_moderator_picks(fake_discord, bot):
    await add(fake_discord, "harbour.txt", HARBOUR)
    await add(fake_discord, "harbour.txt", HARBOUR_UPDATED)
    await settled(bot)
    start = fake_discord.loop_time()
    event = fake_discord.slash_command("story", {"title": "kestrel harbour seawall", "changes_only": True,
                                                 "channel": fake_discord.channel_option(fake_discord.other_channel, POSTER)},
                                       permissions=MANAGE_MESSAGES)
    body = await run(fake_discord, event)
    assert body["flags"] & EPHEMERAL and body["content"] == f"What changed in “{HARBOUR_TITLE}” is posted in <#{FEED}>."
    [post] = feed_posts(fake_discord, start)
    assert post["allowed_mentions"] == {"parse": []}
    assert post["embeds"][0]["description"].startswith("Last updated **April 2, 2025** (was March 9, 2025)")
    assert "was: ~~The port authority will spend 6 million crowns" in post["embeds"][0]["description"]
    assert_message_within_limits(post)


async def test_story_posts_the_card_here_by_default_and_in_a_chosen_channel(fake_discord, bot):
    start = fake_discord.loop_time()
    title = "Lowmoor to Close Four Branch Libraries"
    here = await run(fake_discord, fake_discord.slash_command("story", {"title": title}, permissions=MANAGE_MESSAGES))
    assert not here.get("flags", 0) & EPHEMERAL and here["embeds"][0]["title"] == title
    picked_here = fake_discord.channel_option(fake_discord.channel, POSTER)
    same = await run(fake_discord, fake_discord.slash_command("story", {"title": title, "channel": picked_here}, permissions=MANAGE_MESSAGES))
    assert same["embeds"][0]["title"] == title  # the current channel, picked: the interaction's own answer
    there = await run(fake_discord, fake_discord.slash_command(
        "story", {"title": title, "channel": fake_discord.channel_option(fake_discord.other_channel, POSTER)}, permissions=MANAGE_MESSAGES))
    assert there["flags"] & EPHEMERAL and there["content"] == f"The card of “{title}” is posted in <#{FEED}>."
    [post] = feed_posts(fake_discord, start)
    assert post["embeds"][0]["title"] == title and post["allowed_mentions"] == {"parse": []}
    [command] = [c for c in fake_discord.synced_commands if c["name"] == "story"]
    assert [(o["name"], o["type"], o.get("required", False)) for o in command["options"]] == [
        ("title", 3, True), ("channel", 7, False), ("changes_only", 5, False)]


async def test_story_is_not_posted_where_the_moderator_cannot_post(fake_discord, bot):
    start = fake_discord.loop_time()
    reader = discord.Permissions(view_channel=True, read_message_history=True)
    event = fake_discord.slash_command("story", {"title": "Lowmoor to Close Four Branch Libraries",
                                                 "channel": fake_discord.channel_option(fake_discord.other_channel, reader)},
                                       permissions=MANAGE_MESSAGES)
    body = await run(fake_discord, event)
    assert body["flags"] & EPHEMERAL and body["content"] == f"You can't post with embeds in <#{FEED}>, so I won't post there for you."
    assert feed_posts(fake_discord, start) == []


async def test_two_bots_sharing_one_index_folder_post_a_change_once(fake_discord, embedder, stories_dir, index_dir):
    start = fake_discord.loop_time()
    async with feed_bot(embedder, stories_dir, index_dir) as first, feed_bot(embedder, stories_dir, index_dir) as second:
        await settled(first)
        await settled(second)
        (stories_dir / "harbour.txt").write_text(HARBOUR)  # both watchers pick it up, and both feeds see it
        admins = [first.get_cog("StoryAdmin"), second.get_cog("StoryAdmin")]
        await asyncio.gather(*(admin.pick_up_hand_edits() for admin in admins))
        await asyncio.gather(settled(first), settled(second))
    [post] = feed_posts(fake_discord, start)
    assert post["embeds"][0]["title"] == HARBOUR_TITLE
