"""Finding a story by title from Discord: any length, any lookalike spelling, never another story's id.

Its own bot and stories (a 5,000-character title), since it removes one.
"""

import shutil
from pathlib import Path

import pytest
import pytest_asyncio

import index
from index.models import story_id_for
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.harness import started_bot
from tests.bot.message_checks import assert_message_within_limits
from tests.support import write_story

pytestmark = pytest.mark.asyncio(loop_scope="session")

STORIES = Path(__file__).parents[1] / "stories"
RENT_CAP = "Eastmere Council Approves Two-Year Rent Cap"
LONG_TITLE = "Tidewell Harbour " + " ".join(f"word{n}" for n in range(800))  # over 5,000 characters
EPHEMERAL = 64


@pytest.fixture(scope="module")
def stories_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("title-stories")
    for story in STORIES.glob("*.txt"):
        shutil.copy(story, folder / story.name)
    write_story(folder, "long.txt", f"{LONG_TITLE}\n- The harbour story has a very long title.[1]\n")
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def titles_bot(fake_discord, embedder, stories_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("title-index")
    index.build([stories_dir], out, embedder=embedder)
    async with started_bot(index.load(out, embedder=embedder), stories_dir=str(stories_dir), poll_seconds="0") as bot:
        yield bot


async def reply(fake: FakeDiscord, event: dict) -> dict:
    await fake.dispatch("INTERACTION_CREATE", event)
    done = await fake.wait_for(lambda: fake.followups(event["token"]) or [c for c in fake.callbacks(event["id"]) if c.json["type"] != 5])
    return done[-1].json.get("data", done[-1].json)


async def story_card(fake: FakeDiscord, title: str) -> dict:
    return await reply(fake, fake.slash_command("story", {"title": title}, permissions=MANAGE_MESSAGES))


async def test_a_story_with_a_5000_character_title_opens_from_its_autocomplete_choice(fake_discord, titles_bot):
    typed = fake_discord.autocomplete("story", "title", "tidewell harbour word1", permissions=MANAGE_MESSAGES)
    choices = (await reply(fake_discord, typed))["choices"]
    [choice] = [c for c in choices if c["name"].startswith("Tidewell Harbour word0")]
    assert len(choice["name"]) <= 100 and len(choice["value"]) <= 100
    body = await story_card(fake_discord, choice["value"])
    assert body["embeds"][0]["title"].startswith("Tidewell Harbour word0 word1")
    assert "very long title" in body["embeds"][0]["description"]
    assert_message_within_limits(body)


@pytest.mark.parametrize("typed", ["Eastmere Council  Approves Two-Year Rent Cap", "Eastmere\u00a0Council Approves\u200b Two-Year Rent Cap",
                                   "\u202eeastmere council approves two-year rent cap"])
async def test_story_finds_a_title_typed_with_other_spacing_or_invisible_characters(fake_discord, titles_bot, typed):
    assert (await story_card(fake_discord, typed))["embeds"][0]["title"] == RENT_CAP


async def test_an_autocomplete_choice_sends_the_id_and_finds_its_story(fake_discord, titles_bot):
    event = fake_discord.subcommand_autocomplete("storyadmin", "remove", "title", "eastmere rent cap", permissions=MANAGE_MESSAGES)
    [rent_cap] = [c for c in (await reply(fake_discord, event))["choices"] if c["name"] == RENT_CAP]
    assert rent_cap["value"] == story_id_for(RENT_CAP)
    assert (await story_card(fake_discord, rent_cap["value"]))["embeds"][0]["title"] == RENT_CAP


async def test_remove_finds_the_exact_title_typed_with_other_spacing(fake_discord, titles_bot, stories_dir):
    typed = "Lowmoor to Close\u00a0 Four Branch\u200b Libraries"
    body = await reply(fake_discord, fake_discord.subcommand("storyadmin", "remove", {"title": typed}, permissions=MANAGE_MESSAGES))
    assert body["content"].startswith("Removed “Lowmoor to Close Four Branch Libraries” (lowmoor_library_closures.txt).")
