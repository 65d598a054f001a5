"""The story feed: every story added or updated is posted to STORYBOT_FEED_CHANNEL_ID, an update as what changed.

How changes are found: the index's manifest gives each story's content hash; the records database keeps the
version of each story the bot last knew (`bot.records.StoryVersions`). Whenever the stories change (a
`/storyadmin` change or a hand edit the watcher picks up, announced by the `stories_changed` event) and once at
start (edits made while the bot was off), the two are compared and every story that differs is queued, oldest
"Last updated" first. One task posts the queue in order, one message at a time (discord.py waits out any
429). Each version is claimed in an SQLite transaction before it is posted, so no version is posted twice, after a
restart or by a second process sharing the index folder. A removed story is recorded as gone, never posted.

- The first start with no recorded versions (a new records database, or the first start with the feed's
  table) takes the stories as they are as the baseline and posts nothing: switching the feed on for an
  existing library does not post a thousand cards.
- Versions are recorded whether or not a feed channel is set, so `/story changes_only:` knows the previous
  version either way; with no channel nothing is posted.
- With the records database unusable the feed logs once and pauses (the bot still starts and answers); it
  tries again at every change and every RETRY_SECONDS, and then posts what changed since the versions recorded.
"""

import asyncio
import logging

import discord
from discord.ext import commands, tasks

from index import AnswerStory, Change, Story, story_changes

from ..bot import StoryBot
from ..records import Claim, RecordsUnavailable, StoryVersions
from ..rendering.changes import NEW_STORY_INTRO, UPDATED_STORY_INTRO, changes_embed
from ..rendering.embeds import story_card_embeds
from ..utils.messages import NO_MENTIONS

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0  # while paused (records unusable): how often to try again without waiting for a change


def feed_message(claim: Claim) -> dict:
    """The message for one claimed version: the card of a new story, or what changed in an updated one."""
    if claim.added or claim.previous is None:
        return {"content": NEW_STORY_INTRO, "embeds": story_card_embeds(AnswerStory.from_story(claim.story))}
    return {"content": UPDATED_STORY_INTRO, "embeds": [changes_embed(story_changes(claim.previous, claim.story))]}


class Feed(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot
        self.versions = StoryVersions(bot.records)
        self.queue: asyncio.Queue[Story] = asyncio.Queue()
        self.queued: set[tuple[str, str]] = set()  # (story id, content hash) waiting in the queue
        self.finding = asyncio.Lock()  # one comparison at a time, so the queue follows the order of the changes
        self.paused = False
        self.starting: asyncio.Task | None = None

    @property
    def channel(self) -> discord.PartialMessageable | None:
        channel_id = self.bot.settings.feed_channel_id
        return self.bot.get_partial_messageable(channel_id) if channel_id is not None else None

    async def cog_load(self) -> None:
        self.post.start()
        self.starting = asyncio.create_task(self.find_changes())  # edits made while the bot was off

    async def cog_unload(self) -> None:
        self.post.cancel()
        self.retry.cancel()
        if self.starting is not None:
            self.starting.cancel()

    @commands.Cog.listener()
    async def on_stories_changed(self, change: Change) -> None:
        await self.find_changes()

    async def find_changes(self) -> int:
        """Queue every story whose version differs from the one recorded; how many were queued."""
        async with self.finding:
            try:
                stories = await asyncio.to_thread(self._changed_stories)
            except RecordsUnavailable:
                self._pause()
                return 0
            except Exception:
                log.exception("the story feed could not compare the stories with the versions it knew")
                return 0
            self._resume()
            queued = 0
            for story in stories:
                key = (story.id, story.content_hash())
                if key not in self.queued:
                    self.queued.add(key)
                    self.queue.put_nowait(story)
                    queued += 1
            return queued

    def _changed_stories(self) -> list[Story]:
        """Blocking: the stories that differ from the versions recorded (all recorded silently the first time)."""
        library = self.bot.library
        current = library.versions()
        recorded = self.versions.recorded()
        if recorded is None:
            stories = [story for story in map(library.story_model, current) if story is not None]
            if self.versions.record_baseline(stories):
                log.info("story feed: %d stories recorded as they are; changes from now on are announced", len(stories))
                return []
            recorded = self.versions.recorded() or {}
        if gone := recorded.keys() - current.keys():
            self.versions.mark_removed(sorted(gone))
        changed = [library.story_model(story_id) for story_id, content_hash in current.items() if recorded.get(story_id) != content_hash]
        return sorted((s for s in changed if s is not None), key=lambda s: (s.updated is not None, s.updated or "", s.title))

    @tasks.loop(seconds=0)
    async def post(self) -> None:
        """One story at a time, oldest change first."""
        story = await self.queue.get()
        try:
            await self.announce(story)
        finally:
            self.queued.discard((story.id, story.content_hash()))
            self.queue.task_done()

    async def announce(self, story: Story) -> None:
        """Claim this version of `story` and, unless it was claimed before, post it to the feed channel."""
        try:
            claim = await asyncio.to_thread(self.versions.claim, story)
        except RecordsUnavailable:
            self._pause()  # what is still queued is found again from the records once they work
            self._drop_queue()
            return
        except Exception:
            log.exception("the story feed could not record %r", story.title)
            return
        channel = self.channel
        if claim is None or channel is None:
            return  # announced already (by this process or another), or no feed channel: recorded only
        try:
            await channel.send(**feed_message(claim), allowed_mentions=NO_MENTIONS)
        except Exception:  # claimed, so never posted twice: a post Discord refused is logged, not retried
            log.exception("could not post %r to the feed channel %s", story.title, channel.id)

    @post.before_loop
    async def _after_ready(self) -> None:
        await self.bot.wait_until_ready()

    @tasks.loop(seconds=RETRY_SECONDS)
    async def retry(self) -> None:
        await self.find_changes()

    @retry.before_loop
    async def _one_interval_later(self) -> None:
        await asyncio.sleep(RETRY_SECONDS)

    def _pause(self) -> None:
        """Records unusable (the records logged why, once): log once, and try again later."""
        if not self.paused:
            self.paused = True
            log.warning("the story feed is paused until the records database can be used; it tries again every %d s",
                        RETRY_SECONDS)
            if not self.retry.is_running():
                self.retry.start()

    def _resume(self) -> None:
        if self.paused:
            self.paused = False
            self.retry.cancel()
            log.info("the story feed works again")

    def _drop_queue(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        self.queued.clear()


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Feed(bot))
