"""The stories extension's decisions, with spec'd fakes (tests/bot/spec_fakes.py). tests/bot/exts/test_stories.py
proves the same cog wired to a real discord.py: the check, the autocomplete, the pager's buttons."""

import pytest

from bot.exts.stories import STORIES_PER_PAGE, Stories
from bot.utils.messages import NO_MENTIONS
from bot.utils.pagination import CatalogPages
from tests.bot.spec_fakes import MEMBER_ID, RENT_CAP, RENT_CAP_STORY, fake_bot, fake_interaction, private_text

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def bot():
    return fake_bot()


@pytest.fixture
def cog(bot):
    return Stories(bot)


async def test_story_posts_the_card_publicly_guessing_at_a_typo(cog, bot):
    bot.library.story_model.return_value = RENT_CAP_STORY
    interaction = fake_interaction()
    await cog.story.callback(cog, interaction, "eastmere rent cpa")
    bot.library.story_model.assert_called_once_with("eastmere rent cpa", guess=True)
    sent = interaction.response.send_message.await_args.kwargs
    assert sent["embeds"][0].title == RENT_CAP.title and sent["allowed_mentions"] is NO_MENTIONS
    assert not sent.get("ephemeral")


async def test_story_unknown_title_is_refused_privately_escaped_and_shortened(cog, bot):
    bot.library.story_model.return_value = None
    interaction = fake_interaction()
    await cog.story.callback(cog, interaction, "**The Moon** " + "x" * 400)
    text = private_text(interaction)
    assert text.startswith("I don't know a story called “\\*\\*The Moon\\*\\* ") and "see /stories" in text
    assert len(text) < 300
    assert not interaction.response.send_message.await_args.kwargs.get("embeds")


async def test_stories_is_a_private_pager_only_its_member_can_turn(cog, bot):
    bot.library.catalog.return_value = [RENT_CAP.model_copy(update={"id": f"s{n}", "title": f"Story {n}"}) for n in range(12)]
    interaction = fake_interaction()
    await cog.stories.callback(cog, interaction)
    sent = interaction.response.send_message.await_args.kwargs
    pages = sent["view"]
    assert isinstance(pages, CatalogPages) and sent["ephemeral"] is True and sent["allowed_mentions"] is NO_MENTIONS
    assert pages.owner_id == MEMBER_ID and pages.per_page == STORIES_PER_PAGE and pages.shown_in is interaction
    assert sent["embed"].title.endswith("page 1 of 2")


async def test_the_pager_answers_only_the_member_who_opened_it():
    pages = CatalogPages([RENT_CAP], per_page=STORIES_PER_PAGE, owner_id=MEMBER_ID)
    assert await pages.interaction_check(fake_interaction(MEMBER_ID)) is True
    someone_else = fake_interaction(MEMBER_ID + 1)
    assert await pages.interaction_check(someone_else) is False
    assert "someone else's" in private_text(someone_else)
