"""Settings from the environment: the token stays secret, blanks mean unset."""

from pathlib import Path

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
