"""Follow-ups carry the previous question's subject (qa_service/answering/followup.py), gated on the follow-up
suite (evals/followups.py, thresholds in evals/thresholds.toml), and through /ask as through the page."""

from __future__ import annotations

import tomllib

import pytest
from fastapi.testclient import TestClient

from evals.followups import Message, figures
from evals.gate import THRESHOLDS_FILE
from qa_service.answering.followup import rewrite_followup


@pytest.mark.parametrize("split", ["test", "dev", "dev2", "dev3", "dev4", "dev5", "standalone", "standalone2"])
def test_the_follow_up_suite_meets_its_gate(split: str) -> None:
    floor = tomllib.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))["followups"][split]["min_rewritten_right"]
    measured = figures(split)
    assert measured["conversations"] >= 20
    assert measured["rewritten_right"] >= floor, measured


def _history(question: str, answer: str = "It says so. [1]") -> list[Message]:
    return [Message("user", question), Message("assistant", answer)]


@pytest.mark.parametrize(
    ("first", "follow_up", "expected"),
    [
        ("What is the default of ClientAliveCountMax?", "And what happens if it is set to 0?",
         "What happens if ClientAliveCountMax is set to 0?"),
        ("Which user does sshd run as?", "What about ssh-agent?", None),  # checked for the swapped name below
        ("Where does tar write its archive on Linux?", "And on FreeBSD?",
         "Where does tar write its archive on FreeBSD?"),
        ("What is the default of MaxAuthTries?", "Which one is the default?", None),
    ],
)  # fmt: skip
def test_shapes(first: str, follow_up: str, expected: str | None) -> None:
    rewritten = rewrite_followup(follow_up, _history(first))
    assert rewritten is not None
    if expected is not None:
        assert rewritten == expected
    if follow_up.startswith("What about"):
        assert "ssh-agent" in rewritten and "sshd" not in rewritten.replace("ssh-agent", "")


def test_it_after_a_how_do_i_question_is_the_way_the_answer_named() -> None:
    history = _history("How do I keep tar from overwriting files?", "Pass --keep-old-files to tar. [1]")
    assert rewrite_followup("Does it also work with --append?", history) == (
        "Does --keep-old-files also work with --append?"
    )


def test_a_new_condition_replaces_the_old_one() -> None:
    history = _history("What exit code does useradd return when the UID is already in use?", "4. [1]")
    assert rewrite_followup("and when the group doesn't exist?", history) == (
        "What exit code does useradd return when the group doesn't exist?"
    )


def test_that_and_which_of_those_point_at_what_the_answer_named() -> None:
    history = _history("How do I add a user to extra groups with useradd?", "Use -G (--groups) with a list. [1]")
    assert rewrite_followup("is there a cap on how many I can put in that list?", history) == (
        "Is there a cap on how many I can put in the -G (--groups) list, with useradd?"
    )
    listed = _history("Which settings set PATH at login?", "ENV_PATH for users and ENV_SUPATH for root. [1]")
    rewritten = rewrite_followup("which of those is for root?", listed)
    assert rewritten is not None and "ENV_PATH" in rewritten and "ENV_SUPATH" in rewritten


def test_a_number_takes_the_place_of_a_number() -> None:
    history = _history("What does exit status 4 mean for wget?", "Network failure. [1]")
    assert rewrite_followup("And 8?", history) == "What does exit status 8 mean for wget?"


def test_a_follow_up_that_names_nothing_asks_about_the_previous_subject() -> None:
    history = _history("What does tar -z do?", "It filters the archive through gzip. [1]")
    assert rewrite_followup("default compression level?", history) == "Default compression level, for tar -z?"
    assert rewrite_followup("is the output deterministic?", history) == "Is the output deterministic, for tar -z?"
    assert rewrite_followup("Does gzip keep the original file?", history) is None  # names its own subject
    assert rewrite_followup("How does tar handle sparse files?", history) is None  # shares a word: stands alone


def test_a_question_that_stands_alone_is_left_alone() -> None:
    standalone = "How many Druze civilians were killed in Sweida?"
    assert rewrite_followup(standalone, _history("Who is Putin's envoy?")) is None
    assert rewrite_followup("What about ssh?", []) is None


def test_ask_rewrites_a_follow_up_and_says_so(client: TestClient) -> None:
    history = [
        {"role": "user", "content": "How many Druze civilians were killed in Sweida?"},
        {"role": "assistant", "content": "More than 215. [1]"},
    ]
    body = client.post("/ask", json={"question": "What about Damascus?", "history": history}).json()
    assert body["rewritten_question"] == "How many Druze civilians were killed in Damascus?"


def test_the_openai_surface_rewrites_it_too(client: TestClient) -> None:
    """/v1 (the model is the collection) carries the same rewrite in its qa extension."""
    messages = [
        {"role": "user", "content": "How many Druze civilians were killed in Sweida?"},
        {"role": "assistant", "content": "More than 215. [1]"},
        {"role": "user", "content": "What about Damascus?"},
    ]
    body = client.post("/v1/chat/completions", json={"model": "default", "messages": messages}).json()
    assert body["qa"]["rewritten_question"] == "How many Druze civilians were killed in Damascus?"
