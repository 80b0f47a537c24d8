"""The labelling audit: a second writer re-labels a random 5 % of the questions and claim pairs.

``python -m evals.training.audit sample DIR [--round2]`` writes the sample (of the second round's documents
alone with ``--round2``) without its labels (a question's text and
document; a claim with its cited evidence); the second writer labels it from the documents alone into
``audit/questions.jsonl`` and ``audit/claims.jsonl``; ``python -m evals.training.audit score`` compares the
two labellings and writes ``audit.json``:
- kind: answerable (one or two sentences) / near miss / false premise / instruction, as both writers read it;
- evidence: of the questions both call answerable, how often their evidence overlaps in the stored text;
- short answer: of those where both give one, how often they are the same phrase (case and spaces aside);
- claims: supported or not.
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path

from evals.training.check import stored_text
from evals.training.data import load_claims, load_questions, locate

AUDIT_DIR = Path(__file__).parent / "audit"
AUDIT_FILE = Path(__file__).parent / "audit.json"
SHARE = 0.05
SEED = 2026


def _kind(kind: str) -> str:
    return "answerable" if kind in ("answerable", "multi_sentence") else kind


def sample(out: Path, documents: set[str] | None = None) -> tuple[int, int]:
    """5 % of the questions and claim pairs (of ``documents`` only: a later round's own sample)."""
    questions, claims = load_questions(), load_claims()
    if documents is not None:
        questions = [q for q in questions if q.document in documents]
        claims = [c for c in claims if c.document in documents]
    rng = random.Random(SEED)
    qs = sorted(rng.sample(questions, math.ceil(SHARE * len(questions))), key=lambda q: q.id)
    cs = sorted(rng.sample(claims, math.ceil(SHARE * len(claims))), key=lambda c: c.id)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "questions.jsonl").open("w", encoding="utf-8") as f:
        for q in qs:
            f.write(json.dumps({"id": q.id, "document": q.document, "question": q.question}, ensure_ascii=False) + "\n")
    with (out / "claims.jsonl").open("w", encoding="utf-8") as f:
        for c in cs:
            record = {"id": c.id, "document": c.document, "claim": c.claim, "evidence": list(c.evidence)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(qs), len(cs)


def _read(pattern: str) -> dict[str, dict[str, object]]:
    """Every round's relabels (``questions.jsonl``, ``questions-round2.jsonl``, ...)."""
    rows = [
        json.loads(line)
        for path in sorted(AUDIT_DIR.glob(pattern))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return {str(r["id"]): r for r in rows}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def score() -> dict[str, object]:
    questions = {q.id: q for q in load_questions()}
    claims = {c.id: c for c in load_claims()}
    relabelled = _read("questions*.jsonl")
    rejudged = _read("claims*.jsonl")
    kind_agree = evidence_both = evidence_agree = short_both = short_agree = 0
    for qid, second in relabelled.items():
        first = questions[qid]
        kind = _kind(str(second["kind"]))
        kind_agree += int(kind == _kind(first.kind))
        if kind == "answerable" and first.answerable:
            text = stored_text(first.document)
            ours = [s for e in first.evidence if (s := locate(text, e))]
            theirs = [s for e in second.get("evidence") or [] if (s := locate(text, str(e)))]  # type: ignore[attr-defined]
            evidence_both += 1
            evidence_agree += int(any(a[0] < b[1] and b[0] < a[1] for a in ours for b in theirs))
            if first.short_answer and second.get("short_answer"):
                short_both += 1
                short_agree += int(_norm(first.short_answer) == _norm(str(second["short_answer"])))
    claim_agree = sum(int(bool(r["supported"]) == claims[cid].supported) for cid, r in rejudged.items())
    result: dict[str, object] = {
        "about": "a second writer re-labelled a random 5 % (seed 2026) from the documents alone; "
        "python -m evals.training.audit score",
        "relabelled": len(relabelled),
        "claims_rejudged": len(rejudged),
        "agreement": {
            "answerable": round(
                sum(
                    int((_kind(str(r["kind"])) == "answerable") == questions[q].answerable)
                    for q, r in relabelled.items()
                )
                / max(1, len(relabelled)),
                3,
            ),
            "kind": round(kind_agree / max(1, len(relabelled)), 3),
            "evidence_overlaps": round(evidence_agree / max(1, evidence_both), 3),
            "evidence_pairs": evidence_both,
            "short_answer_same": round(short_agree / max(1, short_both), 3),
            "short_answer_pairs": short_both,
            "claim_supported": round(claim_agree / max(1, len(rejudged)), 3),
        },
    }
    AUDIT_FILE.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["sample"]:  # sample DIR [--round2]
        from evals.training.documents import SECOND_ROUND

        print(sample(Path(sys.argv[2]), {d.name for d in SECOND_ROUND} if "--round2" in sys.argv else None))
    else:
        print(json.dumps(score(), indent=1))
