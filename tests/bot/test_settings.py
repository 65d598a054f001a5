"""Settings from the environment: the token stays secret, blanks mean unset."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import BotSettings


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token-value")
    monkeypatch.setenv("STORYBOT_GUILD_ID", "1234")
    monkeypatch.setenv("STORYBOT_ASK_COOLDOWN_RATE", "5")
    monkeypatch.setenv("STORYBOT_ASK_COOLDOWN_PER", "12.5")
    monkeypatch.setenv("STORYBOT_INDEX_DIR", "/tmp/storybot-index")
    monkeypatch.setenv("STORYBOT_FEED_CHANNEL_ID", "1100000000000000006")
    settings = BotSettings(_env_file=None)
    assert settings.feed_channel_id == 1100000000000000006
    assert settings.discord_token.get_secret_value() == "secret-token-value"
    assert (settings.guild_id, settings.ask_cooldown_rate, settings.ask_cooldown_per) == (1234, 5, 12.5)
    assert settings.index_dir == Path("/tmp/storybot-index")
    assert "secret-token-value" not in repr(settings) and "secret-token-value" not in str(settings.model_dump())


def test_blank_values_copied_from_the_example_mean_unset(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "")
    monkeypatch.setenv("STORYBOT_GUILD_ID", " ")
    monkeypatch.setenv("STORYBOT_FEED_CHANNEL_ID", "")
    settings = BotSettings(_env_file=None)
    assert settings.discord_token is None and settings.guild_id is None and settings.feed_channel_id is None


def test_the_env_example_documents_every_setting():
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    for field in BotSettings.model_fields.values():
        assert f"{field.validation_alias}=" in example


def test_a_blank_value_means_the_default_for_every_setting(monkeypatch):
    for name in ("STORYBOT_ENCODER_DIR", "STORYBOT_POLL_SECONDS", "STORYBOT_STORIES_DIR"):
        monkeypatch.setenv(name, " ")
    settings = BotSettings(_env_file=None)
    assert (settings.encoder_dir, settings.poll_seconds, settings.stories_dir) == (None, 30.0, Path("seeds"))


def test_shards_are_read_as_a_count_and_a_list_of_ids_or_ranges(monkeypatch):
    monkeypatch.setenv("STORYBOT_SHARD_COUNT", "8")
    monkeypatch.setenv("STORYBOT_SHARD_IDS", "0-2, 5,7")
    settings = BotSettings(_env_file=None)
    assert (settings.shard_count, settings.shard_ids) == (8, [0, 1, 2, 5, 7])


def test_no_shard_settings_mean_one_shard_and_a_count_alone_means_every_shard(monkeypatch):
    assert (BotSettings(_env_file=None).shard_count, BotSettings(_env_file=None).shard_ids) == (None, None)
    monkeypatch.setenv("STORYBOT_SHARD_COUNT", "3")
    monkeypatch.setenv("STORYBOT_SHARD_IDS", "")  # as copied from .env.example
    assert (BotSettings(_env_file=None).shard_count, BotSettings(_env_file=None).shard_ids) == (3, None)


@pytest.mark.parametrize(("count", "ids", "message"), [
    (None, "1", "STORYBOT_SHARD_IDS needs STORYBOT_SHARD_COUNT"),
    ("2", "2", "STORYBOT_SHARD_IDS [2] outside 0..1 (STORYBOT_SHARD_COUNT=2)"),
    ("4", "1,5-6", "STORYBOT_SHARD_IDS [5, 6] outside 0..3"),
    ("2", "1,1", "names a shard twice"),
    ("2", "one", "'one' is not a shard id or a range of them"),
    ("4", "3-1", "'3-1' is not a shard id or a range of them"),
    ("4", "-1", "'-1' is not a shard id or a range of them"),
    ("0", None, "STORYBOT_SHARD_COUNT"),
])
def test_shard_settings_that_cannot_work_stop_the_bot_with_what_is_wrong(monkeypatch, count, ids, message):
    for name, value in (("STORYBOT_SHARD_COUNT", count), ("STORYBOT_SHARD_IDS", ids)):
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        BotSettings(_env_file=None)
