"""The console chat: the bot's answers on a terminal, for trying it without a Discord token."""

import re
import unicodedata
from dataclasses import dataclass
from typing import TextIO

from index import Library, QuestionError

from .rendering.terminal import format_answer, format_catalog, format_story

NOT_UTF8 = "(Some of what you typed was not UTF-8 text; those bytes are shown as �.)"
# Terminal control sequences (CSI, OSC and other ESC sequences, and the 8-bit CSI), removed whole.
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")

GREETING = (
    "storybot console: type a question (a follow-up is asked about the story last answered; /new starts afresh), "
    "/story TITLE, /stories, or /quit (Ctrl-D also quits). "
    "To run on Discord instead, set DISCORD_TOKEN in .env (see .env.example)."
)


@dataclass
class Conversation:
    """What the chat is about: the story of the last answer, which a follow-up is asked about first."""

    about: str | None = None


def run_console(library: Library, stdin: TextIO, stdout: TextIO) -> None:
    """Answer one line at a time until EOF or /quit; the same answers as on Discord, as text."""
    conversation = Conversation()
    interactive = stdin.isatty()
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")  # a stray byte is shown as � instead of ending the chat
    print(GREETING, file=stdout, flush=True)
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:  # EOF
            break
        line = without_control_characters(line).strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        reply = without_control_characters(reply_to(library, line, conversation))  # story text could carry escapes too
        if "\ufffd" in line:
            reply = f"{NOT_UTF8}\n{reply}"
        print(reply, file=stdout, end="\n\n", flush=True)


def without_control_characters(text: str) -> str:
    """Text that cannot move the cursor, recolour or retitle the terminal: escape sequences and other control
    characters removed (line breaks and tabs kept)."""
    text = ESCAPE_SEQUENCE.sub("", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def reply_to(library: Library, line: str, conversation: Conversation | None = None) -> str:
    """One console line in, the text to print out; an answered question makes its story the conversation's."""
    conversation = conversation or Conversation()
    command, _, argument = line.partition(" ")
    if command == "/new":
        conversation.about = None
        return "New conversation: the next question is asked of every story."
    if command == "/stories":
        return format_catalog(library.catalog())
    if command == "/story":
        if not argument.strip():
            return "Usage: /story TITLE (type /stories to see the titles)"
        story = library.story(argument, guess=True)
        if story is None:
            return f"I don't know a story called “{argument.strip()}”. Type /stories to see the titles."
        return format_story(story, full_card=True)
    if command.startswith("/"):
        return f"Unknown command {command}. Try /story TITLE, /stories, /new or /quit — or just type a question."
    try:
        answer = library.ask(line, about=conversation.about)
    except QuestionError as error:
        return str(error)
    if answer.answered:
        conversation.about = answer.stories[0].id
    return format_answer(answer)
