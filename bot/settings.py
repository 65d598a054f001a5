"""The bot's settings: the index's settings plus what it takes to be on Discord.

Subclassing `IndexSettings` keeps one source of truth (env and `.env`) for where the stories and the
index live, so `python -m index` and `python -m bot` never disagree, and one rule for blanks (unset).
"""

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, SecretStr

from index import IndexSettings


class BotSettings(IndexSettings):
    # SecretStr so that logging or printing the settings can never reveal the token.
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    # Guild commands appear at once; global ones can take up to an hour to reach every server.
    guild_id: int | None = Field(None, validation_alias="STORYBOT_GUILD_ID")
    ask_cooldown_rate: PositiveInt = Field(3, validation_alias="STORYBOT_ASK_COOLDOWN_RATE")
    ask_cooldown_per: PositiveFloat = Field(30.0, validation_alias="STORYBOT_ASK_COOLDOWN_PER")
    # Threads for model inference; more than the CPU count only makes each question slower.
    inference_threads: PositiveInt = Field(2, validation_alias="STORYBOT_INFERENCE_THREADS")
    # How often the stories directory is checked for files edited or dropped in by hand; 0 turns it off.
    poll_seconds: NonNegativeFloat = Field(30.0, validation_alias="STORYBOT_POLL_SECONDS")
    # Where every story added or updated is announced (its card, or what changed); unset means no feed.
    feed_channel_id: PositiveInt | None = Field(None, validation_alias="STORYBOT_FEED_CHANNEL_ID")
