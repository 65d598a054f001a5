"""`/story`, its autocomplete, and `/stories`, end to end against the fake Discord."""

from pathlib import Path
from unittest import mock

import discord
import pytest

from bot.utils.pagination import CatalogPages
from index.models import story_id_for
from index.parser import parse_file
from tests.bot.fake_discord import MANAGE_MESSAGES, FakeDiscord
from tests.bot.message_checks import assert_message_within_limits, assert_nobody_is_pinged

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module", autouse=True)
def nobody_is_pinged(fake_discord):
    """After the module's tests, in whatever order they ran: every message, answers and refusals alike, had
    mentions disabled."""
    yield
    assert_nobody_is_pinged(fake_discord.requests)

STORIES = Path(__file__).parents[1] / "stories"
RENT_CAP = parse_file(STORIES / "eastmere_rent_cap.txt").story
NEWEST_FIRST = [
    "Eastmere Council Approves Two-Year Rent Cap",
    "Brackwater Ferry Crews Strike Over Night Shifts",
    "Lowmoor to Close Four Branch Libraries",
    "Tidewell Observatory Wins Funding for New Telescope",
]
MESSAGE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, EPHEMERAL = 4, 7, 8, 64


async def first_callback(fake: FakeDiscord, event: dict):
    await fake.dispatch("INTERACTION_CREATE", event)
    return (await fake.wait_for(lambda: fake.callbacks(event["id"])))[0]


async def test_story_is_hidden_from_members_by_default_and_limited_to_servers(fake_discord, running_bot):
    synced = {command["name"]: command for command in fake_discord.synced_commands}
    assert set(synced) == {"ask", "story", "stories", "storyadmin"}
    assert int(synced["story"]["default_member_permissions"]) == discord.Permissions(manage_messages=True).value
    assert synced["story"]["contexts"] == [0]  # guild only: no moderators in direct messages
    assert synced["story"]["options"][0]["autocomplete"] is True
    assert synced["ask"]["default_member_permissions"] is None
    assert synced["ask"]["options"][0]["max_length"] == 500


async def test_a_moderator_posts_the_full_story_card_publicly(fake_discord, running_bot):
    event = fake_discord.slash_command("story", {"title": RENT_CAP.title.lower()}, permissions=MANAGE_MESSAGES)
    callback = await first_callback(fake_discord, event)
    body = callback.json["data"]
    assert callback.json["type"] == MESSAGE
    assert not body.get("flags", 0) & EPHEMERAL
    assert body["allowed_mentions"] == {"parse": []}
    embed = body["embeds"][0]
    assert embed["title"] == RENT_CAP.title
    assert embed["footer"]["text"] == "Image credit: storybot test fixture (fictional story)"
    assert "Last updated **April 3, 2025**" in embed["description"]
    bullets = [line for line in embed["description"].splitlines() if line.startswith("• ")]
    assert len(bullets) == len(RENT_CAP.facts)  # every bullet, in story order
    for bullet, fact in zip(bullets, RENT_CAP.facts, strict=False):
        assert bullet.startswith("• " + fact.text)
    assert bullets[2].endswith("[[1]](https://eastmere-gazette.example/rent-cap)[3]")  # [3] lists no URL
    names = [field["name"] for field in embed["fields"]]
    assert names == ["Narrative A", "Narrative B", "Sources"]
    assert embed["fields"][0]["inline"] and embed["fields"][1]["inline"]
    sources = embed["fields"][2]["value"].splitlines()
    assert sources[0] == "[1] Eastmere Gazette — [Council approves rent cap](https://eastmere-gazette.example/rent-cap)"
    assert sources[2] == "[3] Valdoria Morning Post — Tenants celebrate after marathon council vote"
    assert_message_within_limits(body)


async def test_story_finds_the_title_an_autocomplete_value_or_a_typo_means(fake_discord, running_bot):
    event = fake_discord.slash_command("story", {"title": "Brackwater Ferry Crews Strike Over Night Shift"},
                                       permissions=MANAGE_MESSAGES)
    callback = await first_callback(fake_discord, event)
    assert callback.json["data"]["embeds"][0]["title"] == NEWEST_FIRST[1]

    event = fake_discord.slash_command("story", {"title": "Volcano erupts"}, permissions=MANAGE_MESSAGES)
    callback = await first_callback(fake_discord, event)
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert "I don't know a story called “Volcano erupts”" in callback.json["data"]["content"]


async def test_autocomplete_offers_fuzzy_matches_for_the_title(fake_discord, running_bot):
    callback = await first_callback(fake_discord, fake_discord.autocomplete("story", "title", "ferry strik", permissions=MANAGE_MESSAGES))
    assert callback.json["type"] == AUTOCOMPLETE_RESULT
    choices = callback.json["data"]["choices"]
    assert choices[0] == {"name": NEWEST_FIRST[1], "value": story_id_for(NEWEST_FIRST[1])}  # the title shown, the id sent
    assert len(choices) <= 25

    callback = await first_callback(fake_discord, fake_discord.autocomplete("story", "title", "", permissions=MANAGE_MESSAGES))
    assert [choice["name"] for choice in callback.json["data"]["choices"]] == NEWEST_FIRST


async def test_stories_is_a_private_list_newest_first_with_working_page_buttons(fake_discord, running_bot, monkeypatch):
    # load_extension executes the module afresh, so patch the module the bot actually loaded.
    monkeypatch.setattr(running_bot.extensions["bot.exts.stories"], "STORIES_PER_PAGE", 3)
    event = fake_discord.slash_command("stories")
    callback = await first_callback(fake_discord, event)
    body = callback.json["data"]
    assert callback.json["type"] == MESSAGE and body["flags"] & EPHEMERAL
    assert body["allowed_mentions"] == {"parse": []}
    page_one = body["embeds"][0]
    assert page_one["title"] == "Stories I know — page 1 of 2"
    assert [line.split("**")[1] for line in page_one["description"].splitlines()] == NEWEST_FIRST[:3]
    assert "April 3, 2025" in page_one["description"]
    previous, following = body["components"][0]["components"]
    assert (previous["label"], previous["disabled"], following["label"], following["disabled"]) == ("Previous", True, "Next", False)

    click = fake_discord.button_click(following["custom_id"], fake_discord.response_messages[int(event["id"])],
                                      user_id=int(event["member"]["user"]["id"]))
    update = await first_callback(fake_discord, click)
    assert update.json["type"] == UPDATE_MESSAGE
    page_two = update.json["data"]["embeds"][0]
    assert page_two["title"] == "Stories I know — page 2 of 2"
    assert [line.split("**")[1] for line in page_two["description"].splitlines()] == NEWEST_FIRST[3:]
    previous, following = update.json["data"]["components"][0]["components"]
    assert previous["disabled"] is False and following["disabled"] is True

    someone_else = fake_discord.button_click(previous["custom_id"], fake_discord.response_messages[int(event["id"])],
                                             user_id=fake_discord.snowflake())
    refusal = await first_callback(fake_discord, someone_else)
    assert refusal.json["type"] == MESSAGE and refusal.json["data"]["flags"] & EPHEMERAL
    assert "someone else's" in refusal.json["data"]["content"]


async def test_the_page_buttons_are_disabled_when_the_list_times_out(library):
    pages = CatalogPages(library.catalog(), per_page=3, owner_id=1)
    pages.shown_in = mock.create_autospec(discord.Interaction, instance=True)
    await pages.on_timeout()
    pages.shown_in.edit_original_response.assert_awaited_once_with(view=pages)
    assert pages.previous_page.disabled and pages.next_page.disabled

