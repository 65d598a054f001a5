"""The console chat, in process: the same answers as Discord, as text."""

import io

import pytest

from bot.console import GREETING, NOT_UTF8, Conversation, reply_to, run_console

RENT_CAP = "Eastmere Council Approves Two-Year Rent Cap"


def test_a_question_gets_the_story_bullets_narratives_and_cited_sources(library):
    text = reply_to(library, "Did Eastmere City Council vote to cap annual rent increases at 3%?")
    assert text.startswith(f"{RENT_CAP}\nLast updated April 3, 2025\n")
    assert "cap annual rent increases on private tenancies at 3% for two years" in " ".join(text.split())
    assert "  Narrative A:" in text and "  Narrative B:" in text
    assert "[1] Eastmere Gazette — Council approves rent cap <https://eastmere-gazette.example/rent-cap>" in text


def test_story_prints_the_full_card_and_stories_lists_newest_first(library):
    card = reply_to(library, "/story eastmere council approves two-year rent cap")
    assert "Image credit: storybot test fixture (fictional story)" in card
    assert card.count("  • ") == 5
    assert "[4] Eastmere Business Weekly — Landlords vow court fight over cap" in card

    listing = reply_to(library, "/stories").splitlines()
    assert listing[0] == "4 stories, newest first:"
    assert listing[1].endswith(RENT_CAP) and listing[4].endswith("Tidewell Observatory Wins Funding for New Telescope")


def test_a_refusal_says_how_to_read_the_stories_it_suggests(library):
    question = "What is the best recipe for sourdough bread?"
    suggested = library.ask(question).suggestions
    text = reply_to(library, question)
    assert "type /story and a title to read one" in text and all(f"  • {title}" in text for title in suggested)
    assert reply_to(library, f"/story {suggested[0]}").startswith(f"{suggested[0]}\n")


@pytest.mark.parametrize(("line", "expected"), [
    ("/story", "Usage: /story TITLE"),
    ("/story The Moon Landing", "I don't know a story called “The Moon Landing”"),
    ("/weather", "Unknown command /weather"),
    ("x" * 600, "I can take up to 500"),
])
def test_mistakes_get_a_helpful_line(library, line, expected):
    assert expected in reply_to(library, line)


def test_the_chat_greets_answers_and_stops_at_quit(library):
    stdout = io.StringIO()
    run_console(library, io.StringIO("\n/stories\n/quit\nnever read\n"), stdout)
    lines = stdout.getvalue().splitlines()
    assert lines[0] == GREETING
    assert lines[1] == "4 stories, newest first:"
    assert "never read" not in stdout.getvalue()


def console_output(library, data: bytes) -> str:
    """What the chat prints for `data` arriving on standard input as raw bytes (a strict UTF-8 stream, as sys.stdin is)."""
    stdout = io.StringIO()
    run_console(library, io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), stdout)
    return stdout.getvalue()


def test_bytes_that_are_not_utf8_are_replaced_and_reported(library):
    out = console_output(library, b"/story Lowmoor to Close Four Branch Librar\xffies\n/stories\n")
    assert NOT_UTF8 in out
    assert "4 stories, newest first:" in out  # the chat went on


def test_terminal_escape_sequences_are_never_echoed(library):
    out = console_output(library, b"what about \x1b[2J\x1b]0;pwned\x07the \xc2\x9b31mlibraries\x1b[0m?\n/story \x1b[31mmoon\n")
    assert "I don't know a story called “moon”" in out and "pwned" not in out
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f for c in out)


def test_a_follow_up_is_asked_about_the_story_last_answered_until_new(library):
    conversation = Conversation()
    first = reply_to(library, "how long will the Brackwater ferry strike last?", conversation)
    assert "Brackwater Ferry Crews Strike Over Night Shifts" in first
    followup = reply_to(library, "and the other side?", conversation)
    assert "Brackwater Ferry Crews Strike Over Night Shifts" in followup and "Right narrative" in followup
    assert "New conversation" in reply_to(library, "/new", conversation)
    assert conversation.about is None
    assert reply_to(library, "and the other side?", conversation).startswith("Sorry — none of the stories I know covers")


def test_the_console_keeps_the_conversation_between_lines(library):
    out = io.StringIO()
    run_console(library, io.StringIO("how long will the Brackwater ferry strike last?\nand the other side?\n/new\nand the other side?\n"), out)
    before, _, after = out.getvalue().partition("New conversation")
    assert before.count("Right narrative") == 2  # the answer, then the follow-up about the same story
    assert "Sorry — none of the stories I know covers" in after and "Right narrative" not in after
