"""Each answer scored against its pair, and the scores summed up: per system, per part, per kind of question.

The measures themselves (hit@k, key facts stated, citation precision …) are in ``eval/metrics.py`` and work
on plain strings; here they are applied to one system's ``Result`` for one ``Pair``.
"""

from __future__ import annotations

import math
from collections import defaultdict

from eval import metrics as m
from eval.baselines import Result
from eval.dataset import Pair, part_of

METRICS = {  # name: (what it measures, higher is better)
    "hit@1": "a supporting passage ranked first",
    "hit@3": "a supporting passage in the top 3",
    "hit@5": "a supporting passage in the top 5",
    "mrr": "mean reciprocal rank of the first supporting passage",
    "correct": "answerable: every key fact stated; unanswerable: declined",
    "facts": "share of key facts stated (answerable)",
    "f1": "token F1 with the reference answer (answerable)",
    "cite_p": "citation precision: cited passages that support the answer",
    "cite_r": "citation recall: stated facts that a cited passage holds",
    "markers": "every [n] names a cited passage and every citation is named (answers that are not declined)",
    "abstain": "declined when the articles do not answer",
    "false_abstain": "declined although the articles answer (lower is better)",
}
K = 5  # the retrieval metrics look at the top K passages


def score(pair: Pair, result: Result) -> dict[str, float | None]:
    """Every metric of one answer; None where a metric does not apply to it."""
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    if pair.answerable:
        rank = m.first_hit(result.retrieved[:K], pair.passages)
        out.update({"hit@1": m.hit_at(rank, 1), "hit@3": m.hit_at(rank, 3), "hit@5": m.hit_at(rank, 5),
                    "mrr": m.reciprocal_rank(rank)})
    if result.answer is None:
        return out
    if pair.answerable:
        text = "" if result.abstained else result.answer
        out["facts"] = m.fact_recall(pair.facts, text)
        out["correct"] = float(out["facts"] == 1.0)
        out["f1"] = m.token_f1(text, pair.answer)
        out["false_abstain"] = float(result.abstained)
        if not result.abstained:
            out["cite_p"] = m.citation_precision(result.cited, pair.passages, pair.facts)
            out["cite_r"] = m.citation_recall(text, result.cited, pair.facts)
    else:
        out["abstain"] = out["correct"] = float(result.abstained)
    if not result.abstained and result.markers_valid is not None:
        out["markers"] = float(result.markers_valid and bool(result.cited))
    return out


def summarise(rows: list[tuple[Pair, Result]], own: set[str] | None = None) -> dict[str, float]:
    """Every metric over ``rows``; with ``own`` (the articles the pairs are about, when other articles share
    the index) also the number of answers that cite an article outside it."""
    scores = [score(p, r) for p, r in rows]
    summary = {name: m.mean(s[name] for s in scores) for name in METRICS}
    seconds = [r.seconds for _, r in rows]
    checked = [r for _, r in rows if r.language_ok is not None]
    summary.update({"unsupported": float(sum(bool(r.unsupported) for r in checked)) if checked else math.nan,
                    "wrong_language": float(sum(not r.language_ok for r in checked)) if checked else math.nan,
                    "unrelated": float(sum(bool(set(r.cited_articles) - own) for r in checked
                                           if not r.abstained)) if checked and own is not None else math.nan})
    summary.update({"p50_s": m.percentile(seconds, .5), "p95_s": m.percentile(seconds, .95),
                    "top3_chars": m.mean(sum(map(len, r.retrieved[:3])) for _, r in rows)})
    return summary


def by_part(rows_by_system: dict[str, list[tuple[Pair, Result]]], articles: dict[str, str],
            own: set[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """``summarise`` of each system over each part's pairs, held-out first (``articles``: file name to text,
    as ``eval.dataset.part_of`` splits the pairs by the article they quote)."""
    return {part: {name: summarise([(p, r) for p, r in rows if part_of(p, articles) == part], own)
                   for name, rows in rows_by_system.items()} for part in ("held-out", "calibration")}


def by_kind(rows: list[tuple[Pair, Result]]) -> dict[str, tuple[float, int]]:
    """The share of correct answers for each kind of question, with the number of questions scored."""
    groups: dict[str, list[float]] = defaultdict(list)
    for pair, result in rows:
        value = score(pair, result)["correct"]
        if value is not None:
            groups[pair.kind].append(value)
    return {kind: (sum(v) / len(v), len(v)) for kind, v in groups.items()}
