"""The `/stories` list: one page at a time, with Previous and Next buttons.

Only the member who asked can turn the pages; after `timeout` seconds the buttons are disabled, so a
click on a stale list is never left unanswered.
"""

import math
from collections.abc import Sequence

import discord

from index import AnswerStory

from ..rendering.embeds import catalog_page_embed
from .messages import NO_MENTIONS


class CatalogPages(discord.ui.View):
    def __init__(self, stories: Sequence[AnswerStory], *, per_page: int, owner_id: int, timeout: float = 600) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.shown_in: discord.Interaction | None = None  # the interaction the list was sent in (to disable it later)
        self.stories = stories
        self.per_page = per_page
        self.pages = max(1, math.ceil(len(stories) / per_page))
        self.page = 0
        self._update_buttons()

    def page_embed(self) -> discord.Embed:
        start = self.page * self.per_page
        return catalog_page_embed(
            self.stories[start : start + self.per_page], page=self.page, pages=self.pages, total=len(self.stories)
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("This list is someone else's; use /stories for your own.", ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)
        return False

    async def on_timeout(self) -> None:
        for button in (self.previous_page, self.next_page):
            button.disabled = True
        if self.shown_in is not None:
            try:
                await self.shown_in.edit_original_response(view=self)
            except discord.HTTPException:
                pass  # the message is gone or the token expired: nothing left to disable

    def _update_buttons(self) -> None:
        self.previous_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= self.pages - 1

    async def _show_page(self, interaction: discord.Interaction, page: int) -> None:
        self.page = min(max(page, 0), self.pages - 1)
        self._update_buttons()
        await interaction.response.edit_message(embed=self.page_embed(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show_page(interaction, self.page - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._show_page(interaction, self.page + 1)
