"""Read story files: the scraped text format and the same model as JSON.

Scraped stories are messy (a repeated title, indentation, newsletter prompts), so the parser is lenient
about layout and strict about content: anything it cannot trust becomes a `Problem` that names the file
and line, and a file with a fatal problem yields no story at all rather than a half-right one.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from json_source_map import calculate as json_source_map
from pydantic import ValidationError

from .errors import HasProblems, Problem
from .models import Fact, Narrative, Source, Story, title_key, visible_text

MAX_FILE_BYTES = 1_000_000
MAX_CITATION = 9999
LINE_BREAK = re.compile(r"\r\n|\r|\n")
STORY_SUFFIXES = (".txt", ".json")

BULLET = re.compile(r"^(?:[•*]|-(?!-))\s*(?P<text>.*)$")
# One or more bracketed markers at the very end of a bullet: "[1]", "[2][3]", "[1, 4]", "[2] [5]".
# Matched on the reversed bullet, anchored at its start: a search for "(?:\s*\[[^\[\]]*\])+\s*$" retries
# at every "[" and takes minutes on a long line of markers; this is one linear pass.
TRAILING_CITATIONS_REVERSED = re.compile(r"\s*(?:\][^\[\]]*\[\s*)+")
MARKER = re.compile(r"\[([^\[\]]*)\]")
# Ambiguous on long hyphenated lines (cubic time), so only lines up to MAX_HEADING_CHARS are tried.
MAX_HEADING_CHARS = 120
NARRATIVE_HEADING = re.compile(r"^(?:narrative(?:\s+[\w’'-]+)?|[\w’'-]+(?:[\s-][\w’'-]+){0,2}[\s-]narrative)\s*:?$", re.I)
ARTICLES_HEADING = re.compile(r"^articles\s+on\s+this\s+story\s*:?$", re.I)
UPDATED = re.compile(r"^(?:last\s+)?updated:?\s+(?P<date>.+)$", re.I)
IMAGE_CREDIT = re.compile(r"^image\s+credit:?\s*(?P<credit>.*)$", re.I)
SOURCE_LINE = re.compile(r"^(?:\[(?P<bracketed>\d+)\]|(?P<dotted>\d+)[.)])\s*(?P<rest>.*)$")
# The URL in the parentheses that close the line (itself allowed one level of brackets, as in Wikipedia's):
# a URL earlier on the line belongs to the headline. Each "(" is tried once and stops at the next space or
# bracket, so a megabyte of "(http://" is still linear.
URL = re.compile(r"\((?P<url>https?://[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\)\s*$", re.I)
# The lookbehind starts a match only where a run of spaces starts: without it a long run is quadratic.
OUTLET_SEPARATOR = re.compile(r"(?<!\s)\s+[—–-]\s+|:\s+")
DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %d %Y")
# Lines that scraping drags in from the page around a story; they are never content.
BOILERPLATE = re.compile(
    r"^(?:sign up (?:to|for) our newsletter!?|subscribe(?: now| to our newsletter)?!?|advertisement|"
    r"share this story|read more|cookie settings|accept (?:all )?cookies)$",
    re.I,
)


@dataclass
class ParseResult(HasProblems):
    """What one file gave: a story when nothing fatal was found, and every problem either way."""

    path: Path
    story: Story | None = None
    problems: list[Problem] = field(default_factory=list)


def parse_file(path: Path, display_path: Path | None = None) -> ParseResult:
    """Parse a `.txt` or `.json` story file; `display_path` is the name used in messages."""
    shown = display_path or path
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return ParseResult(shown, problems=[Problem(shown, 1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")])
        data = path.read_bytes()  # a directory, an unreadable file, or one deleted since the stat fails here
    except OSError as exc:
        return ParseResult(shown, problems=[Problem(shown, 0, f"cannot read file: {exc.strerror}")])
    return parse_bytes(data, shown, json_format=path.suffix.lower() == ".json")


def parse_bytes(data: bytes, path: Path, *, json_format: bool = False) -> ParseResult:
    """Parse a story from raw bytes (a file, or an upload that is not on disk yet)."""
    if len(data) > MAX_FILE_BYTES:
        return ParseResult(path, problems=[Problem(path, 1, f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ParseResult(path, problems=[Problem(path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")])
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return ParseResult(path, problems=[Problem(path, line, "not a text file (contains a NUL byte)")])
    if not text.strip():
        return ParseResult(path, problems=[Problem(path, 1, "file is empty")])
    if json_format:
        return _parse_json(text, path)
    return _TextParser(text, path).parse()


def _parse_json(text: str, path: Path) -> ParseResult:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return ParseResult(path, problems=[Problem(path, exc.lineno, f"invalid JSON: {exc.msg}")])
    except (ValueError, RecursionError) as exc:  # a number of thousands of digits; arrays nested thousands deep
        return ParseResult(path, problems=[Problem(path, 1, f"invalid JSON: {str(exc)[:80]}")])
    if not isinstance(raw, dict):
        return ParseResult(path, problems=[Problem(path, 1, "JSON story must be an object")])
    raw.pop("source_file", None)
    given_id = raw.pop("id", None)
    try:
        story = Story.model_validate({**raw, "source_file": str(path)})
    except ValidationError as exc:
        lines = _json_lines(text)
        problems = []
        for err in exc.errors():
            location = list(err["loc"])
            if err["type"] == "fact_index":  # reported on the list, about one bullet in it
                location += [err["ctx"]["position"] - 1, "index"]
            problems.append(Problem(path, _line_of(lines, location), f"{_field_name(location)}: {err['msg']}"))
        return ParseResult(path, problems=problems)
    problems = _soft_problems(story, path, {})
    if given_id not in (None, "", story.id):
        line = _line_of(_json_lines(text), ["id"])
        problems.insert(0, Problem(path, line, "id is ignored: a story's id always comes from its title", fatal=False))
    return ParseResult(path, story=story, problems=problems)


def _json_lines(text: str) -> dict[str, int]:
    """Each JSON pointer ("/facts/0/index") to the 1-based line of its value; empty if the map cannot be made."""
    try:
        return {pointer: entry.value_start.line + 1 for pointer, entry in json_source_map(text).items()}
    except Exception:  # noqa: BLE001 (json.loads accepted the text; the map is only a convenience for messages)
        return {}


def _line_of(lines: dict[str, int], location: list) -> int:
    """The line of the deepest part of `location` the document has (a missing field: its parent's line)."""
    for depth in range(len(location), 0, -1):
        pointer = "/" + "/".join(str(part) for part in location[:depth])
        if pointer in lines:
            return lines[pointer]
    return 1


def _field_name(location: list) -> str:
    """('facts', 0, 'index') -> 'facts[0].index'."""
    name = ""
    for part in location:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name or "story"


def parse_citations(markers: str) -> tuple[list[int], list[str]]:
    """`"[2][3]"` or `"[1, 4]"` to `[2, 3]` / `[1, 4]`; the second list names markers that are not numbers."""
    numbers: list[int] = []
    bad: list[str] = []
    for inside in MARKER.findall(markers):
        parts = [part.strip() for part in inside.split(",")]
        for part in parts:
            # The length test comes first: int() of thousands of digits raises ValueError.
            if part.isdigit() and part.isascii() and len(part.lstrip("0")) <= len(str(MAX_CITATION)) and 1 <= int(part) <= MAX_CITATION:
                if int(part) not in numbers:
                    numbers.append(int(part))
            else:
                bad.append(f"[{inside}]")
                break
    return numbers, bad


class _TextParser:
    """One pass over the lines, section by section: header, facts, narratives, articles."""

    def __init__(self, text: str, path: Path):
        self.path = path
        # Only CR, LF and CRLF end a line, as in an editor; splitlines() would also split on form feeds,
        # U+2028 and the like, and every line number after one would be wrong.
        self.lines = [line.strip() for line in LINE_BREAK.split(text)]
        if self.lines and not self.lines[-1]:
            self.lines.pop()
        self.problems: list[Problem] = []
        self.title: str | None = None
        self.updated: date | None = None
        self.image_credit: str | None = None
        self.facts: list[tuple[int, str]] = []  # (line, bullet text with its markers)
        self.narratives: list[tuple[int, str, list[str]]] = []  # (line, label, paragraphs)
        self.sources: dict[int, Source] = {}
        self.citation_lines: dict[int, int] = {}

    def problem(self, line: int, message: str, *, fatal: bool = True) -> None:
        self.problems.append(Problem(self.path, line, message, fatal))

    def parse(self) -> ParseResult:
        section = "header"
        for number, line in enumerate(self.lines, start=1):
            if not line or BOILERPLATE.match(line):
                if section == "narratives" and self.narratives and self.narratives[-1][2][-1]:
                    self.narratives[-1][2].append("")  # a blank line ends a paragraph
                continue
            if ARTICLES_HEADING.match(line):
                section = "articles"
            elif len(line) <= MAX_HEADING_CHARS and NARRATIVE_HEADING.match(line) and section != "articles":
                section = "narratives"
                self.narratives.append((number, line.rstrip(":").strip(), [""]))
            elif section == "articles":
                self._source(number, line)
            elif section == "narratives":
                paragraphs = self.narratives[-1][2]
                paragraphs[-1] = f"{paragraphs[-1]} {line}".strip()
            elif bullet := BULLET.match(line):
                section = "facts"
                self.facts.append((number, bullet["text"]))
            elif section == "header":
                self._header(number, line)
            else:  # a wrapped bullet continues on the next line
                fact_line, text = self.facts[-1]
                self.facts[-1] = (fact_line, f"{text} {line}")
        return self._result()

    def _header(self, number: int, line: str) -> None:
        if self.title is None:
            if UPDATED.match(line) or IMAGE_CREDIT.match(line) or not visible_text(line):
                self.problem(number, "no title: the first line must be the story's title")
                self.title = ""
            else:
                self.title = visible_text(line)
            return
        if title_key(line) == title_key(self.title):
            return  # scraped pages repeat the title above the date
        if match := UPDATED.match(line):
            self.updated = self._date(number, match["date"])
        elif match := IMAGE_CREDIT.match(line):
            self.image_credit = match["credit"].strip() or None
        else:
            self.problem(number, f"unrecognised line before the first bullet ignored: {line[:60]!r}", fatal=False)

    def _date(self, number: int, text: str) -> date | None:
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text.strip(), fmt).date()
            except ValueError:
                continue
        self.problem(number, f"unrecognised date {text.strip()[:40]!r} (expected e.g. 'May 29, 2023')", fatal=False)
        return None

    def _split_citations(self, number: int, text: str) -> tuple[str, list[int]]:
        """Take the trailing citation markers off a bullet."""
        markers = TRAILING_CITATIONS_REVERSED.match(text[::-1])
        if not markers:
            return text, []
        start = len(text) - markers.end()
        citations, bad = parse_citations(text[start:])
        for marker in bad:
            shown = marker if len(marker) <= 24 else f"{marker[:20]}…]"
            self.problem(number, f"citation {shown} is not a number from 1 to {MAX_CITATION}")
        return text[:start].rstrip(), citations

    def _source(self, number: int, line: str) -> None:
        match = SOURCE_LINE.match(line)
        if not match:
            self.problem(number, f"line under 'Articles on this story' is not a source, ignored: {line[:60]!r}", fatal=False)
            return
        digits = match["bracketed"] or match["dotted"]
        if len(digits.lstrip("0")) > len(str(MAX_CITATION)):  # and int() of thousands of digits raises
            self.problem(number, f"source number {digits[:12]}… is not from 1 to {MAX_CITATION}", fatal=False)
            return
        citation = int(digits)
        rest = match["rest"].strip()
        url_match = URL.search(rest)
        url = url_match["url"] if url_match else None
        if url_match:
            rest = (rest[: url_match.start()] + rest[url_match.end():]).strip()
        parts = OUTLET_SEPARATOR.split(rest, maxsplit=1)
        outlet, headline = (parts[0].strip() or None, parts[1].strip() or None) if len(parts) == 2 else (None, rest or None)
        if citation in self.sources:
            self.problem(number, f"source [{citation}] is listed twice; the first is kept", fatal=False)
            return
        if not 1 <= citation <= MAX_CITATION:
            self.problem(number, f"source number {citation} is not from 1 to {MAX_CITATION}", fatal=False)
            return
        self.sources[citation] = Source(number=citation, outlet=outlet, headline=headline, url=url)

    def _result(self) -> ParseResult:
        if not self.title:
            if self.title is None:
                self.problem(1, "no title: the file has no line before its first bullet")
        if not self.facts:
            self.problem(len(self.lines) or 1, "no bullets: a story needs at least one fact line starting with •, - or *")
        facts = [(number, *self._split_citations(number, text)) for number, text in self.facts]
        for number, text, _ in facts:
            if not visible_text(text):
                self.problem(number, "empty bullet")
        for label_line, label, paragraphs in self.narratives:
            if not visible_text(" ".join(paragraphs)):
                self.problem(label_line, f"narrative {label!r} has no text", fatal=False)
        if any(p.fatal for p in self.problems):
            return ParseResult(self.path, problems=self.problems)
        story = Story(
            title=self.title,
            updated=self.updated,
            image_credit=self.image_credit,
            facts=[Fact(index=i, text=text, citations=cites) for i, (_, text, cites) in enumerate(facts, 1)],
            narratives=[
                Narrative(label=label, text="\n\n".join(p for p in paragraphs if p))
                for _, label, paragraphs in self.narratives
                if visible_text(" ".join(paragraphs))
            ],
            sources=sorted(self.sources.values(), key=lambda s: s.number),
            source_file=str(self.path),
        )
        fact_lines = {i: line for i, (line, _) in enumerate(self.facts, 1)}
        heading_line = self.narratives[0][0] if self.narratives else len(self.lines)
        return ParseResult(self.path, story, self.problems + _soft_problems(story, self.path, fact_lines, heading_line))


def _soft_problems(story: Story, path: Path, fact_lines: dict[int, int], heading_line: int = 1) -> list[Problem]:
    """Warnings: the story is usable, but an editor should look."""
    problems = []
    for fact in story.facts:
        line = fact_lines.get(fact.index, 1)
        if not fact.citations:
            problems.append(Problem(path, line, f"bullet {fact.index} has no citation", fatal=False))
        elif story.sources:
            for number in fact.citations:
                if story.source(number) is None:
                    problems.append(Problem(path, line, f"citation [{number}] has no listed source", fatal=False))
    if len(story.narratives) < 2:
        problems.append(Problem(path, heading_line, f"{len(story.narratives)} narrative(s); a story should show two", fatal=False))
    return problems
