"""Fuzzing the parser: whatever a story file holds, the outcome is a story or `path:line:` errors, fast.

Never an exception escaping and never a hang: random bytes, random text built from the format's own
pieces (bullets, headings and citation markers in the wrong places, odd Unicode), well-formed stories
that must come back exactly, the same stories with one bad citation marker, and lines of a megabyte.
"""

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from index.parser import MAX_FILE_BYTES, NARRATIVE_HEADING, parse_bytes, parse_file

PATH = Path("stories/fuzzed.txt")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def editor_lines(data: bytes) -> int:
    """How many lines an editor shows: only CR, LF and CRLF end a line."""
    return len(re.split(rb"\r\n|\r|\n", data))


def check_outcome(result, data: bytes, path: Path = PATH) -> None:
    """A story and no fatal problem, or no story and at least one; every problem printed `path:line: message`."""
    assert (result.story is None) == bool(result.errors), result.problems
    for problem in result.problems:
        text = str(problem)
        assert text.startswith(f"{path}:{problem.line}: "), text
        assert problem.message.strip() and "\n" not in text and len(text) < 400, text
        assert 1 <= problem.line <= editor_lines(data), (problem, editor_lines(data))
    if result.story is not None:
        assert result.story.title.strip() and result.story.facts
        assert all(fact.text.strip() for fact in result.story.facts)
        assert all(1 <= n <= 9999 for fact in result.story.facts for n in fact.citations)


# ---------------------------------------------------------------- anything at all


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_story_or_located_errors(data):
    check_outcome(parse_bytes(data, PATH), data)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_json_give_a_story_or_located_errors(data):
    check_outcome(parse_bytes(data, PATH, json_format=True), data)


PIECES = [
    "•", "-", "*", "--", "- ", "[1]", "[0]", "[99999999999]", "[ ]", "[]", "[1, 4]", "[2][3]", "[1] [5]", "[", "]", "[-1]",
    "[1.5]", "[١]", "[²]", "[" + "9" * 5000 + "]", "Narrative A", "Left narrative", "Pro-union narrative:", "narrative",
    "Articles on this story", "Last updated May 29, 2023", "Updated: yesterday", "Image credit:", "Image credit: Someone",
    "[1] Outlet — Headline (https://example.org/a)", "1.", "2)", "[12] Outlet: (http://", "Sign up to our newsletter!",
    ":", "—", "\u200b", "\u200d", "\u202e", "\ufeff", "\u00ad", "é", "e\u0301", "🙂", "👨‍👩‍👧", "\u2028", "\u2029", "\x85",
    "\x0c", "\x0b", "\t", " ", "\r", "\r\n", "١٢", "Ⅻ", "word", "Title", "@everyone", "**bold**", "`code`", "\\",
]
line = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=8).map(" ".join)
document = st.lists(line, max_size=40).map("\n".join)


@FUZZ
@given(document)
def test_pieces_of_the_format_in_any_order_give_a_story_or_located_errors(text):
    data = text.encode("utf-8")
    check_outcome(parse_bytes(data, PATH), data)


@FUZZ
@given(document, st.data())
def test_a_truncated_story_gives_a_story_or_located_errors(text, data):
    raw = text.encode("utf-8")
    cut = raw[: data.draw(st.integers(0, len(raw)))]  # cut anywhere, even inside a UTF-8 sequence
    check_outcome(parse_bytes(cut, PATH), cut)


# ---------------------------------------------------------------- well-formed stories come back exactly

word = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=9)
phrase = st.lists(word, min_size=1, max_size=7).map(" ".join)
citations = st.lists(st.integers(1, 9999), min_size=1, max_size=3, unique=True)


@st.composite
def stories(draw):
    title = "Story " + draw(phrase)
    facts = [("Fact " + draw(phrase), draw(citations)) for _ in range(draw(st.integers(1, 6)))]
    narratives = [
        (draw(st.sampled_from(["Narrative A", "Narrative B", "Left narrative", "Pro-union narrative"])),
         ["Text " + draw(phrase) for _ in range(draw(st.integers(1, 3)))])
        for _ in range(draw(st.integers(0, 3)))
    ]
    for text in [title, *(t for t, _ in facts), *(p for _, ps in narratives for p in ps)]:
        assume(not NARRATIVE_HEADING.match(text))
    return title, facts, narratives


@st.composite
def rendered(draw, story):
    """The story as a scraped file, with the layout freedoms the format allows."""
    title, facts, narratives = story
    bullet, indent = draw(st.sampled_from(["•", "-", "*"])), draw(st.sampled_from(["", "  ", "\t"]))
    style = draw(st.sampled_from(["{}", "[{}]", "[{}] "]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [title] + ([title] if draw(st.booleans()) else []) + ["Last updated May 29, 2023", "Image credit: Wikimedia Commons", ""]
    fact_lines = []
    for text, cites in facts:
        markers = ", ".join(map(str, cites)).join("[]") if style == "{}" else "".join(style.format(n) for n in cites).strip()
        fact_lines.append(len(lines) + 1)
        lines.append(f"{indent}{bullet} {text} {markers}")
        if draw(st.booleans()):
            lines.append("Sign up to our newsletter!")
    for label, paragraphs in narratives:
        lines += ["", label]
        for paragraph in paragraphs:
            lines += [indent + paragraph, ""]
    return newline.join(lines) + newline, fact_lines


@FUZZ
@given(stories(), st.data())
def test_a_well_formed_story_comes_back_exactly(story, data):
    title, facts, narratives = story
    text, _ = data.draw(rendered(story))
    result = parse_bytes(text.encode("utf-8"), PATH)
    check_outcome(result, text.encode("utf-8"))
    assert result.errors == []
    parsed = result.story
    assert parsed.title == title
    assert [(f.text, f.citations) for f in parsed.facts] == facts
    assert [(n.label, n.text) for n in parsed.narratives] == [(label, "\n\n".join(ps)) for label, ps in narratives]


BAD_MARKERS = ["[0]", "[99999999999]", "[ ]", "[]", "[x]", "[-1]", "[1.5]", "[١]", "[1,,2]", "[" + "9" * 5000 + "]"]


@FUZZ
@given(stories(), st.sampled_from(BAD_MARKERS), st.data())
def test_one_bad_citation_marker_is_a_fatal_error_on_its_own_line(story, marker, data):
    text, fact_lines = data.draw(rendered(story))
    lines = text.splitlines(keepends=True)
    target = data.draw(st.sampled_from(fact_lines))
    lines[target - 1] = lines[target - 1].rstrip("\r\n") + marker + "\n"
    raw = "".join(lines).encode("utf-8")

    result = parse_bytes(raw, PATH)

    check_outcome(result, raw)
    assert result.story is None
    assert [(p.line, "citation" in p.message) for p in result.errors] == [(target, True)]


# ---------------------------------------------------------------- examples that once crashed or hung


@pytest.mark.parametrize(
    ("text", "json_format", "line", "message"),
    [
        ("Title\n- fact [" + "9" * 5000 + "]\n", False, 2, "citation [9999999999999999999…] is not a number"),
        ("[" * 100_000, True, 1, "invalid JSON"),  # nested too deep for the JSON decoder
        ('{"title": ' + "1" * 5000 + "}", True, 1, "invalid JSON"),  # an integer too long to convert
        ("Title\n- a \u2028b\x0c c [x]\n", False, 2, "citation [x]"),  # U+2028 and form feed do not end a line
    ],
)
def test_inputs_that_used_to_raise_now_give_a_located_error(text, json_format, line, message):
    result = parse_bytes(text.encode(), PATH, json_format=json_format)
    assert result.story is None
    assert result.errors[0].line == line and message in result.errors[0].message
    check_outcome(result, text.encode())


def test_a_source_number_of_thousands_of_digits_is_a_warning_not_a_crash():
    text = "Title\n- fact [1]\nArticles on this story\n[" + "9" * 5000 + "] Outlet — Headline\n"
    result = parse_bytes(text.encode(), PATH)
    assert result.story is not None and result.story.sources == []
    assert [p.line for p in result.warnings if "source number" in p.message] == [4]


def test_a_directory_or_unreadable_path_is_a_located_error(tmp_path):
    folder = tmp_path / "looks_like_a_story.txt"
    folder.mkdir()
    result = parse_file(folder)
    assert result.story is None and str(result.errors[0]).startswith(f"{folder}:0: cannot read file")


HUGE = MAX_FILE_BYTES - 1000
HUGE_PIECES = {
    "spaces": "a" + " " * HUGE + "b",
    "hyphenated": "x" + "-x" * (HUGE // 2),
    "markers": "[1]" * (HUGE // 3) + "x",
    "brackets": "[" * HUGE,
    "digits": "9" * HUGE,
    "separators": " — " * (HUGE // 3),
    "urls": "(http://" * (HUGE // 8),
    "headings": "narrative " * (HUGE // 10),
}
HUGE_PLACES = {
    "title": "{}\n- a [1]\n",
    "header": "Title\n{}\n- a [1]\n",
    "bullet": "Title\n- {}\n",
    "bullet before its marker": "Title\n- a {} [1]\n",
    "narrative": "Title\n- a [1]\nNarrative A\n{}\n",
    "source": "Title\n- a [1]\nArticles on this story\n[1] {}\n",
    "articles": "Title\n- a [1]\nArticles on this story\n{}\n",
}


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("piece", sorted(HUGE_PIECES))
def test_a_line_of_a_megabyte_is_parsed_in_well_under_a_second(piece):
    """Lines near the 1 MB limit, in every section. Before the fixes, a megabyte of spaces in a source
    line, of "[1]" markers in a bullet, or of hyphenated words anywhere took minutes (quadratic or cubic
    regular expressions); now each file takes milliseconds, and the bound leaves room for a busy machine."""
    for place, template in HUGE_PLACES.items():
        data = template.format(HUGE_PIECES[piece]).encode()
        started = time.perf_counter()
        result = parse_bytes(data, PATH)
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"{piece} in the {place}: {elapsed:.1f}s"
        check_outcome(result, data)
