"""Settings from the environment: every documented variable name works, the token stays secret, blanks mean unset."""

from pathlib import Path

import pytest

from bot.settings import BotSettings

ROOT = Path(__file__).parents[2]


def variable_names() -> dict[str, str]:
    """Each setting's environment variable: its alias (DISCORD_TOKEN), or the prefix and its name in capitals."""
    prefix = BotSettings.model_config["env_prefix"]
    return {name: field.validation_alias or f"{prefix}{name.upper()}" for name, field in BotSettings.model_fields.items()}


def test_settings_come_from_the_environment(monkeypatch):
    values = {
        "DISCORD_TOKEN": "secret-token-value", "STORYBOT_GUILD_ID": "1234", "STORYBOT_ASK_COOLDOWN_RATE": "5",
        "STORYBOT_ASK_COOLDOWN_PER": "12.5", "STORYBOT_INDEX_DIR": "/tmp/storybot-index", "STORYBOT_STORIES_DIR": "/tmp/st",
        "STORYBOT_MODEL": "/models/mini", "STORYBOT_ENCODER_DIR": "/tmp/enc", "STORYBOT_INFERENCE_THREADS": "4",
        "STORYBOT_POLL_SECONDS": "0",
    }
    assert set(values) == set(variable_names().values())  # every setting is set here, by its documented name
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = BotSettings(_env_file=None)
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
    settings = BotSettings(_env_file=None)
    assert settings.discord_token is None and settings.guild_id is None


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_a_blank_value_means_the_default_for_every_setting(monkeypatch, blank):
    for name in variable_names().values():
        monkeypatch.setenv(name, blank)
    assert BotSettings(_env_file=None) == BotSettings.model_construct()


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
