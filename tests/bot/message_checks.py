"""Assertions for every message body the bot sends: within Discord's size limits, and pinging nobody."""

from bot.rendering import limits


def assert_message_within_limits(body: dict) -> None:
    assert len(body.get("content") or "") <= limits.MESSAGE_CONTENT
    embeds = body.get("embeds") or []
    assert len(embeds) <= limits.EMBEDS_PER_MESSAGE
    total = 0
    for embed in embeds:
        title = embed.get("title", "")
        description = embed.get("description", "")
        footer = (embed.get("footer") or {}).get("text", "")
        fields = embed.get("fields") or []
        assert len(title) <= limits.EMBED_TITLE
        assert len(description) <= limits.EMBED_DESCRIPTION
        assert len(footer) <= limits.EMBED_FOOTER
        assert len(fields) <= limits.EMBED_FIELDS
        for field in fields:
            assert 0 < len(field["name"]) <= limits.EMBED_FIELD_NAME
            assert 0 < len(field["value"]) <= limits.EMBED_FIELD_VALUE
        total += len(title) + len(description) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= limits.EMBED_TOTAL
    for row in body.get("components") or []:
        for component in row["components"]:
            assert 0 < len(component["custom_id"]) <= limits.CUSTOM_ID
            if component["type"] == 3:  # a select menu: Discord refuses the whole message beyond these
                assert len(component.get("placeholder") or "") <= limits.SELECT_PLACEHOLDER
                values = [option["value"] for option in component["options"]]
                assert 0 < len(values) <= 25 and len(set(values)) == len(values)
                assert all(0 < len(option["label"]) <= limits.SELECT_OPTION and 0 < len(option["value"]) <= limits.SELECT_OPTION
                           for option in component["options"])


def message_bodies(requests) -> list[dict]:
    """The message payloads among recorded requests: sends, follow-ups, and interaction responses."""
    bodies = []
    for request in requests:
        body = request.json if isinstance(request.json, dict) else {}
        if request.path.endswith("/callback"):
            body = body.get("data") or {}
        if "content" in body or "embeds" in body:
            bodies.append(body)
    return bodies


def assert_nobody_is_pinged(requests) -> None:
    bodies = message_bodies(requests)
    assert bodies
    for body in bodies:
        assert body.get("allowed_mentions") == {"parse": []}, body
