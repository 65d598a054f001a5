"""The parser against the seed, every format variant, and every kind of bad input."""

import json
from datetime import date
from pathlib import Path

import pytest

from index.corpus import read_corpus, story_files
from index.models import Story, story_id_for
from index.parser import MAX_FILE_BYTES, parse_bytes, parse_citations, parse_file
from tests.support import INDEX_FIXTURES as FIXTURES
from tests.support import SEED, write_story


def test_seed_is_parsed_exactly():
    result = parse_file(SEED)
    story = result.story
    assert result.problems == []
    assert story.title == "London Police to Stop Responding to Mental Health Calls"
    assert story.updated == date(2023, 5, 29)
    assert story.image_credit == "Wikimedia Commons"
    assert [f.index for f in story.facts] == [1, 2, 3, 4, 5, 6]
    assert [f.citations for f in story.facts] == [[1], [2], [3], [4], [3], [5]]
    assert story.facts[0].text.startswith("Starting this upcoming September, London's Metropolitan Police")
    assert story.facts[4].text.endswith('provided "more timely care" to those in need after implementing a similar policy.')
    assert all("[" not in f.text for f in story.facts)
    assert [n.label for n in story.narratives] == ["Narrative A", "Narrative B"]
    assert story.narratives[0].text.startswith("Reports show that the police")
    assert story.narratives[1].text.endswith("based upon day-to-day subjectivity.")
    assert story.sources == []
    assert story.source_file == str(SEED)


def test_fact_text_is_verbatim_from_the_file():
    text = " ".join(SEED.read_text(encoding="utf-8").split())
    story = parse_file(SEED).story
    for item in [*story.facts, *story.narratives]:
        assert " ".join(item.text.split()) in text


def test_title_repeated_at_the_top_is_one_title_and_boilerplate_is_not_content():
    story = parse_file(FIXTURES / "01_harbour_ferry_fares.txt").story
    assert story.title == "Saltmarsh Ferry Fares to Double From Spring"
    assert len(story.facts) == 3
    dumped = story.model_dump_json()
    assert "newsletter" not in dumped


@pytest.mark.parametrize(
    ("markers", "numbers"),
    [("[1]", [1]), ("[2][3]", [2, 3]), ("[1, 4]", [1, 4]), (" [2] [5]", [2, 5]), ("[3][3]", [3])],
)
def test_citation_forms(markers, numbers):
    assert parse_citations(markers) == (numbers, [])


def test_bullet_characters_citation_placement_and_wrapped_bullets():
    ferry = parse_file(FIXTURES / "01_harbour_ferry_fares.txt").story
    assert [f.citations for f in ferry.facts] == [[1], [2, 3], [1, 4]]
    assert ferry.facts[1].text == "Operator Greywake Ferries said fuel costs rose 40% over two years."
    lunches = parse_file(FIXTURES / "02_orchard_school_meals.txt").story
    assert [f.text[:12] for f in lunches.facts] == ["Every primar", "The scheme c", "Head teacher"]
    assert lunches.facts[1].text.endswith("paid for by a levy on second homes.")
    assert lunches.updated == date(2025, 9, 14)


def test_narrative_labels_of_any_pair_and_paragraphs():
    ferry = parse_file(FIXTURES / "01_harbour_ferry_fares.txt").story
    assert [n.label for n in ferry.narratives] == ["Pro-operator narrative", "Anti-operator narrative"]
    assert ferry.narratives[1].text == (
        "Islanders have no other way to reach the mainland.\n\nA doubled fare is a tax on living where they were born."
    )
    lunches = parse_file(FIXTURES / "02_orchard_school_meals.txt").story
    assert [n.label for n in lunches.narratives] == ["Left narrative", "Right narrative"]
    labels = ["Establishment-critical narrative", "Pro-union narrative", "Narrative B"]
    for label in labels:
        text = f"Title\n• Fact one.[1]\n\n{label}\n\nSome framing.\n\nOther narrative\n\nMore framing.\n"
        story = parse_bytes(text.encode(), Path("x.txt")).story
        assert story.narratives[0].label == label


def test_source_list_is_parsed():
    ferry = parse_file(FIXTURES / "01_harbour_ferry_fares.txt").story
    assert [s.number for s in ferry.sources] == [1, 2, 3, 4]
    first = ferry.source(1)
    assert (first.outlet, first.headline, first.url) == (
        "Saltmarsh Herald", "Ferry fares to double", "https://saltmarsh-herald.example/fares",
    )


def test_json_story_is_the_same_model():
    story = parse_file(FIXTURES / "03_bridge_closure.json").story
    assert story.title == "Fennwater Bridge Closes for Two Years of Repairs"
    assert story.id == parse_bytes(b"Fennwater Bridge Closes for Two Years of Repairs\n- x [1]\n", Path("a.txt")).story.id
    assert story.narratives[0].label == "Establishment-critical narrative"
    assert story.source(1).url == "https://fennwater-post.example/bridge"


def test_every_story_in_the_eval_set_parses_cleanly():
    corpus = read_corpus([Path(__file__).parents[1] / "eval" / "stories"])
    assert corpus.errors == []
    assert len(corpus.stories) >= 13


# --- bad input: always "path:line: what is wrong" -------------------------------------------

BAD_INPUTS = [
    ("latin1.txt", "Caf\xe9 Title\n- x [1]\n".encode("latin-1"), 1, "not UTF-8 text"),
    ("late_bad_byte.txt", b"Title\n\n- one [1]\n- two \xff [2]\n", 4, "not UTF-8 text"),
    ("empty.txt", b"  \n\n", 1, "file is empty"),
    ("no_title.txt", b"\xe2\x80\xa2 Starts with a bullet [1]\n", 1, "no title"),
    ("date_first.txt", b"Last updated May 1, 2024\n- a fact [1]\n", 1, "no title"),
    ("no_bullets.txt", b"A Title\nLast updated May 1, 2024\n\nNarrative A\ntext\n", 5, "no bullets"),
    ("letter_citation.txt", b"Title\n- fine [1]\n- bad one [a]\n", 3, "citation [a] is not a number"),
    ("blank_citation.txt", b"Title\n- bad one [ ]\n", 2, "citation [ ] is not a number"),
    ("zero_citation.txt", b"Title\n- bad one [0]\n", 2, "citation [0] is not a number"),
    ("huge_citation.txt", b"Title\n- bad one [99999999999]\n", 2, "citation [99999999999] is not a number"),
    ("bad.json", b'{"title": "T", "facts": [}', 1, "invalid JSON"),
    ("no_facts.json", json.dumps({"title": "T", "facts": []}).encode(), 1, "facts"),
]


@pytest.mark.parametrize(("name", "data", "line", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_named_by_file_and_line(tmp_path, name, data, line, message):
    path = tmp_path / name
    path.write_bytes(data)
    result = parse_file(path)
    assert result.story is None
    assert result.errors, "a bad file must produce an error"
    first = result.errors[0]
    assert (first.path, first.line) == (path, line)
    assert message in first.message
    assert str(first).startswith(f"{path}:{line}: ")


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"Title\n" + b"- x [1]\n" * (MAX_FILE_BYTES // 8 + 1))
    result = parse_file(path)
    assert result.story is None
    assert f"limit is {MAX_FILE_BYTES:,}" in str(result.errors[0])


def test_two_files_with_one_title_name_each_other_and_neither_is_kept(tmp_path):
    first = write_story(tmp_path, "a.txt", "Same Title\n- one [1]\n")
    second = write_story(tmp_path, "b.txt", "same title\n- two [1]\n")
    write_story(tmp_path, "c.txt", "Other Title\n- three [1]\n")
    corpus = read_corpus([tmp_path])
    assert [s.title for s in corpus.stories] == ["Other Title"]
    messages = {str(p) for p in corpus.errors}
    assert f"{first}:1: same story title 'Same Title' as {second}" in messages
    assert f"{second}:1: same story title 'same title' as {first}" in messages


def test_soft_problems_are_warnings_and_the_story_is_kept(tmp_path):
    path = write_story(tmp_path, "soft.txt", """
        Soft Title
        - no citation here
        - cites a missing source [2]

        Narrative A
        Only one framing.

        Articles on this story
        [1] Outlet — Headline (https://outlet.example/a)
    """)
    result = parse_file(path)
    assert result.story is not None
    assert result.errors == []
    warnings = [str(w) for w in result.warnings]
    assert f"{path}:2: bullet 1 has no citation" in warnings
    assert f"{path}:3: citation [2] has no listed source" in warnings
    assert f"{path}:5: 1 narrative(s); a story should show two" in warnings


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    path = write_story(tmp_path, "many.txt", "Title\n- one [x]\n- two [y]\n")
    assert [p.line for p in parse_file(path).errors] == [2, 3]


# --- JSON stories are checked, not trusted ----------------------------------------------------------

def json_story(**fields) -> bytes:
    story = {"title": "Fennwater Bridge Closes", "facts": [{"index": 1, "text": "The bridge closed.", "citations": [1]}]}
    return json.dumps({**story, **fields}, indent=2).encode()


def line_of(data: bytes, text: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th `text` in `data`."""
    position = -1
    for _ in range(occurrence):
        position = data.decode().index(text, position + 1)
    return data.decode()[:position].count("\n") + 1


@pytest.mark.parametrize(
    ("numbers", "bad_bullet", "message"),
    [([7], 1, "bullet 1 is numbered 7"), ([1, 1], 2, "bullet 2 is numbered 1"), ([2, 1], 1, "bullet 1 is numbered 2")],
    ids=["beyond the bullets", "duplicate", "out of order"],
)
def test_json_fact_numbers_must_be_their_positions(numbers, bad_bullet, message):
    data = json_story(facts=[{"index": n, "text": f"Bullet {n}.", "citations": [1]} for n in numbers])
    result = parse_bytes(data, Path("story.json"), json_format=True)
    assert result.story is None
    [error] = result.errors
    assert error.line == line_of(data, '"index"', bad_bullet)
    assert error.message.startswith(f"facts[{bad_bullet - 1}].index: {message}")


def test_a_json_problem_names_the_line_of_the_bad_value():
    data = json_story(narratives=[{"label": "Narrative A", "text": "Fine."}, {"label": "Narrative B", "text": 5}])
    [error] = parse_bytes(data, Path("story.json"), json_format=True).errors
    assert error.line == line_of(data, '"text": 5')
    assert "narratives[1].text: Input should be a valid string" in error.message


@pytest.mark.parametrize("given", ["../../../x", "another-story-1234abcd", "Saltmarsh Ferry Fares to Double From Spring", ""])
def test_a_json_story_id_is_always_derived_from_its_title(given):
    data = json_story(id=given)
    result = parse_bytes(data, Path("story.json"), json_format=True)
    assert result.story.id == story_id_for("Fennwater Bridge Closes")
    if given:
        line = line_of(data, '"id"')
        assert f"line {line}: id is ignored: a story's id always comes from its title" in [w.short() for w in result.warnings]


def test_stories_read_back_keep_the_id_of_their_title():
    story = parse_bytes(json_story(), Path("story.json"), json_format=True).story
    assert Story.model_validate_json(story.model_dump_json().replace(story.id, "../elsewhere")).id == story.id


def test_a_json_id_cannot_make_two_titles_one_story(tmp_path):
    (tmp_path / "a.json").write_bytes(json_story(id="same"))
    (tmp_path / "b.json").write_bytes(json_story(id="same", title="Another Title Entirely"))
    corpus = read_corpus([tmp_path])
    assert corpus.errors == []
    assert sorted(s.title for s in corpus.stories) == ["Another Title Entirely", "Fennwater Bridge Closes"]


LOOKALIKE_TITLES = [
    "Rent  Cap Approved",  # double space
    "Rent\u00a0Cap Approved",  # no-break space
    "Rent Cap\u200b Approved",  # zero-width space
    "\u200fRent Cap Approved\u202c",  # bidi marks
    "Ｒｅｎｔ Cap Approved",  # full-width letters (NFKC)
    " rent cap approved\t",
]


@pytest.mark.parametrize("title", LOOKALIKE_TITLES)
def test_titles_that_look_the_same_are_one_story(title):
    assert story_id_for(title) == story_id_for("Rent Cap Approved")
    story = Story(title=title, facts=[{"index": 1, "text": "Approved.", "citations": [1]}])
    assert story.id == story_id_for("Rent Cap Approved")
    assert "\u200b" not in story.title and "  " not in story.title and story.title == story.title.strip()


def test_lookalike_titles_in_two_files_are_reported_as_one_title(tmp_path):
    write_story(tmp_path, "a.txt", "Rent Cap Approved\n- one [1]\n")
    write_story(tmp_path, "b.txt", "Rent\u00a0Cap\u200b  Approved\n- two [1]\n")
    corpus = read_corpus([tmp_path])
    assert corpus.stories == [] and len(corpus.errors) == 2
    assert all("same story title 'Rent Cap Approved'" in p.message for p in corpus.errors)


def test_a_title_repeated_with_other_spacing_counts_once_and_an_invisible_title_is_no_title(tmp_path):
    story = parse_file(write_story(tmp_path, "a.txt", "Rent Cap Approved\nRent  Cap\u200b Approved\n- one [1]\n")).story
    assert story.title == "Rent Cap Approved"
    result = parse_file(write_story(tmp_path, "b.txt", "\u200b\u200f\n- one [1]\n"))
    assert result.story is None and result.errors[0].short().startswith("line 1: no title")
    json_result = parse_bytes(json_story(title="\u200b \u00a0"), Path("story.json"), json_format=True)
    assert json_result.story is None and "title: Value error, title has no visible characters" in json_result.errors[0].message


def test_a_title_spelled_like_another_storys_id_is_refused_and_the_other_kept(tmp_path):
    write_story(tmp_path, "a.txt", "Rent Cap Approved\n- one [1]\n")
    decoy = write_story(tmp_path, "b.txt", f"{story_id_for('Rent Cap Approved').upper()}\n- two [1]\n")
    corpus = read_corpus([tmp_path])
    assert [s.title for s in corpus.stories] == ["Rent Cap Approved"]
    [error] = corpus.errors
    assert str(error).startswith(f"{decoy}:1: title {story_id_for('Rent Cap Approved').upper()!r} is the id of 'Rent Cap Approved'")


@pytest.mark.parametrize(
    ("line", "url", "headline"),
    [
        ("[1] Gazette — Read [this](https://evil.example/x) first (https://gazette.example/a)", "https://gazette.example/a",
         "Read [this](https://evil.example/x) first"),
        ("[1] Gazette — Headline(https://evil.example/x)(https://gazette.example/a)", "https://gazette.example/a",
         "Headline(https://evil.example/x)"),
        ("[1] Wiki — Article (https://wiki.example/Foo_(bar))", "https://wiki.example/Foo_(bar)", "Article"),
        ("[1] Gazette — See https://evil.example/x for more", None, "See https://evil.example/x for more"),
        ("[1] Gazette — Headline (javascript:alert(1))", None, "Headline (javascript:alert(1))"),
    ],
)
def test_a_source_lines_url_is_the_one_in_its_closing_parentheses(tmp_path, line, url, headline):
    story = parse_file(write_story(tmp_path, "s.txt", f"Title\n- fact [1]\n\nArticles on this story\n{line}\n")).story
    assert (story.source(1).outlet, story.source(1).headline, story.source(1).url) == ("Gazette" if "Gazette" in line else "Wiki", headline, url)


@pytest.mark.parametrize(
    ("narrative", "field", "where"),
    [({"label": " ", "text": "Fine."}, "label", '"label": " "'), ({"label": "Narrative B", "text": "\u200b\u00a0"}, "text", '"text": "\\u200b'),
     ({"label": "\u200f", "text": "Fine."}, "label", '"label": "\\u200f"')],
)
def test_a_json_narrative_with_a_blank_label_or_text_is_refused(narrative, field, where):
    data = json_story(narratives=[{"label": "Narrative A", "text": "Fine."}, narrative])
    [error] = parse_bytes(data, Path("story.json"), json_format=True).errors
    assert error.short() == f"line {line_of(data, where)}: narratives[1].{field}: Value error, no visible text"


def test_invisible_bullets_and_narratives_in_a_text_file_are_reported_not_raised(tmp_path):
    path = write_story(tmp_path, "s.txt", "Title\n- fine [1]\n- \u200b\u200b [1]\n\nNarrative A\n\u200b\n\nNarrative B\nText.\n")
    result = parse_file(path)
    assert [e.short() for e in result.errors] == ["line 3: empty bullet"]
    path = write_story(tmp_path, "t.txt", "Title\n- fine [1]\n\nNarrative A\n\u200b\n\nNarrative B\nText.\n")
    result = parse_file(path)
    assert [n.label for n in result.story.narratives] == ["Narrative B"]
    assert "line 4: narrative 'Narrative A' has no text" in [w.short() for w in result.warnings]


def test_story_files_skip_hidden_and_temporary_files_and_linked_folders(tmp_path):
    for name in ["a.txt", "b.JSON", "notes.md", ".hidden.txt", ".storyadmin-x.tmp", "sub/c.txt", ".git/d.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)  # followed, it would never end
    assert [p.relative_to(tmp_path).as_posix() for p in story_files([tmp_path])] == ["a.txt", "b.JSON", "sub/c.txt"]
