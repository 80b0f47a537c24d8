"""Definitional questions ("What is X?", "What does X do?") are answered with the sentence that defines X."""

from __future__ import annotations

import pytest

from qa_service.answering.definitions import DEFINES, TITLED, defines, definition_subject
from tests.conftest import ask_about


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What is a tuple in Python?", ("tupl",)),  # cut at the first preposition
        ("What does the rsync program do?", ("rsync",)),  # a kind noun is not part of what must be named
        ("What is /srv used for?", ("srv",)),
        ("What's the purpose of the tmpfs filesystem?", ("tmpfs", "filesystem")),
        ("What job does the cron daemon perform?", ("cron", "daemon")),
        ("What are wheels?", ("wheel",)),
        # Not definitional: a value, a clause, a question about behaviour in a situation.
        ("What is the default port used by the server?", ()),
        ("What does close() do when the file is already closed?", ()),
        ("How many workers does the pool start?", ()),
        # A relation, not a thing: "the return value of", "the difference between"; no subject at all.
        ("What is the return value of os.fork()?", ()),
        ("What is the difference between a list and a tuple?", ()),
        ("What is used for logging?", ()),
    ],
)
def test_the_subject_of_a_definitional_question(question: str, subject: tuple[str, ...]) -> None:
    assert definition_subject(question) == subject


@pytest.mark.parametrize(
    ("sentence", "intro", "opens_block", "strength"),
    [
        ("A tuple is an immutable sequence of values.", None, False, DEFINES),
        ("Instances of tuple compare by their items.", None, False, DEFINES),
        ("The sequences of fixed length are called tuples.", None, False, DEFINES),
        # under a heading titled with the subject, the opening sentence defines it, whatever its words
        ("Build an immutable sequence from an iterable.", "4.2. tuple : Immutable sequences", True, TITLED),
        # after a sentence naming it, a sentence referring back goes on defining it
        ("This type holds any objects.", "Python has a type named tuple.", False, DEFINES),
        # passing mentions, lists, and a sentence after one naming it that does not refer back
        ("Python provides both lists and tuples.", None, False, 0.0),
        ("a tuple, or a list", None, False, 0.0),
        ("Recall that a tuple cannot be changed.", None, False, 0.0),
        ("Lists can be changed.", "Python has a type named tuple.", False, 0.0),
    ],
)
def test_which_sentences_define_the_subject(
    sentence: str, intro: str | None, opens_block: bool, strength: float
) -> None:
    assert defines(("tupl",), sentence, intro=intro, opens_block=opens_block) == strength


def test_a_what_does_question_is_answered_with_the_definition_not_a_passing_mention(fresh_services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The passing mention shares more of the question's words ("sync", "program", "mirror"); the answer
    is still the sentence that says what the program does."""
    document = (
        "tools.md",
        "# Mirrors\n\n"
        "Our mirror servers run the vsync program every night, and the vsync program logs to the mirror log.\n\n"
        "# Tools\n\n"
        "## vsync\n\n"
        "Copies a directory tree to another host, sending only the blocks that changed since the last copy.\n\n"
        "## vclean\n\n"
        "Removes the copies older than a week.\n",
    )
    answer = ask_about(fresh_services, tmp_path, document, "What does the vsync program do?")
    assert not answer.refused
    assert answer.answer.startswith("Copies a directory tree to another host")
    assert [c.heading_path for c in answer.citations] == ["Tools › vsync"]
