"""``python -m evals.training.check FILE...``: validate training questions or claims against the stored text.

Writers run it on their files while writing; ``tests/test_training_data.py`` runs it on every file.
"""

from __future__ import annotations

import json
import sys
import warnings
from functools import cache
from pathlib import Path

from evals.training.data import check_claims, check_questions, load_claims, load_questions
from evals.training.documents import BY_NAME


@cache
def stored_text(name: str) -> str:
    """The text the service stores for a training document (loading and cleaning, no model)."""
    from qa_service.ingest.pipeline import prepare_document, source_name

    path = BY_NAME[name].file()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4's XML-as-HTML notice for XHTML pages
        return prepare_document(path.read_bytes(), source_name(path)).text


def stored_texts(names: set[str]) -> dict[str, str]:
    return {n: stored_text(n) for n in sorted(names) if n in BY_NAME}


def check_file(path: Path) -> list[str]:
    if path.parent.name == "claims":
        claims = load_claims([path])
        return check_claims(claims, stored_texts({c.document for c in claims}))
    questions = load_questions([path])
    return check_questions(questions, stored_texts({q.document for q in questions}))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write-offsets"]:
        from evals.training.data import write_offsets

        for arg in argv[1:]:
            path = Path(arg)
            documents = {json.loads(line)["document"] for line in path.read_text(encoding="utf-8").splitlines() if line}
            write_offsets(path, stored_texts(documents))
        argv = argv[1:]
    problems = [f"{path.name}: {p}" for arg in argv for path in [Path(arg)] for p in check_file(path)]
    for p in problems:
        print(p)
    print(f"{len(problems)} problems in {len(argv)} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
