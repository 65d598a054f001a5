"""Dates as the stories themselves write them, for the embeds and the console alike."""

from datetime import date


def format_updated(updated: str | None) -> str:
    """'2023-05-29' -> 'May 29, 2023', the way the stories themselves write it."""
    if not updated:
        return "date not given"
    try:
        day = date.fromisoformat(updated)
    except ValueError:
        return updated
    return f"{day:%B} {day.day}, {day.year}"
