"""The bot's settings: the index's settings plus what it takes to be on Discord.

Subclassing `IndexSettings` keeps one source of truth (env and `.env`, the `STORYBOT_` prefix, blanks
meaning unset) for where the stories and the index live, so `python -m index` and `python -m bot` never disagree.
"""

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, SecretStr

from index import IndexSettings


class BotSettings(IndexSettings):
    # SecretStr so that logging or printing the settings can never reveal the token. Its name is Discord's
    # usual one, without the prefix.
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    # Guild commands appear at once; global ones can take up to an hour to reach every server.
    guild_id: int | None = None
    ask_cooldown_rate: PositiveInt = 3
    ask_cooldown_per: PositiveFloat = 30.0
    # Threads for model inference; more than the CPU count only makes each question slower.
    inference_threads: PositiveInt = 2
    # How often the stories directory is checked for files edited or dropped in by hand; 0 turns it off.
    poll_seconds: NonNegativeFloat = 30.0
