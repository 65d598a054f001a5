"""Spec'd fakes for the cogs' decisions, tested without a Discord: each fake has the real class's attributes and
signatures (`unittest.mock.create_autospec`), so a call the real object would refuse fails the test too.

The wiring (discord.py parsing a real interaction, the command tree, the HTTP bodies) is proved by the fake-Discord
tests beside these; here a command's callback is called directly with a spec'd interaction.
"""

import itertools
import uuid
from datetime import date
from unittest import mock

import discord

from bot.bot import StoryBot
from bot.records import Records
from bot.settings import BotSettings
from bot.utils.cooldowns import question_cooldowns
from index import Answer, AnswerStory, Fact, Library, Narrative, Source, Story

BOT_ID, MEMBER_ID = 900, 42
_ids = itertools.count(10_000)

GAZETTE = Source(number=1, outlet="Eastmere Gazette", headline="Council approves rent cap", url="https://gazette.example/cap")
RENT_CAP_STORY = Story(
    id="eastmere", title="Eastmere Council Approves Two-Year Rent Cap", updated=date(2025, 4, 3),
    facts=[Fact(index=1, text="The council capped rent rises at 3%.", citations=[1])],
    narratives=[Narrative(label="Narrative A", text="Rents outpaced wages."), Narrative(label="Narrative B", text="Caps shrink supply.")],
    sources=[GAZETTE],
)
RENT_CAP = AnswerStory.from_story(RENT_CAP_STORY)  # its card
RENT_CAP_ANSWER = Answer(question="what rent cap?", answered=True, stories=[RENT_CAP])


def fake_user(user_id: int = MEMBER_ID, *, bot: bool = False) -> discord.Member:
    user = mock.create_autospec(discord.Member, instance=True)
    user.id, user.bot = user_id, bot
    user.__str__.return_value = f"member{user_id}"
    return user


def fake_bot(*, cooldown_rate: int = 3, poll_seconds: float = 0) -> StoryBot:
    """A StoryBot whose library and records are spec'd fakes; its settings and cooldowns are real."""
    bot = mock.create_autospec(StoryBot, instance=True)
    bot.settings = BotSettings(_env_file=None, ask_cooldown_rate=cooldown_rate, ask_cooldown_per=600, poll_seconds=poll_seconds)
    bot.question_cooldowns = question_cooldowns(bot.settings.ask_cooldown_rate, bot.settings.ask_cooldown_per)
    bot.library = mock.create_autospec(Library, instance=True)
    bot.records = mock.create_autospec(Records, instance=True)
    bot.records.new_answer_id.side_effect = lambda: uuid.uuid4().hex
    bot.saving_answers = {}
    bot.user = fake_user(BOT_ID, bot=True)
    bot.answer.return_value = RENT_CAP_ANSWER
    return bot


def fake_interaction(user_id: int = MEMBER_ID) -> discord.Interaction:
    """A slash command's interaction, not yet acknowledged."""
    interaction = mock.create_autospec(discord.Interaction, instance=True)
    interaction.id = next(_ids)
    interaction.user = fake_user(user_id)
    interaction.response = mock.create_autospec(discord.InteractionResponse, instance=True)
    interaction.response.is_done.return_value = False
    interaction.followup = mock.create_autospec(discord.Webhook, instance=True)
    return interaction


def fake_message(content: str, *, author: discord.Member | None = None, replying_to: discord.Message | None = None) -> discord.Message:
    """A message in a server channel; `replying_to` is the message it replies to, as discord.py resolves it."""
    message = mock.create_autospec(discord.Message, instance=True)
    message.id, message.content, message.embeds = next(_ids), content, []
    message.author = author or fake_user()
    message.channel = mock.create_autospec(discord.TextChannel, instance=True)
    message.channel.typing.return_value = mock.MagicMock()  # `async with channel.typing():`
    message.reference = None
    if replying_to is not None:
        message.reference = mock.create_autospec(discord.MessageReference, instance=True)
        message.reference.resolved = replying_to
    return message


def bot_answer_message(title: str) -> discord.Message:
    """One of the bot's answers, as a member's reply resolves it: its first card carries the story's title."""
    answer = fake_message("", author=fake_user(BOT_ID, bot=True))
    answer.embeds = [discord.Embed(title=title)]
    return answer


def private_text(interaction: discord.Interaction) -> str:
    """What the member alone was told: an ephemeral response, or an ephemeral follow-up."""
    for call in (*interaction.response.send_message.await_args_list, *interaction.followup.send.await_args_list):
        if call.kwargs.get("ephemeral"):
            return call.args[0] if call.args else call.kwargs["content"]
    raise AssertionError(f"nothing was said privately: {interaction.response.mock_calls + interaction.followup.mock_calls}")
