"""What a run leaves to read: the tables, ``report.md`` (the tables, the weakest kind of question, every wrong
answer), ``metrics.png`` and ``answers.jsonl`` (every answer with its scores)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

from eval.baselines import Result
from eval.dataset import KINDS, QUESTIONS, Pair, part_of
from eval.scoring import K, METRICS, score
from eval.systems import SYSTEMS
from qa.config import Settings


def table(summaries: dict[str, dict[str, float]]) -> str:
    """One row for each system's summary, one column for each metric (a dash where it does not apply)."""
    columns = [*METRICS, "unsupported", "wrong_language", "unrelated", "p50_s", "p95_s", "top3_chars"]
    if all(math.isnan(s["unrelated"]) for s in summaries.values()):
        columns.remove("unrelated")
    lines = ["| system | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, s in summaries.items():
        cells = ["—" if math.isnan(s[c]) else f"{s[c]:.2f} s" if c.endswith("_s") else
                 f"{s[c]:,.0f}" if c in ("top3_chars", "unsupported", "wrong_language", "unrelated") else f"{s[c]:.2f}"
                 for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kind_table(kinds: dict[str, dict[str, tuple[float, int]]]) -> str:
    """The share correct by kind of question (rows) and system (columns)."""
    names = list(kinds)
    lines = ["| kind | n | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for kind in KINDS:
        counts = [kinds[n][kind][1] for n in names if kind in kinds[n]]
        if counts:
            cells = [f"{kinds[n][kind][0]:.2f}" if kind in kinds[n] else "—" for n in names]
            lines.append(f"| {kind} | {max(counts)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parts_section(by_part: dict[str, dict[str, dict[str, float]]], pairs: list[Pair],
                  articles: dict[str, str]) -> str:
    """The report's tables by part, each headed with its number of pairs."""
    return ("## By part (split by article: the calibration part's pairs may have been fitted on)\n\n"
            + "\n\n".join(f"### {part} ({sum(part_of(p, articles) == part for p in pairs)} pairs)\n\n" + table(s)
                          for part, s in by_part.items()))


def report(summaries, kinds, pairs, rows_by_system, settings: Settings, started: datetime, notes: list[str]) -> str:
    """``report.md``: the systems, the table, the metrics explained, correct by kind, ``notes``, and every
    question a system got wrong."""
    weakest = {name: min(k.items(), key=lambda kv: kv[1][0]) for name, k in kinds.items()
               if name in ("extractive", "llm")}
    lines = [
        f"# Eval report ({started:%Y-%m-%d %H:%M})",
        "",
        f"{len(pairs)} pairs from {QUESTIONS.name} ({sum(p.answerable for p in pairs)} answerable, "
        f"{sum(not p.answerable for p in pairs)} not answered by the articles); retrieval metrics over the "
        f"top {K}; embedding {settings.embed_model}; LLM mode {settings.llm_url or 'local model'}.",
        "",
        *[f"- **{name}**: {SYSTEMS[name]}" for name in summaries],
        "",
        table(summaries),
        "",
        "Metrics: " + "; ".join(f"**{k}** {v}" for k, v in METRICS.items()) + "; **p50_s/p95_s** seconds a "
        "question; **top3_chars** characters in the top 3 passages (bigger passages make hit@k easier and the "
        "LLM's prompt longer). A dash: the system does not produce that (retrieval only, or nothing to score).",
        "",
        "## Correct by kind of question",
        "",
        kind_table(kinds),
        "",
        *[f"Weakest kind for {name}: **{kind}** ({value:.2f} of {n})." for name, (kind, (value, n))
          in weakest.items()],
        *([""] + notes if notes else []),
        "",
        "## Questions a system got wrong",
        "",
    ]
    for name, rows in rows_by_system.items():
        wrong = [(p, r) for p, r in rows if score(p, r)["correct"] == 0.0]
        if wrong:
            lines += [f"### {name} ({len(wrong)})", ""]
            lines += [f"- `{p.id}` ({p.kind}) {p.question} → {(r.answer or '').strip()[:200]!r}" for p, r in wrong]
            lines.append("")
    return "\n".join(lines) + "\n"


def plot(summaries: dict[str, dict[str, float]], path: Path) -> None:
    """``metrics.png``: the metrics that are shares, one bar for each system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["hit@1", "hit@3", "mrr", "correct", "f1", "cite_p", "cite_r", "markers", "abstain", "false_abstain"]
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=120)
    width = 0.8 / max(1, len(summaries))
    for i, (name, s) in enumerate(summaries.items()):
        values = [0 if math.isnan(s[c]) else s[c] for c in shown]
        xs = [j + (i - (len(summaries) - 1) / 2) * width for j in range(len(shown))]
        ax.bar(xs, values, width, label=name)
    ax.set_xticks(range(len(shown)), shown)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of questions")
    ax.set_title("German news QA: this pipeline and baselines (false_abstain: lower is better)")
    ax.legend(ncols=len(summaries), loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_answers(rows_by_system: dict[str, list[tuple[Pair, Result]]], path: Path) -> None:
    """``answers.jsonl``: one line for each answer of each system, with its scores."""
    with path.open("w", encoding="utf-8") as f:
        for name, rows in rows_by_system.items():
            for pair, result in rows:
                f.write(json.dumps({"system": name, "id": pair.id, "kind": pair.kind, "question": pair.question,
                                    "asked": result.question, "answer": result.answer,
                                    "abstained": result.abstained, "answerer": result.answerer,
                                    "cited": result.cited, "cited_articles": list(result.cited_articles),
                                    "seconds": round(result.seconds, 3),
                                    "generated": result.generated, "fallback_reason": result.fallback_reason,
                                    "confidence": result.confidence,
                                    "scores": score(pair, result)}, ensure_ascii=False) + "\n")
