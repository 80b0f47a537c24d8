"""Write an eval run as JSON, a Markdown report, an SVG chart and JUnit XML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
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
        "citations": [{k: c[k] for k in ("index", "source", "start", "end", "quote")}
                      for c in result.response.get("citations", [])],
        "refusal_reason": result.response.get("refusal_reason"), "retrieval": result.retrieval,
        "problems": result.problems, "claims": result.claims, "conflicts": result.response.get("conflicts", []),
    }  # fmt: skip


def report_json(runs: list[SuiteRun], gate: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate": {"passed": not any(gate.values()), "failures": gate},
        "suites": [
            {
                "suite": run.suite, "dataset": run.dataset, "collection": run.collection,
                "systems": [{"name": s.name, "summary": s.summary, "cases": [_case_json(r) for r in s.results]}
                            for s in run.systems],
            }
            for run in runs
        ],
    }  # fmt: skip


def _fmt(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency") or metric in ("leaks", "invalid_citations"):
        return f"{value:.0f}" if metric in ("leaks", "invalid_citations") else f"{value:.1f}"
    return f"{value:.3f}"


def report_markdown(runs: list[SuiteRun], gate: dict[str, list[str]], chart: str | None) -> str:
    lines = ["# Evaluation report", ""]
    status = "passed" if not any(gate.values()) else "FAILED"
    lines += [f"Gate: **{status}**", ""]
    for suite, failures in gate.items():
        lines += [f"- {suite}: {f}" for f in failures]
    if chart:
        lines += ["", f"![Scores per category]({chart})", ""]
    for run in runs:
        lines += [f"## Suite `{run.suite}` ({run.dataset}, collection `{run.collection}`)", ""]
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


def chart_svg(runs: list[SuiteRun]) -> str:
    """Grouped bars: pass rate per category, one colour per system, one panel per suite."""
    colors = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280"]
    bar_w, gap, panel_h, top = 14, 18, 200, 40
    panels = []
    y = top
    width = 760
    for run in runs:
        categories = sorted({r.case.category for r in run.systems[0].results})
        group_w = len(run.systems) * bar_w + gap
        width = max(width, 80 + group_w * len(categories) + 40)
        parts = [f'<text x="10" y="{y - 10}" font-size="14" font-weight="bold">{escape(run.suite)}</text>']
        parts.append(
            f'<line x1="60" y1="{y + panel_h}" x2="{60 + group_w * len(categories)}" y2="{y + panel_h}" stroke="#333"/>'
        )
        for tick in (0.0, 0.5, 1.0):
            ty = y + panel_h - tick * panel_h
            parts.append(f'<text x="30" y="{ty + 4}" font-size="10">{tick:.1f}</text>')
            parts.append(f'<line x1="58" y1="{ty}" x2="{60 + group_w * len(categories)}" y2="{ty}" stroke="#ddd"/>')
        for ci, cat in enumerate(categories):
            gx = 60 + ci * group_w + gap / 2
            for si, system in enumerate(run.systems):
                rs = [r for r in system.results if r.case.category == cat]
                rate = sum(r.passed for r in rs) / len(rs) if rs else 0.0
                h = rate * panel_h
                parts.append(
                    f'<rect x="{gx + si * bar_w}" y="{y + panel_h - h}" width="{bar_w - 2}" height="{h}" '
                    f'fill="{colors[si % len(colors)]}"><title>{escape(system.name)} {escape(cat)}: '
                    f"{rate:.2f}</title></rect>"
                )
            parts.append(f'<text x="{gx}" y="{y + panel_h + 14}" font-size="10">{escape(cat)}</text>')
        legend_x = 60
        for si, system in enumerate(run.systems):
            parts.append(
                f'<rect x="{legend_x}" y="{y + panel_h + 24}" width="10" height="10" '
                f'fill="{colors[si % len(colors)]}"/>'
            )
            parts.append(
                f'<text x="{legend_x + 14}" y="{y + panel_h + 33}" font-size="11">{escape(system.name)}</text>'
            )
            legend_x += 20 + 7 * len(system.name)
        panels.append("\n".join(parts))
        y += panel_h + 90
    body = "\n".join(panels)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
    )


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


def write_reports(out_dir: Path, runs: list[SuiteRun], gate: dict[str, list[str]]) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "eval-report.json", "markdown": out_dir / "eval-report.md",
        "chart": out_dir / "eval-scores.svg", "junit": out_dir / "eval-junit.xml",
    }  # fmt: skip
    paths["json"].write_text(json.dumps(report_json(runs, gate), indent=1, ensure_ascii=False), encoding="utf-8")
    paths["chart"].write_text(chart_svg(runs), encoding="utf-8")
    paths["markdown"].write_text(report_markdown(runs, gate, paths["chart"].name), encoding="utf-8")
    paths["junit"].write_text(junit_xml(runs, gate), encoding="utf-8")
    return paths
