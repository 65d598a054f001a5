"""The answers extension's decisions, with spec'd fakes (tests/bot/spec_fakes.py): who is answered, about what,
and what is refused, and how. tests/bot/exts/test_answers.py proves the same cog wired to a real discord.py."""

import asyncio
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot.exts.answers import Answers, story_replied_to
from bot.feedback import VoteButton
from bot.suggestions import ReadSuggestedStory
from bot.utils.messages import NO_MENTIONS
from index import MAX_QUESTION_CHARS, Answer, QuestionError, story_id_for
from tests.bot.spec_fakes import BOT_ID, RENT_CAP, bot_answer_message, fake_bot, fake_interaction, fake_message, fake_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

MENTION = f"<@{BOT_ID}>"


@pytest.fixture
def bot():
    return fake_bot()


@pytest.fixture
def cog(bot):
    return Answers(bot)


async def test_ask_acknowledges_publicly_then_sends_the_answer_with_vote_buttons_and_no_pings(cog, bot):
    interaction = fake_interaction()
    await cog.ask.callback(cog, interaction, "What rent cap did Eastmere approve?")
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    bot.answer.assert_awaited_once_with("What rent cap did Eastmere approve?")
    await asyncio.gather(*bot.saving_answers.values())  # saved off the loop while the answer is sent
    sent = interaction.followup.send.await_args.kwargs
    assert sent["embeds"][0].title == RENT_CAP.title and sent["allowed_mentions"] is NO_MENTIONS
    (answer_id,) = [call.args[1] for call in bot.records.save_answer.call_args_list] or [None]
    buttons = sent["view"].children
    assert [type(item) for item in buttons] == [VoteButton, VoteButton]
    assert all(answer_id in button.custom_id for button in buttons)  # the votes name the answer saved for them


async def test_a_refused_mention_offers_the_stories_it_suggests_to_read(cog, bot):
    suggested = [RENT_CAP.title, "A Story With a Title " + "Long " * 40]
    bot.answer.return_value = Answer(question="sourdough?", answered=False, suggestions=suggested)
    message = fake_message(f"{MENTION} sourdough?")
    await cog.on_message(message)
    items = message.reply.await_args.kwargs["view"].children
    assert [type(item) for item in items] == [VoteButton, VoteButton, ReadSuggestedStory]
    options = items[2].item.options
    assert options[0].value == RENT_CAP.id  # the id the story itself has, which the library finds it by when picked
    assert options[1].value == story_id_for(suggested[1]) and len({option.value for option in options}) == 2
    assert options[0].label == RENT_CAP.title and len(options[1].label) <= 100 and options[1].label.endswith("…")


@pytest.mark.parametrize("question", ["   ", "\u200b\u200b", "x" * (MAX_QUESTION_CHARS + 1)])
async def test_ask_refuses_a_blank_or_too_long_question_before_any_public_acknowledgement(cog, bot, question):
    interaction = fake_interaction()
    with pytest.raises(QuestionError):  # the error handler tells the member privately
        await cog.ask.callback(cog, interaction, question)
    interaction.response.defer.assert_not_awaited()
    bot.answer.assert_not_awaited()


async def test_ask_beyond_the_members_budget_raises_a_cooldown_before_acknowledging():
    bot = fake_bot(cooldown_rate=2)
    cog = Answers(bot)
    for _ in range(2):
        await cog.ask.callback(cog, fake_interaction(), "What rent cap?")
    interaction = fake_interaction()
    with pytest.raises(app_commands.CommandOnCooldown):
        await cog.ask.callback(cog, interaction, "What rent cap?")
    interaction.response.defer.assert_not_awaited()
    await cog.ask.callback(cog, fake_interaction(user_id=7), "What rent cap?")  # another member has their own budget
    assert bot.answer.await_count == 3


async def test_a_mention_is_answered_as_a_reply_without_pings(cog, bot):
    message = fake_message(f"{MENTION} what rent cap did Eastmere approve?")
    await cog.on_message(message)
    bot.answer.assert_awaited_once_with("what rent cap did Eastmere approve?", about=None)
    reply = message.reply.await_args.kwargs
    assert reply["embeds"][0].title == RENT_CAP.title and reply["allowed_mentions"] is NO_MENTIONS


async def test_a_reply_to_one_of_the_bots_answers_is_a_follow_up_about_its_story_even_without_a_mention(cog, bot):
    message = fake_message("and the other side?", replying_to=bot_answer_message(RENT_CAP.title))
    await cog.on_message(message)
    bot.answer.assert_awaited_once_with("and the other side?", about=RENT_CAP.title)


@pytest.mark.parametrize("message", [
    pytest.param(lambda: fake_message("what rent cap?"), id="no mention, no reply"),
    pytest.param(lambda: fake_message(f"{MENTION} what rent cap?", author=fake_user(5, bot=True)), id="from a bot"),
    pytest.param(lambda: fake_message("thanks", replying_to=fake_message("a member's message")), id="reply to a member"),
    pytest.param(lambda: fake_message("  ", replying_to=bot_answer_message(RENT_CAP.title)), id="empty reply to an answer"),
    pytest.param(lambda: fake_message(f"<@{BOT_ID + 1}> what rent cap?"), id="mentions someone else"),
])
async def test_messages_that_are_not_questions_are_left_alone(cog, bot, message):
    message = message()
    await cog.on_message(message)
    bot.answer.assert_not_awaited()
    message.reply.assert_not_awaited()
    message.author.send.assert_not_awaited()


async def test_a_mention_too_long_to_answer_is_refused_by_direct_message(cog, bot):
    message = fake_message(f"{MENTION} " + "x" * (MAX_QUESTION_CHARS + 1))
    await cog.on_message(message)
    assert f"up to {MAX_QUESTION_CHARS}" in message.author.send.await_args.args[0]
    message.reply.assert_not_awaited()
    bot.answer.assert_not_awaited()


async def test_a_member_who_refuses_direct_messages_is_told_in_a_reply(cog, bot):
    message = fake_message(f"{MENTION} " + "x" * (MAX_QUESTION_CHARS + 1))
    message.author.send.side_effect = discord.Forbidden(mock.Mock(status=403, reason="Forbidden"), "Cannot send messages to this user")
    await cog.on_message(message)
    assert f"up to {MAX_QUESTION_CHARS}" in message.reply.await_args.args[0]


async def test_a_mention_beyond_the_budget_is_told_when_to_ask_again_privately():
    bot = fake_bot(cooldown_rate=1)
    cog = Answers(bot)
    await cog.on_message(fake_message(f"{MENTION} what rent cap?"))
    message = fake_message(f"{MENTION} and the police change?")
    await cog.on_message(message)
    assert "Please wait" in message.author.send.await_args.args[0]
    assert bot.answer.await_count == 1


async def test_a_failure_while_answering_a_mention_is_logged_and_apologised_for(cog, bot, caplog):
    bot.answer.side_effect = RuntimeError("the index fell over")
    message = fake_message(f"{MENTION} what rent cap?")
    await cog.on_message(message)
    assert "something went wrong on my side" in message.reply.await_args.args[0]
    assert f"answering message {message.id} failed" in caplog.text and "the index fell over" in caplog.text


async def test_the_story_of_a_reply_is_read_from_the_bots_answer_only():
    assert story_replied_to(fake_message("?", replying_to=bot_answer_message("A Story")), BOT_ID) == "A Story"
    assert story_replied_to(fake_message("?", replying_to=bot_answer_message("A Story")), BOT_ID + 1) is None
    assert story_replied_to(fake_message("?", replying_to=fake_message("a member's")), BOT_ID) is None
    untitled = bot_answer_message("x")
    untitled.embeds = [discord.Embed(description="no title")]
    assert story_replied_to(fake_message("?", replying_to=untitled), BOT_ID) is None
    assert story_replied_to(fake_message("?"), BOT_ID) is None

