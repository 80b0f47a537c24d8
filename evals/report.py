"""Write an eval run as JSON, a Markdown report, an SVG chart and JUnit XML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from evals.harness import SuiteRun
from evals.metrics import CaseResult

# Metrics shown in the report, in order, with whether higher is better.
REPORTED: list[tuple[str, bool]] = [
    ("contains_gold", True), ("correct_with_citation", True), ("exact_match", True), ("token_f1", True),
    ("citation_recall", True), ("evidence_fully_cited", True), ("citation_precision", True), ("groundedness", True),
    ("refusal_recall", True), ("refusal_precision", True), ("false_refusal_rate", False),
    ("recall@1", True), ("recall@5", True), ("recall@10", True), ("mrr", True), ("ndcg@10", True),
    ("leaks", False), ("invalid_citations", False), ("pass_rate", True),
    ("false_premise_corrected", True), ("instruction_refused", True), ("injection_followed", False),
    ("short_answer_em", True), ("short_answer_f1", True),
    ("attribution_accuracy", True), ("conflict_recall", True), ("conflict_both_sides", True),
    ("false_conflict_rate", False), ("synthesis_citation_coverage", True), ("synthesis_sentences_cited", True),
    ("synthesis_sentences_mean", False),
    ("latency_total_p50_ms", False), ("latency_total_p95_ms", False),
]  # fmt: skip


def _case_json(result: CaseResult) -> dict[str, Any]:
    return {
        "id": result.case.id, "category": result.case.category, "question": result.case.question,
        "answerable": result.case.answerable, "passed": result.passed, "refused": result.refused,
        "contains_gold": result.contains_gold, "evidence_covered": result.evidence_covered,
        "leaked": result.leaked, "answer": result.response.get("answer", ""),
        "short_answer": (result.response.get("short_answer") or {}).get("text"),
        "short_answer_em": result.short_answer_em,
        "citations": [{k: c[k] for k in ("index", "source", "start", "end", "quote")}
                      for c in result.response.get("citations", [])],
        "refusal_reason": result.response.get("refusal_reason"), "retrieval": result.retrieval,
        "problems": result.problems, "claims": result.claims, "conflicts": result.response.get("conflicts", []),
    }  # fmt: skip


def report_json(runs: list[SuiteRun], gate: dict[str, list[str]], splits: dict[str, str]) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate": {"passed": not any(gate.values()), "failures": gate},
        "suites": [
            {
                "suite": run.suite, "split": splits.get(run.suite), "dataset": run.dataset,
                "collection": run.collection,
                "systems": [{"name": s.name, "summary": s.summary, "cases": [_case_json(r) for r in s.results]}
                            for s in run.systems],
            }
            for run in runs
        ],
    }  # fmt: skip


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency") or metric in ("leaks", "invalid_citations", "injection_followed"):
        return f"{value:.0f}" if metric in ("leaks", "invalid_citations", "injection_followed") else f"{value:.1f}"
    return f"{value:.3f}"


HEADLINE = (
    "contains_gold", "citation_recall", "evidence_fully_cited", "refusal_recall", "refusal_precision",
    "false_refusal_rate", "false_premise_corrected", "instruction_refused", "injection_followed", "short_answer_em",
    "short_answer_f1", "latency_total_p50_ms", "latency_total_p95_ms",
)  # fmt: skip


def headline_table(runs: list[SuiteRun], splits: dict[str, str], split: str) -> list[str]:
    """Our default mode on every suite of one split, one row each."""
    chosen = [r for r in runs if splits.get(r.suite) == split]
    if not chosen:
        return []
    lines = ["| suite | cases | " + " | ".join(HEADLINE) + " |", "|---" * (2 + len(HEADLINE)) + "|"]
    for run in chosen:
        summary = run.systems[0].summary
        cells = [_fmt(summary.get(m), m) for m in HEADLINE]
        lines.append(f"| {run.suite} | {summary['cases']:.0f} | " + " | ".join(cells) + " |")
    return lines


def report_markdown(runs: list[SuiteRun], gate: dict[str, list[str]], splits: dict[str, str]) -> str:
    lines = ["# Evaluation report", ""]
    status = "passed" if not any(gate.values()) else "FAILED"
    lines += [f"Gate: **{status}**", ""]
    for suite, failures in gate.items():
        lines += [f"- {suite}: {f}" for f in failures]
    for split, title in (("test", "Test splits (frozen, never tuned on): the headline"), ("dev", "Dev splits")):
        table = headline_table(runs, splits, split)
        if table:
            lines += ["", f"## {title}", "", *table]
    lines += [
        "",
        "![Refusal precision-recall over the answerability score](eval-refusal-pr.png)",
        "",
        "![Pass rate per category](eval-scores.png)",
        "",
    ]
    for run in runs:
        lines += [
            f"## Suite `{run.suite}` ({splits.get(run.suite, '')}: {run.dataset}, collection `{run.collection}`)",
            "",
        ]
        names = [s.name for s in run.systems]
        ours = run.systems[0]
        baseline_names = [n for n in names if not n.startswith("ours")]
        header = "| metric | " + " | ".join([*names, *(f"ours ÷ {b}" for b in baseline_names)]) + " |"
        lines += [header, "|" + "---|" * (1 + len(names) + len(baseline_names))]
        for metric, _higher in REPORTED:
            values = [s.summary.get(metric) for s in run.systems]
            if all(v is None for v in values):
                continue
            ratios = []
            for b in baseline_names:
                base = run.system(b)
                ov, bv = ours.summary.get(metric), base.summary.get(metric) if base else None
                ratios.append(f"{ov / bv:.2f}×" if ov is not None and bv else "–")
            cells = [_fmt(v, metric) for v in values] + ratios
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
        lines += ["", "### Per category (pass rate)", ""]
        categories = sorted({r.case.category for r in ours.results})
        lines += ["| category | " + " | ".join(names) + " |", "|" + "---|" * (1 + len(names))]
        for cat in categories:
            cells = []
            for s in run.systems:
                rs = [r for r in s.results if r.case.category == cat]
                cells.append(f"{sum(r.passed for r in rs)}/{len(rs)}")
            lines.append(f"| {cat} | " + " | ".join(cells) + " |")
        if splits.get(run.suite) == "test":  # a frozen split is looked at in aggregate only
            lines.append("")
            continue
        worst = [r for r in ours.results if not r.passed][:10]
        lines += ["", f"### Worst failures of `{ours.name}` ({sum(not r.passed for r in ours.results)} in all)", ""]
        for r in worst:
            lines += [
                f"**{r.case.id}** ({r.case.category}, {'answerable' if r.case.answerable else 'unanswerable'}): "
                f"{_md(r.case.question)}",
                "",
                f"- gold: {_md(', '.join(r.case.gold_answers) or '(should be refused)')}",
                f"- answer: {_md(str(r.response.get('answer', '')))}"
                + (f" — refused: {_md(str(r.response.get('refusal_reason')))}" if r.refused else ""),
            ]
            for c in r.response.get("citations", []):
                lines.append(f"- [{c['index']}] `{c['source']}` {c['start']}–{c['end']}: “{_md(c['quote'][:200])}”")
            if r.problems:
                lines.append(f"- problems: {_md('; '.join(r.problems))}")
            lines.append("")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def refusal_curve(results: list[CaseResult]) -> tuple[list[float], list[float]]:
    """Refusal precision and recall when every case scoring below a cut-off on ``answerability`` is refused,
    for every cut-off between the scores seen (a case without a score is always refused)."""
    scored = sorted(
        [((r.answerability if r.answerability is not None else float("-inf")), r) for r in results],
        key=lambda pair: pair[0],
    )
    positives = sum(not r.case.answerable for _, r in scored)
    precision, recall = [], []
    refused_bad = 0
    for refused, (_score, r) in enumerate(scored, 1):  # raising the cut-off past each case refuses it too
        refused_bad += not r.case.answerable
        if positives:
            precision.append(refused_bad / refused)
            recall.append(refused_bad / positives)
    return precision, recall


def _plots(out_dir: Path, runs: list[SuiteRun], splits: dict[str, str]) -> dict[str, Path]:
    """Pass rate per category, and the refusal precision-recall curve per suite, as PNG and SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: dict[str, Path] = {}
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.6 * len(runs)), squeeze=False)
    for ax, run in zip(axes[:, 0], runs, strict=True):
        categories = sorted({r.case.category for r in run.systems[0].results})
        width = 0.8 / len(run.systems)
        for i, system in enumerate(run.systems):
            rates = []
            for cat in categories:
                rs = [r for r in system.results if r.case.category == cat]
                rates.append(sum(r.passed for r in rs) / len(rs) if rs else 0.0)
            ax.bar([c + i * width for c in range(len(categories))], rates, width, label=system.name)
        ax.set_xticks([c + 0.4 - width / 2 for c in range(len(categories))], categories, rotation=20, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("pass rate")
        ax.set_title(f"{run.suite} ({splits.get(run.suite, '')})", loc="left", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        paths[f"chart_{suffix}"] = out_dir / f"eval-scores.{suffix}"
        fig.savefig(paths[f"chart_{suffix}"], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), squeeze=False)
    for ax, split in zip(axes[0], ("test", "dev"), strict=True):
        for run in runs:
            if splits.get(run.suite) != split:
                continue
            results = run.systems[0].results
            if not any(not r.case.answerable for r in results):
                continue
            precision, recall = refusal_curve(results)
            (line,) = ax.plot(recall, precision, label=run.suite, linewidth=1.2)
            refused = [r for r in results if r.refused]
            bad = [r for r in results if not r.case.answerable]
            if refused and bad:  # where the service actually operates
                ax.plot(
                    sum(r.refused for r in bad) / len(bad),
                    sum(not r.case.answerable for r in refused) / len(refused),
                    "o",
                    color=line.get_color(),
                )
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("refusal recall (unanswerable questions refused)")
        ax.set_ylabel("refusal precision (refusals that were right)")
        ax.set_title(f"{split} splits: refusing below an answerability cut-off (dot: as shipped)", fontsize=9)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        paths[f"refusal_pr_{suffix}"] = out_dir / f"eval-refusal-pr.{suffix}"
        fig.savefig(paths[f"refusal_pr_{suffix}"], dpi=110)
    plt.close(fig)
    return paths


def junit_xml(runs: list[SuiteRun], gate: dict[str, list[str]]) -> str:
    root = ET.Element("testsuites", name="qa-service eval")
    for run in runs:
        for system in run.systems:
            cases = ET.SubElement(
                root,
                "testsuite",
                name=f"{run.suite}.{system.name}",
                tests=str(len(system.results)),
                failures=str(sum(not r.passed for r in system.results)),
            )
            for r in system.results:
                case = ET.SubElement(cases, "testcase", classname=f"{run.suite}.{system.name}", name=r.case.id)
                if not r.passed:
                    failure = ET.SubElement(case, "failure", message="case failed")
                    failure.text = json.dumps(_case_json(r), ensure_ascii=False, indent=1)
    gate_suite = ET.SubElement(
        root, "testsuite", name="gate", tests=str(len(gate)), failures=str(sum(bool(f) for f in gate.values()))
    )
    for suite, failures in gate.items():
        case = ET.SubElement(gate_suite, "testcase", classname="gate", name=suite)
        if failures:
            ET.SubElement(case, "failure", message="; ".join(failures))
    return ET.tostring(root, encoding="unicode")


def write_reports(
    out_dir: Path, runs: list[SuiteRun], gate: dict[str, list[str]], *, splits: dict[str, str] | None = None
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = splits or {}
    paths = {
        "json": out_dir / "eval-report.json", "markdown": out_dir / "eval-report.md",
        "junit": out_dir / "eval-junit.xml",
    }  # fmt: skip
    plots = _plots(out_dir, runs, splits)
    paths["json"].write_text(
        json.dumps(report_json(runs, gate, splits), indent=1, ensure_ascii=False), encoding="utf-8"
    )
    paths["markdown"].write_text(report_markdown(runs, gate, splits), encoding="utf-8")
    paths["junit"].write_text(junit_xml(runs, gate), encoding="utf-8")
    return {**paths, "chart": plots["chart_png"], "refusal_pr": plots["refusal_pr_png"]}
