"""The bot's settings: the index's settings plus what it takes to be on Discord.

Subclassing `IndexSettings` keeps one source of truth (env and `.env`, the `STORYBOT_` prefix, blanks
meaning unset) for where the stories and the index live, so `python -m index` and `python -m bot` never disagree.
"""

from typing import Annotated

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

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
    # Where every story added or updated is announced (its card, or what changed); unset means no feed.
    feed_channel_id: PositiveInt | None = None
    # Sharding: how many shards the bot has in all, and which of them this process runs ("0,1" or "0-3");
    # no count means one shard, no ids mean every shard of the count in this process.
    shard_count: PositiveInt | None = None
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_id_list(cls, value: object) -> object:
        """`0,2,5` or `0-3` or both (`0-3,8`) into a list of ints; anything else is left to pydantic to refuse."""
        if not isinstance(value, str):
            return value
        ids: list[int] = []
        for part in value.split(","):
            first, dash, last = part.strip().partition("-")
            if not (first.isdigit() and (not dash or (last.isdigit() and int(last) >= int(first)))):
                raise ValueError(f"{part.strip()!r} is not a shard id or a range of them: write them like 0,1 or 0-3")
            ids.extend(range(int(first), int(last) + 1) if dash else [int(first)])
        return ids

    @model_validator(mode="after")
    def _shards_within_the_count(self) -> "BotSettings":
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("STORYBOT_SHARD_IDS needs STORYBOT_SHARD_COUNT: the ids are shards of a total this process must know")
        if not self.shard_ids:
            raise ValueError("STORYBOT_SHARD_IDS names no shard")
        if outside := sorted({i for i in self.shard_ids if not 0 <= i < self.shard_count}):
            raise ValueError(f"STORYBOT_SHARD_IDS {outside} outside 0..{self.shard_count - 1} (STORYBOT_SHARD_COUNT={self.shard_count})")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(f"STORYBOT_SHARD_IDS names a shard twice: {self.shard_ids}")
        return self
