"""``python -m evals.training.report``: the counts of evals/training/README.md, computed from the data.

Questions per kind and per document kind, claim pairs per kind, the split, and the question-gold word
overlap beside the eval dev splits' (share of a question's content terms, stemmed, found in its gold
evidence: the lower, the more the question paraphrases). The README's section between the markers is
rewritten from this; a test checks that it is current.
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import get_args

from evals.training.data import ANSWERABLE_KINDS, ClaimKind, ClaimPair, TrainingQuestion, load_claims, load_questions
from evals.training.documents import BY_NAME, DOCUMENTS

README = Path(__file__).parent / "README.md"
BEGIN, END = "<!-- counts: begin (python -m evals.training.report --write) -->", "<!-- counts: end -->"
QUESTION_KINDS = ("answerable", "multi_sentence", "near_miss", "false_premise", "instruction")
CLAIM_KINDS = get_args(ClaimKind)
DOCUMENT_KINDS = tuple(dict.fromkeys(d.kind for d in DOCUMENTS))


def overlap(question: str, evidence: list[str] | tuple[str, ...]) -> float | None:
    """Share of the question's content terms (stemmed) that its gold evidence holds."""
    from qa_service.text import stem_terms

    asked = set(stem_terms(question))
    if not asked:
        return None
    held = {t for e in evidence for t in stem_terms(e)}
    return len(asked & held) / len(asked)


def _quartiles(values: list[float]) -> str:
    if not values:
        return "–"
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.mean(values):.2f} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f}"


def dev_overlaps() -> list[float]:
    from evals.dataset import DATASETS_DIR, load_dataset
    from evals.train import dev_suites

    values = []
    for dataset in dev_suites().values():
        for case in load_dataset(DATASETS_DIR / dataset):
            if case.answerable and case.gold_evidence:
                value = overlap(case.question, case.gold_evidence)
                if value is not None:
                    values.append(value)
    return values


def _pct(n: int, total: int) -> str:
    return f"{n} ({100 * n / total:.1f} %)" if total else "0"


def counts_markdown(questions: list[TrainingQuestion], claims: list[ClaimPair], dev: list[float]) -> str:
    lines: list[str] = []
    total = len(questions)
    kinds: Counter[str] = Counter(str(q.kind) for q in questions)
    answerable = sum(kinds[k] for k in ANSWERABLE_KINDS)
    docs_used = {q.document for q in questions}
    packages = {BY_NAME[d].package for d in docs_used}
    lines.append(
        f"**{total} questions** over **{len(docs_used)} documents** from **{len(packages)} packages**; "
        f"**{len(claims)} claim pairs**."
    )
    lines += ["", "| question kind | questions |", "|---|---|"]
    lines += [f"| {k} | {_pct(kinds[k], total)} |" for k in QUESTION_KINDS]
    lines.append(f"| answerable (answerable + multi_sentence) | {_pct(answerable, total)} |")
    lines += ["", "| document kind | documents | questions | claim pairs |", "|---|---|---|---|"]
    for kind in DOCUMENT_KINDS:
        docs = [d for d in DOCUMENTS if d.kind == kind and d.name in docs_used]
        names = {d.name for d in docs}
        n_q = sum(q.document in names for q in questions)
        n_c = sum(c.document in names for c in claims)
        lines.append(f"| {kind} | {len(docs)} | {_pct(n_q, total)} | {_pct(n_c, len(claims))} |")
    split_docs = Counter(BY_NAME[d].split for d in docs_used)
    split_q = Counter(BY_NAME[q.document].split for q in questions)
    lines += ["", "| split | documents | questions |", "|---|---|---|"]
    lines += [f"| {s} | {split_docs[s]} | {split_q[s]} |" for s in ("train", "validation")]
    ckinds: Counter[str] = Counter(str(c.kind) for c in claims)
    lines += ["", "| claim kind | claim pairs |", "|---|---|"]
    lines += [f"| {k} | {_pct(ckinds[k], len(claims))} |" for k in CLAIM_KINDS]
    ours = [v for q in questions if q.answerable and (v := overlap(q.question, q.evidence)) is not None]
    lines += [
        "",
        "Question–gold word overlap (answerable questions; share of a question's content terms found in its "
        "gold evidence):",
        "",
        "| questions | n | mean | 25th pct | median | 75th pct |",
        "|---|---|---|---|---|---|",
        f"| training corpus | {len(ours)} | {_quartiles(ours)} |",
        f"| eval dev splits | {len(dev)} | {_quartiles(dev)} |",
    ]
    per_q = Counter(q.document for q in questions)
    per_c = Counter(c.document for c in claims)
    lines += [
        "",
        "| document | package | kind | licence | split | file | questions | claim pairs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {d.name} | {d.package} | {d.kind} | {d.licence} | {d.split} | `{d.path}` | {per_q[d.name]} | "
        f"{per_c[d.name]} |"
        for d in DOCUMENTS
    ]
    return "\n".join(lines)


def current_counts() -> str:
    return counts_markdown(load_questions(), load_claims(), dev_overlaps())


def write_readme(counts: str) -> None:
    text = README.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n{counts}\n{END}{tail}", encoding="utf-8")


def readme_counts() -> str:
    text = README.read_text(encoding="utf-8")
    return text.partition(BEGIN)[2].partition(END)[0].strip()


if __name__ == "__main__":
    counts = current_counts()
    if "--write" in sys.argv:
        write_readme(counts)
    print(counts)
