"""Telling one person something only they should see, whatever state their interaction is in."""

import logging

import discord

from ..rendering import limits

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """A private note (`send_privately`), shortened to fit; a failure to send it is logged, not raised."""
    try:
        await send_privately(interaction, content=limits.shorten(text, limits.MESSAGE_CONTENT))
    except discord.HTTPException:
        # Most often the 15-minute interaction token expired; nothing more can be said to this member.
        log.warning("could not send a private reply to interaction %s", interaction.id, exc_info=True)


async def send_privately(interaction: discord.Interaction, **message) -> None:
    """An ephemeral message (`content`, `embeds`), whether or not the interaction was already acknowledged.

    A public "thinking…" acknowledgement cannot turn private: the first follow-up replaces it with the
    same visibility. So it is deleted first, and the private message is sent as a fresh follow-up.
    """
    if not interaction.response.is_done():
        await interaction.response.send_message(**message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            pass  # already answered or gone; the follow-up below still reaches the member
    await interaction.followup.send(**message, ephemeral=True, allowed_mentions=NO_MENTIONS)
