"""Story pieces as Discord Markdown: citation markers and source lines that link to their sources."""

from index import AnswerFact, Source


def link_target(url: str) -> str:
    """A URL that cannot end a Markdown link early: brackets and spaces percent-encoded."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def linked_citation_markers(fact: AnswerFact) -> str:
    """'[1][3]' as the story wrote them, each marker linking to its source when one is listed."""
    urls = {source.number: source.url for source in fact.sources if source.url}
    return "".join(
        f"[[{number}]]({link_target(urls[number])})" if number in urls else f"[{number}]" for number in fact.citations
    )


def linked_source_line(source: Source) -> str:
    """'[1] Eastmere Gazette — Council approves rent cap', the headline linked when there is a URL."""
    headline = source.headline or source.url or "(no headline)"
    if source.url:
        headline = f"[{headline}]({link_target(source.url)})"
    outlet = f"{source.outlet} — " if source.outlet else ""
    return f"[{source.number}] {outlet}{headline}"
