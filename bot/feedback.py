"""👍 / 👎 under every answer, kept in the records (bot/records.py) and working across restarts.

Each button is a `DynamicItem`: its custom_id carries the answer's id and the vote, and the bot registers
the class at start (`add_dynamic_items`), so a click on a message sent before a restart still arrives
here. What the answer showed is saved while it is sent, so a vote needs nothing from memory.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from index import Answer

from .records import DOWN, UP, Records, RecordsUnavailable
from .utils.messages import reply_privately

if TYPE_CHECKING:
    from .bot import StoryBot

log = logging.getLogger(__name__)

VOTES = {"up": (UP, "👍"), "down": (DOWN, "👎")}
VOTES_UNAVAILABLE = "Sorry, votes are unavailable right now; the problem has been logged."


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
        if saving := interaction.client.saving_answers.get(self.answer_id):
            await saving  # clicked before the answer was saved (it waits at most SAVE_BUSY_SECONDS)
        try:
            known = await asyncio.to_thread(interaction.client.records.vote, self.answer_id, interaction.user.id, value)
        except RecordsUnavailable:  # logged once by the records
            await reply_privately(interaction, VOTES_UNAVAILABLE)
            return
        except Exception:
            log.exception("could not record a vote on answer %s", self.answer_id)
            await reply_privately(interaction, "Sorry, I couldn't record that vote. Please try again later.")
            return
        if not known:
            await reply_privately(interaction, "Sorry, I no longer have that answer on record, so I can't count the vote.")
            return
        await reply_privately(interaction, f"Thanks — recorded {emoji}")


def vote_buttons(answer_id: str) -> discord.ui.View:
    """👍 and 👎 for the answer that will be saved under `answer_id`."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up"))
    view.add_item(VoteButton(answer_id, "down"))
    return view


def remember_answer(bot: "StoryBot", answer: Answer) -> str:
    """Start saving what an answer shows and return the id its vote buttons carry.

    The answer is sent meanwhile, so the records never delay it; a vote that arrives before the save is done
    waits for it (`saving`). If the answer cannot be saved, a vote on it is answered politely instead of counted.
    """
    answer_id = bot.records.new_answer_id()
    saving = asyncio.ensure_future(asyncio.to_thread(_save, bot.records, answer, answer_id))
    bot.saving_answers[answer_id] = saving  # also keeps the task referenced until it is done
    saving.add_done_callback(lambda _: bot.saving_answers.pop(answer_id, None))
    return answer_id


def _save(records: Records, answer: Answer, answer_id: str) -> None:
    try:
        records.save_answer(answer, answer_id)
    except RecordsUnavailable:
        pass  # logged once by the records
    except Exception:
        log.exception("could not save answer %s for feedback", answer_id)
