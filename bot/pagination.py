"""The `/stories` list: one page at a time, with Previous and Next buttons."""

import math
from collections.abc import Sequence

import discord

from index import AnswerStory

from .private_replies import NO_MENTIONS
from .rendering.embeds import catalog_page_embed


class CatalogPages(discord.ui.View):
    def __init__(self, stories: Sequence[AnswerStory], *, per_page: int, timeout: float = 600) -> None:
        super().__init__(timeout=timeout)
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
