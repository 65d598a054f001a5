"""Discord's size limits in one place, and the one way the bot shortens text to fit them.

Discord rejects a whole message (HTTP 400) when any limit is exceeded, so every piece of text that
comes from a story goes through `shorten` or `fit_lines` before it reaches an embed.
See https://discord.com/developers/docs/resources/message#embed-object-embed-limits
"""

from collections.abc import Iterable

EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_TOTAL = 6000  # summed over every embed in one message
EMBEDS_PER_MESSAGE = 10
MESSAGE_CONTENT = 2000
CHOICE_NAME = 100  # autocomplete choice name and value
AUTOCOMPLETE_CHOICES = 25
SELECT_OPTION = 100  # a select menu option's label, and its value
SELECT_PLACEHOLDER = 150
CUSTOM_ID = 100  # a component's custom_id

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` if it fits, else cut at the last word boundary and ended with "…"."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > len(cut) // 2:  # a word boundary not too far back; otherwise cut mid-word
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def fit_lines(lines: Iterable[str], limit: int, *, separator: str = "\n") -> str:
    """Join whole lines while they fit; a line that does not fit is shortened and ends the text.

    Cutting between lines keeps each bullet (and its citation links) intact, which matters more
    than squeezing in a few more characters.
    """
    if limit <= 0:
        return ""
    out = ""
    for line in lines:
        joined = f"{out}{separator}{line}" if out else line
        if len(joined) <= limit:
            out = joined
            continue
        room = limit - len(out) - (len(separator) if out else 0)
        if room > len(ELLIPSIS) + 20:  # enough to show a readable start of the line
            return f"{out}{separator}{shorten(line, room)}" if out else shorten(line, room)
        return f"{out}{separator}{ELLIPSIS}" if out and len(out) + len(separator) + 1 <= limit else (out or ELLIPSIS)
    return out


def fit_items(items: list[str], limit: int, *, separator: str = "\n") -> str:
    """Join whole items (each a line or a few) while they fit, then say how many did not: "…and N more".

    For lists whose length matters to the reader (what changed in a story): the count is never lost, however
    little room there is. An item alone too long for the room is shortened."""
    if limit <= 0:
        return ""
    if len(separator.join(items)) <= limit:
        return separator.join(items)
    note = more_note(len(items))
    room = limit - len(separator) - len(note)  # kept free for the note, at its longest
    shown: list[str] = []
    for item in items:
        joined = separator.join([*shown, item])
        if len(joined) > room:
            if not shown and room > len(ELLIPSIS) + 20:
                shown.append(shorten(item, room))
            break
        shown.append(item)
    rest = more_note(len(items) - len(shown))
    return separator.join([*shown, rest]) if len(rest) <= limit else shorten(rest, limit)


def more_note(count: int) -> str:
    return f"{ELLIPSIS}and {count} more"
