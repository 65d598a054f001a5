"""Errors the library raises; each message is meant to be shown to a person as it is."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one story file, located so an editor can jump to it."""

    path: Path
    line: int
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def short(self) -> str:
        """Without the path: for a moderator who just uploaded the file."""
        return f"line {self.line}: {self.message}"


class HasProblems:
    """Something that collected problems: the fatal ones stop a build, the rest are warnings."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.fatal]


class StoryFileError(Exception):
    """A story file (or several) could not be read; `problems` holds every fatal problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class IndexFormatError(Exception):
    """The index on disk cannot be used as it is: missing, corrupt, or built by another model or format."""


class QuestionError(ValueError):
    """A question that cannot be asked: empty or too long."""
