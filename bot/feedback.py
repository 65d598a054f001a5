"""👍 / 👎 under every answer, kept in the records (index/records.py) and working across restarts.

Each button is a `DynamicItem`: its custom_id carries the answer's id and the vote, and the bot registers
the class at start (`add_dynamic_items`), so a click on a message sent before a restart still arrives
here. What the answer showed is saved when it is sent, so a vote needs nothing from memory.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from index import Answer
from index.records import DOWN, UP

from .private_replies import reply_privately

if TYPE_CHECKING:
    from .bot import StoryBot

log = logging.getLogger(__name__)

VOTES = {"up": (UP, "👍"), "down": (DOWN, "👎")}


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"storybot:vote:(?P<answer>[0-9a-f]{32}):(?P<vote>up|down)"):
    def __init__(self, answer_id: str, vote: str) -> None:
        self.answer_id, self.vote = answer_id, vote
        super().__init__(discord.ui.Button(
            style=discord.ButtonStyle.secondary, emoji=VOTES[vote][1], custom_id=f"storybot:vote:{answer_id}:{vote}",
        ))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match) -> "VoteButton":
        return cls(match["answer"], match["vote"])

    async def callback(self, interaction: discord.Interaction["StoryBot"]) -> None:
        value, emoji = VOTES[self.vote]
        try:
            known = await asyncio.to_thread(interaction.client.records.vote, self.answer_id, interaction.user.id, value)
        except Exception:
            log.exception("could not record a vote on answer %s", self.answer_id)
            await reply_privately(interaction, "Sorry, I couldn't record that vote. Please try again later.")
            return
        if not known:
            await reply_privately(interaction, "Sorry, I no longer have that answer on record, so I can't count the vote.")
            return
        await reply_privately(interaction, f"Thanks — recorded {emoji}")


async def feedback_view(bot: "StoryBot", answer: Answer) -> discord.ui.View:
    """The vote buttons for an answer about to be sent, after saving what it shows.

    If the answer cannot be saved the answer still goes out, without buttons: feedback never costs a member
    their answer.
    """
    view = discord.ui.View(timeout=None)
    try:
        answer_id = await asyncio.to_thread(bot.records.save_answer, answer)
    except Exception:
        log.exception("could not save an answer for feedback; sending it without vote buttons")
        return view
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view
