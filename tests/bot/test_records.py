"""The audit log and the feedback store: real SQLite files in a temporary directory."""

import csv
import sqlite3
import threading

import pytest

from bot.__main__ import main
from bot.records import DOWN, NO_STORY, RECORDS_FILE, UP, Records
from index import Answer, AnswerFact, AnswerStory

MEMBER, OTHER = 123456789012345678, 223456789012345678


def answer(question: str, *stories: tuple[str, list[int]]) -> Answer:
    shown = [
        AnswerStory(id=f"{title.lower()}-id", title=title, updated=None, narratives=[],
                    facts=[AnswerFact(index=i, text=f"bullet {i}", citations=[1]) for i in bullets])
        for title, bullets in stories
    ]
    return Answer(question=question, answered=bool(shown), stories=shown)


def test_a_vote_keeps_what_was_shown_and_hashes_the_member(tmp_path):
    records = Records.beside(tmp_path / "index")
    answer_id = records.save_answer(answer("What did the council decide?", ("Rent cap", [3, 1]), ("Ferry", [2])))
    assert records.vote(answer_id, MEMBER, UP)

    [row] = records.votes()
    assert row["question"] == "What did the council decide?"
    assert (row["titles"], row["story_ids"], row["bullets"]) == ("Rent cap | Ferry", "rent cap-id | ferry-id", "3,1 | 2")
    assert row["vote"] == "up" and row["answered"] == 1 and row["voted_at"]
    assert row["member"] == records.member_hash(MEMBER) != records.member_hash(OTHER)
    raw = (tmp_path / "index" / RECORDS_FILE).read_bytes()
    assert str(MEMBER).encode() not in raw


def test_a_changed_vote_replaces_the_old_one_and_the_salt_survives_reopening(tmp_path):
    records = Records(tmp_path / RECORDS_FILE)
    answer_id = records.save_answer(answer("Why the strike?", ("Ferry", [1])))
    records.vote(answer_id, MEMBER, UP)
    records.vote(answer_id, OTHER, UP)

    reopened = Records(tmp_path / RECORDS_FILE)
    assert reopened.member_hash(MEMBER) == records.member_hash(MEMBER)
    reopened.vote(answer_id, MEMBER, DOWN)
    votes = {row["member"]: row["vote"] for row in reopened.votes()}
    assert votes == {records.member_hash(MEMBER): "down", records.member_hash(OTHER): "up"}

    with sqlite3.connect(tmp_path / RECORDS_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_salts_differ_between_files_so_hashes_cannot_be_joined(tmp_path):
    assert Records(tmp_path / "a.sqlite3").member_hash(MEMBER) != Records(tmp_path / "b.sqlite3").member_hash(MEMBER)


def test_an_unknown_answer_or_vote_is_refused(tmp_path):
    records = Records(tmp_path / RECORDS_FILE)
    assert records.vote("0" * 32, MEMBER, UP) is False
    with pytest.raises(ValueError):
        records.vote(records.save_answer(answer("q?")), MEMBER, 0)
    assert records.votes() == []


def test_summary_counts_votes_per_story_and_lists_the_worst_questions(tmp_path):
    records = Records(tmp_path / RECORDS_FILE)
    good = records.save_answer(answer("What rent cap was approved?", ("Rent cap", [1])))
    bad = records.save_answer(answer("Who pays for the ferry?", ("Ferry", [2])))
    bad_again = records.save_answer(answer("who pays for the ferry?", ("Ferry", [2])))
    refused = records.save_answer(answer("Best sourdough recipe?"))
    for member in (1, 2, 3):
        records.vote(good, member, UP)
    records.vote(bad, 1, DOWN)
    records.vote(bad_again, 2, DOWN)
    records.vote(bad_again, 3, UP)
    records.vote(refused, 1, DOWN)

    summary = records.summary()
    assert summary.votes == 7
    assert {(t.name, t.up, t.down) for t in summary.stories} == {("Rent cap", 3, 0), ("Ferry", 1, 2), (NO_STORY, 0, 1)}
    assert [(t.name.lower(), t.up, t.down) for t in summary.worst] == [("who pays for the ferry?", 1, 2), ("best sourdough recipe?", 0, 1)]


def test_votes_from_many_threads_at_once_are_all_kept(tmp_path):
    records = Records(tmp_path / RECORDS_FILE)
    answer_id = records.save_answer(answer("q?", ("Ferry", [1])))
    threads = [threading.Thread(target=records.vote, args=(answer_id, member, UP)) for member in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(records.votes()) == 20


def test_the_audit_log_keeps_who_when_what_and_which_file(tmp_path):
    records = Records(tmp_path / RECORDS_FILE)
    records.audit("add", actor="mod", actor_id=42, title="Rent cap", file="rent-cap.txt", detail="12 bullets")
    records.audit("reindex", actor="directory watcher", detail="1 updated")
    first, second = records.audit_log()
    assert (first.actor, first.actor_id, first.action, first.title, first.file) == ("mod", 42, "add", "Rent cap", "rent-cap.txt")
    assert first.at.endswith("+00:00")
    assert (second.action, second.actor_id) == ("reindex", None)


def test_feedback_export_from_the_command_line(tmp_path, capsys):
    records = Records.beside(tmp_path)
    records.vote(records.save_answer(answer("Why, \"exactly\", the strike?", ("Ferry", [1, 2]))), MEMBER, DOWN)
    out = tmp_path / "votes.csv"
    assert main(["feedback", "--index", str(tmp_path), "--export", str(out)]) == 0
    assert "1 vote" in capsys.readouterr().out
    with open(out, encoding="utf-8", newline="") as exported:
        [row] = list(csv.DictReader(exported))
    assert (row["question"], row["titles"], row["bullets"], row["vote"]) == ('Why, "exactly", the strike?', "Ferry", "1,2", "down")
    assert row["member"] == records.member_hash(MEMBER)

    assert main(["feedback", "--index", str(tmp_path / "nowhere"), "--export", str(out)]) == 1
    assert not (tmp_path / "nowhere").exists()


def test_the_export_never_turns_a_question_into_a_spreadsheet_formula(tmp_path):
    records = Records.beside(tmp_path)
    records.vote(records.save_answer(answer('=HYPERLINK("http://evil.example","x")', ("Ferry", [1]))), MEMBER, UP)
    records.export_csv(tmp_path / "votes.csv")
    with open(tmp_path / "votes.csv", encoding="utf-8", newline="") as exported:
        [row] = list(csv.DictReader(exported))
    assert row["question"] == '\'=HYPERLINK("http://evil.example","x")'


def stored_bytes(path) -> bytes:
    """The database and its WAL, as someone who can read only those files sees them."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


def brute_force_member(records_file, member_hash: str, candidates) -> int | None:
    """What an attacker holding only the database can do: try every member id with every salt-like value in it."""
    import hashlib
    import re

    salts = {bytes.fromhex(h.decode()) for h in re.findall(rb"[0-9a-f]{32}", stored_bytes(records_file))}
    for salt in salts:
        for member in candidates:
            if hashlib.blake2b(str(member).encode(), key=salt, digest_size=16).hexdigest() == member_hash:
                return member
    return None


def test_the_salt_is_kept_apart_from_the_data_and_both_are_private(tmp_path):
    path = tmp_path / RECORDS_FILE
    records = Records(path)
    records.vote(records.save_answer(answer("q?", ("Ferry", [1]))), MEMBER, UP)
    [row] = records.votes()
    assert brute_force_member(path, row["member"], [OTHER, MEMBER]) is None
    assert (path.stat().st_mode & 0o777) == 0o600
    salt_file = path.with_suffix(".salt")
    assert (salt_file.stat().st_mode & 0o777) == 0o600
    assert Records(path).member_hash(MEMBER) == row["member"]  # the same salt on reopening


def test_a_database_that_held_its_salt_gives_it_up_and_keeps_its_hashes(tmp_path):
    path = tmp_path / RECORDS_FILE
    salt = "00112233445566778899aabbccddeeff"
    with sqlite3.connect(path) as db:  # as the previous version wrote it
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('member_salt', ?)", (salt,))
    old_hash = __import__("hashlib").blake2b(str(MEMBER).encode(), key=bytes.fromhex(salt), digest_size=16).hexdigest()
    path.chmod(0o644)
    records = Records(path)
    assert records.member_hash(MEMBER) == old_hash  # votes already recorded still match their members
    assert salt.encode() not in stored_bytes(path)
    assert path.with_suffix(".salt").read_text().strip() == salt
    assert (path.stat().st_mode & 0o777) == 0o600


# ---------------------------------------------------------------- story versions (the feed's memory)

def versioned_story(bullet: str):
    from index import Fact, Story

    return Story(title="Kestrel Harbour Seawall", facts=[Fact(index=1, text=bullet, citations=[1])])


def test_a_baseline_is_taken_once_and_announces_nothing(tmp_path):
    from bot.records import StoryVersions

    versions = StoryVersions(Records.beside(tmp_path))
    first = versioned_story("The repairs cost 6 million crowns.")
    assert versions.recorded() is None
    assert versions.record_baseline([first])
    assert versions.recorded() == {first.id: first.content_hash()}
    assert not StoryVersions(Records.beside(tmp_path)).record_baseline([versioned_story("Another version.")])  # another process, later
    assert versions.recorded() == {first.id: first.content_hash()}
    assert versions.claim(first) is None  # the baseline version is known: not announced


def test_each_version_is_claimed_once_with_the_one_before_it(tmp_path):
    from bot.records import StoryVersions

    versions = StoryVersions(Records.beside(tmp_path))
    versions.record_baseline([])
    v1, v2 = versioned_story("The repairs cost 6 million crowns."), versioned_story("The repairs cost 8 million crowns.")
    claim = versions.claim(v1)
    assert claim.added and claim.previous is None
    assert versions.claim(v1) is None
    claim = StoryVersions(Records.beside(tmp_path)).claim(v2)  # survives a restart: a new Records on the same file
    assert not claim.added and claim.previous == v1
    assert versions.previous_version(v2) == v1  # /story changes_only
    assert versions.previous_version(versioned_story("Not recorded yet.")) == v2  # the last known is the previous
    versions.mark_removed([v2.id])
    assert versions.recorded() == {}
    claim = versions.claim(v2)
    assert claim.added  # back after a removal: new again


def test_two_processes_claiming_one_version_at_once_claim_it_once(tmp_path):
    from bot.records import StoryVersions

    StoryVersions(Records.beside(tmp_path)).record_baseline([])
    story = versioned_story("The repairs cost 6 million crowns.")
    claims, start = [], threading.Barrier(8)

    def claim():
        versions = StoryVersions(Records.beside(tmp_path))  # its own connection, as another process has
        versions.recorded()  # opened before the race
        start.wait()
        claims.append(versions.claim(story))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([c for c in claims if c is not None]) == 1 and len(claims) == 8
