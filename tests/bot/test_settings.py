"""Settings from the environment: every documented variable name works, the token stays secret, blanks mean unset."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import BotSettings

ROOT = Path(__file__).parents[2]


def variable_names() -> dict[str, str]:
    """Each setting's environment variable: its alias (DISCORD_TOKEN), or the prefix and its name in capitals."""
    return {name: BotSettings.variable(name) for name in BotSettings.model_fields}


def test_settings_come_from_the_environment(monkeypatch):
    values = {
        "DISCORD_TOKEN": "secret-token-value", "STORYBOT_GUILD_ID": "1234", "STORYBOT_ASK_COOLDOWN_RATE": "5",
        "STORYBOT_ASK_COOLDOWN_PER": "12.5", "STORYBOT_INDEX_DIR": "/tmp/storybot-index", "STORYBOT_STORIES_DIR": "/tmp/st",
        "STORYBOT_MODEL": "/models/mini", "STORYBOT_ENCODER_DIR": "/tmp/enc", "STORYBOT_INFERENCE_THREADS": "4",
        "STORYBOT_POLL_SECONDS": "0", "STORYBOT_FEED_CHANNEL_ID": "1100000000000000006",
        "STORYBOT_SHARD_COUNT": "2", "STORYBOT_SHARD_IDS": "1",
    }
    assert set(values) == set(variable_names().values())  # every setting is set here, by its documented name
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = BotSettings(_env_file=None)
    assert (settings.feed_channel_id, settings.shard_count, settings.shard_ids) == (1100000000000000006, 2, [1])
    assert settings.discord_token.get_secret_value() == "secret-token-value"
    assert (settings.guild_id, settings.ask_cooldown_rate, settings.ask_cooldown_per) == (1234, 5, 12.5)
    assert (settings.index_dir, settings.stories_dir, settings.encoder_dir) == (Path("/tmp/storybot-index"), Path("/tmp/st"), Path("/tmp/enc"))
    assert (settings.model, settings.inference_threads, settings.poll_seconds) == ("/models/mini", 4, 0.0)
    assert "secret-token-value" not in repr(settings) and "secret-token-value" not in str(settings.model_dump())


def test_a_setting_is_read_only_under_its_documented_name(monkeypatch):
    monkeypatch.setenv("STORYBOT_DISCORD_TOKEN", "not-the-token-variable")
    monkeypatch.setenv("GUILD_ID", "1234")
    settings = BotSettings(_env_file=None)
    assert settings.discord_token is None and settings.guild_id is None


def test_blank_values_copied_from_the_example_mean_unset(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "")
    monkeypatch.setenv("STORYBOT_GUILD_ID", " ")
    monkeypatch.setenv("STORYBOT_FEED_CHANNEL_ID", "")
    settings = BotSettings(_env_file=None)
    assert settings.discord_token is None and settings.guild_id is None and settings.feed_channel_id is None


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_a_blank_value_means_the_default_for_every_setting(monkeypatch, blank):
    for name in variable_names().values():
        monkeypatch.setenv(name, blank)
    assert BotSettings(_env_file=None) == BotSettings.model_construct()


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
    ("0", None, "shard_count"),
])
def test_shard_settings_that_cannot_work_stop_the_bot_with_what_is_wrong(monkeypatch, count, ids, message):
    for name, value in (("STORYBOT_SHARD_COUNT", count), ("STORYBOT_SHARD_IDS", ids)):
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        BotSettings(_env_file=None)


def test_a_blank_value_in_the_env_file_means_the_default(tmp_path, monkeypatch):
    for name in variable_names().values():
        monkeypatch.delenv(name, raising=False)  # the environment wins over the file
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=\nSTORYBOT_ENCODER_DIR=\nSTORYBOT_POLL_SECONDS=5\n", encoding="utf-8")
    settings = BotSettings(_env_file=env_file)
    assert (settings.discord_token, settings.encoder_dir, settings.poll_seconds) == (None, None, 5.0)


def test_the_env_example_and_the_readme_document_every_setting():
    example, readme = (ROOT / ".env.example").read_text(), (ROOT / "README.md").read_text()
    for variable in variable_names().values():
        assert f"\n{variable}=" in example
        assert f"`{variable}`" in readme
