"""The lexical checks that verify.py ran before the claim judge (qa_service/answering/judge.py) replaced them: a
claim is unsupported when it holds a number or a name its cited spans do not, or when under 60 % of its content
terms (beyond the question's) are in them. Not served; kept as the baseline the judge is measured against, on the
same claim pairs (evals/training/judge_train.py, evals/claim_pairs.py)."""

from __future__ import annotations

from qa_service.answering.question import QuestionAnalysis, analyze_question
from qa_service.text import mentions, numbers, proper_names, stem_terms, words

MIN_TERM_SUPPORT = 0.6  # share of an answer sentence's content words that its cited spans must hold


def lexical_problems(sentence: str, spans: list[str], question: QuestionAnalysis | None = None) -> list[str]:
    """What the words show: numbers or names the cited spans lack, or too few of the sentence's terms."""
    question = question or analyze_question("What do the documents say?")
    evidence = " ".join(spans)
    problems: list[str] = []
    missing_numbers = numbers(sentence) - numbers(evidence)
    if missing_numbers:
        problems.append(f"numbers not in the cited evidence: {sorted(missing_numbers)}")
    evidence_words = set(words(evidence))
    missing_names = {n for n in proper_names(sentence) if not mentions(n, evidence_words, strict=True)}
    if missing_names:
        problems.append(f"names not in the cited evidence: {sorted(missing_names)}")
    terms = set(stem_terms(sentence)) - set(question.key_terms)
    if terms:
        supported = len(terms & set(stem_terms(evidence))) / len(terms)
        if supported < MIN_TERM_SUPPORT:
            problems.append(f"only {supported:.0%} of its key terms are in the cited evidence")
    return problems
