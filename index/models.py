"""The story as the knowledge base keeps it.

A story is parsed once from a text or JSON file and then only read; everything the product shows is
copied verbatim from these fields, which is what keeps the answers extractive.
"""

import hashlib
import re
import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError


def visible_text(text: str) -> str:
    """Without invisible format characters (zero-width spaces and joiners, bidi marks), whitespace collapsed."""
    return re.sub(r"\s+", " ", "".join(c for c in text if unicodedata.category(c) != "Cf")).strip()


def title_key(title: str) -> str:
    """The one form titles are compared and ids derived by: titles that look the same (NFKC, spacing,
    invisible characters, case) have one key. The title shown stays as written, less invisible characters."""
    return visible_text(unicodedata.normalize("NFKC", title)).casefold()


def story_id_for(title: str) -> str:
    """A stable id from the title, so an updated story (same title) replaces the old one."""
    ascii_title = unicodedata.normalize("NFKD", title_key(title)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].strip("-")
    digest = hashlib.sha1(title_key(title).encode()).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def _has_visible_text(text: str) -> str:
    if not visible_text(text):
        raise ValueError("no visible text")
    return text


# Shown as it is (an embed field or a bullet), so it must show something: Discord refuses a blank field.
VisibleText = Annotated[str, AfterValidator(_has_visible_text)]


class Source(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    outlet: str | None = None
    headline: str | None = None
    url: str | None = None


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=1, description="1-based position of the bullet in its story")
    text: VisibleText = Field(description="the bullet, verbatim, without its citation markers")
    citations: list[int] = Field(default_factory=list)


class Narrative(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: VisibleText = Field(description="the heading exactly as written, e.g. 'Narrative A'")
    text: VisibleText


class Story(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = ""
    title: str = Field(min_length=1)
    updated: date | None = None
    image_credit: str | None = None
    facts: list[Fact] = Field(min_length=1)
    narratives: list[Narrative] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    source_file: str | None = None

    @field_validator("title")
    @classmethod
    def _visible_title(cls, title: str) -> str:
        title = visible_text(title)
        if not title:
            raise ValueError("title has no visible characters")
        return title

    @field_validator("facts")
    @classmethod
    def _facts_numbered_in_order(cls, facts: list[Fact]) -> list[Fact]:
        """A fact's index is its position: `answer_fact` looks bullets up by it, and cards show them in order."""
        for position, fact in enumerate(facts, 1):
            if fact.index != position:
                raise PydanticCustomError(
                    "fact_index", "bullet {position} is numbered {index}; number the facts 1, 2, 3… in their order",
                    {"position": position, "index": fact.index},
                )
        return facts

    @model_validator(mode="after")
    def _derive_id(self) -> "Story":
        """Always from the title, whatever was given: an id names the story's file and finds it by title."""
        object.__setattr__(self, "id", story_id_for(self.title))
        return self

    def source(self, number: int) -> Source | None:
        return next((s for s in self.sources if s.number == number), None)

    def content_hash(self) -> str:
        """Hash of what is embedded and shown; the file name is not content, so a rename re-embeds nothing."""
        content = self.model_dump_json(exclude={"source_file"})
        return hashlib.sha256(content.encode()).hexdigest()
