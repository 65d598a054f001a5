"""Shortening text to Discord's limits: cut cleanly, marked with "…", never over."""

from hypothesis import given
from hypothesis import strategies as st

from bot.rendering.limits import ELLIPSIS, fit_lines, shorten


def test_text_that_fits_is_left_alone():
    assert shorten("Council approves rent cap", 25) == "Council approves rent cap"


def test_long_text_is_cut_at_a_word_and_marked():
    assert shorten("Council approves two-year rent cap", 20) == "Council approves…"


def test_a_single_long_word_is_cut_mid_word_rather_than_lost():
    assert shorten("x" * 50, 10) == "x" * 9 + ELLIPSIS


def test_whole_lines_are_kept_and_the_first_that_does_not_fit_is_shortened():
    lines = ["• first bullet [1]", "• second bullet, which is a good deal longer than the room left for it [2]"]
    fitted = fit_lines(lines, 60)
    assert fitted.startswith("• first bullet [1]\n• second bullet")
    assert fitted.endswith(ELLIPSIS) and len(fitted) <= 60


def test_when_too_little_room_is_left_an_ellipsis_says_something_was_left_out():
    assert fit_lines(["a" * 30, "b" * 30], 40) == "a" * 30 + "\n" + ELLIPSIS


@given(st.lists(st.text(min_size=1, max_size=300), max_size=30), st.integers(min_value=0, max_value=2000))
def test_fitted_text_never_exceeds_its_limit(lines, limit):
    assert len(fit_lines(lines, limit)) <= limit


@given(st.text(max_size=500), st.integers(min_value=1, max_value=400))
def test_shortened_text_never_exceeds_its_limit_and_keeps_its_start(text, limit):
    short = shorten(text, limit)
    assert len(short) <= limit
    assert text.startswith(short.removesuffix(ELLIPSIS).rstrip()) or short == ELLIPSIS[:limit]


def test_fit_items_keeps_whole_items_and_counts_the_rest():
    from bot.rendering.limits import fit_items

    items = [f"• bullet {n}" for n in range(100)]
    assert fit_items(items[:3], 1000) == "• bullet 0\n• bullet 1\n• bullet 2"
    text = fit_items(items, 120)
    assert len(text) <= 120
    lines = text.split("\n")
    assert lines[:-1] == items[: len(lines) - 1]
    assert lines[-1] == f"…and {100 - (len(lines) - 1)} more"


@given(st.lists(st.text(min_size=1, max_size=300), max_size=50), st.integers(min_value=1, max_value=2000))
def test_fit_items_never_exceeds_its_limit(items, limit):
    from bot.rendering.limits import fit_items

    assert len(fit_items(items, limit)) <= limit
