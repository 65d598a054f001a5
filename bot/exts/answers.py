"""Answering questions: `/ask`, and a question asked by mentioning the bot."""

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from index import MAX_QUESTION_CHARS, Answer, QuestionError, clean_question

from ..bot import StoryBot
from ..feedback import remember_answer, vote_buttons
from ..rendering.embeds import answer_embeds
from ..suggestions import ReadSuggestedStory
from ..utils.cooldowns import cooldown_message
from ..utils.messages import NO_MENTIONS

log = logging.getLogger(__name__)


class Answers(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask about a news story; I answer only with lines quoted from it.")
    @app_commands.describe(question="Your question, e.g. “What did the council decide about rents?”")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, MAX_QUESTION_CHARS]) -> None:
        clean_question(question)  # refused before the public acknowledgement, so the refusal stays private
        if retry_after := self.bot.question_cooldowns.update_rate_limit(interaction):
            raise app_commands.CommandOnCooldown(self.bot.question_cooldowns.get_bucket(interaction), retry_after)
        await interaction.response.defer(thinking=True)
        answer = await self.bot.answer(question)
        answer_id = remember_answer(self.bot, answer)
        await interaction.followup.send(embeds=answer_embeds(answer), view=answer_view(answer, answer_id), allowed_mentions=NO_MENTIONS)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """`@storybot what happened to the rent cap?` gets the `/ask` answer as a reply. A reply to one of the bot's
        answers is a follow-up: it is asked about that answer's story first ("and the other side?")."""
        me = self.bot.user
        if me is None or message.author.bot:
            return
        mention = re.compile(rf"<@!?{me.id}>")
        about = story_replied_to(message, me.id)
        if not mention.search(message.content) and (about is None or not message.content.strip()):
            return  # only a written mention, or a reply to one of the bot's answers, is a question
        try:
            question = clean_question(mention.sub(" ", message.content))
        except QuestionError as error:
            await self._tell_privately(message, str(error))
            return
        if retry_after := self.bot.question_cooldowns.update_rate_limit(message):
            await self._tell_privately(message, cooldown_message(retry_after))
            return
        try:
            async with message.channel.typing():
                answer = await self.bot.answer(question, about=about)
        except QuestionError as error:
            await self._tell_privately(message, str(error))
            return
        except Exception:
            log.exception("answering message %s failed", message.id)
            await message.reply("Sorry, something went wrong on my side. It has been logged.", allowed_mentions=NO_MENTIONS)
            return
        answer_id = remember_answer(self.bot, answer)
        await message.reply(embeds=answer_embeds(answer), view=answer_view(answer, answer_id), allowed_mentions=NO_MENTIONS)

    async def _tell_privately(self, message: discord.Message, text: str) -> None:
        """A direct message when the member accepts them; otherwise a reply is the only way left."""
        try:
            await message.author.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            await message.reply(text, allowed_mentions=NO_MENTIONS)


def answer_view(answer: Answer, answer_id: str) -> discord.ui.View:
    """Under every answer 👍 and 👎; under a refusal also the menu of the stories it suggests, to read privately."""
    view = vote_buttons(answer_id)
    if answer.suggestions:
        view.add_item(ReadSuggestedStory.offering(answer.suggestions))
    return view


def story_replied_to(message: discord.Message, bot_id: int) -> str | None:
    """The story of the bot's answer that `message` replies to, read from that answer itself (its first card's
    title), so a conversation survives a restart; None when it replies to anything else."""
    replied = message.reference.resolved if message.reference else None
    if isinstance(replied, discord.Message) and replied.author.id == bot_id and replied.embeds and replied.embeds[0].title:
        return replied.embeds[0].title
    return None


async def setup(bot: StoryBot) -> None:
    await bot.add_cog(Answers(bot))
