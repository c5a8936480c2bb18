"""Fit every number of ``qa.calibration`` on the calibration part of the dev data; write qa/calibration.json.

    python eval/calibrate.py            # fit, write qa/calibration.json and eval/calibration.md
    python eval/calibrate.py --dry-run  # fit and report, write nothing

The calibration part (split by article, see ``eval/xquad.py`` and ``eval.dataset.part_of``): the XQuAD
questions of the calibration articles, answerable or (their article left out of the index) not, and the
pairs of ``eval/questions.jsonl`` about the calibration seed articles. All are asked over one index: the
calibration XQuAD articles plus ``seeds/``. The held-out part is scored with the fitted numbers for the
report's trade-off table only; nothing is chosen by it.

0. Retrieval: the fusion's weights of the dense search against BM25 (``w_dense``) and of the best-sentence
   ranking (``w_sentences``), a grid scored by the mean reciprocal rank of the first passage holding the
   answer (news pairs and XQuAD averaged).
1. Sentence-score weights: a grid, for the most answerable questions whose best sentence holds the answer.
2. The answer/decline decision: a logistic regression over ``Evidence.FEATURES`` (answerable or not),
   and the probability to answer at: the highest that declines at most ``--max-false-decline`` of the
   answerable calibration questions. The features were chosen by forward selection on the calibration
   part's out-of-fold loss (2026-12-05: ``near`` and ``named`` added, each lowering it, and then
   ``reach``, the question's words anywhere in the retrieved passages, left out, since the loss was lower
   without it; the similarity gap between the best two sentences did not lower it). The report shows the
   loss with each feature left out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from eval import metrics as m  # noqa: E402
from eval import xquad  # noqa: E402
from eval.dataset import load_pairs, part_of, quoted_article  # noqa: E402
from qa.calibration import DEFAULT_PATH, Calibration  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.questions import language_of  # noqa: E402
from qa.decision import Decision, Evidence, gather  # noqa: E402

GRID = {"w_lexical": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4],
        "w_type": [0.0, 0.01, 0.02, 0.03, 0.05, 0.08],
        "w_rank": [0.0, 0.01, 0.02, 0.04, 0.06]}
DENSE_GRID = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
FUSION_GRID = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0]
MARGIN_GRID = [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 1.0]   # 1: every one of the best k
RIDGE = 1e-2
RIDGE_GRID = [1e-2, 0.1, 0.3, 1.0, 3.0, 10.0]


@dataclass
class Case:
    """One question, retrieved once: its candidates' score parts and which of them hold the answer."""

    source: str          # xquad or pairs
    part: str
    question: str
    answerable: bool
    language: str
    passages: list
    candidates: list     # relevance.Candidate, as ranked with the default weights
    right: np.ndarray    # per candidate: holds the answer
    parts: np.ndarray    # per candidate: similarity, lexical, typed, 1/(rank+1)
    group: str           # the article it is about (the unanswerable pairs, about none, are one group): the
                         # cross-validation's folds never split one


def cases_for(pipeline, items) -> list[Case]:
    """``items``: (source, part, question, answers or facts, answerable, quotes, group)."""
    out = []
    for source, part, question, answers, answerable, _quotes, group in items:
        retrieved = pipeline.retrieve(question)
        passages = retrieved.passages
        ranked = pipeline.ranker.rank(question, retrieved.vector, passages)
        if source == "xquad":
            right = [any(m.has_fact(a, c.text) for a in answers) for c in ranked]
        else:
            right = [m.fact_recall(answers, c.text) == 1.0 for c in ranked]
        parts = np.array([[c.similarity, c.lexical, float(c.typed), 1.0 / (c.rank + 1)] for c in ranked]
                         ).reshape(-1, 4)
        out.append(Case(source, part, question, answerable, language_of(question), passages, ranked,
                        np.array(right, dtype=bool), parts, group))
    return out


def retrieval_rankings(pipeline, items) -> list[tuple]:
    """(source, answers, quotes, the searches' rankings) of every answerable item, searched once; the
    rankings are fused with each grid point's weights by :func:`fused_ranks`."""
    from qa.retrieval import Retriever

    retriever = Retriever(pipeline.store, pipeline.embedder, top_k=pipeline.settings.top_k, sentence_weight=1.0)
    return [(source, answers, quotes, retriever.rankings(question))
            for source, _part, question, answers, answerable, quotes, _group in items if answerable]


def fused_ranks(pipeline, searched: list[tuple], dense: float, sentences: float) -> list[tuple[str, int | None]]:
    """(source, 1-based rank of the first passage holding the answer, or None) of every searched item, its
    rankings fused with the weights ``dense`` and ``sentences``."""
    from qa.retrieval import Retriever

    retriever = Retriever(pipeline.store, pipeline.embedder, top_k=pipeline.settings.top_k, dense_weight=dense,
                          sentence_weight=sentences)
    out = []
    for source, answers, quotes, rankings in searched:
        passages = retriever.fuse(rankings if sentences > 0 else rankings[:2])
        if source == "xquad":
            rank = next((i for i, p in enumerate(passages, 1)
                         if any(m.has_fact(a, c.text) for a in answers for c in p.chunks)), None)
        else:
            rank = m.first_hit(["\n".join(c.text for c in p.chunks) for p in passages], quotes)
        out.append((source, rank))
    return out


def balanced_mrr(ranks: list[tuple[str, int | None]]) -> float:
    return float(np.mean([np.mean([m.reciprocal_rank(r) for s, r in ranks if s == source] or [0.0])
                          for source in ("xquad", "pairs")]))


def hits(ranks: list[tuple[str, int | None]], source: str) -> str:
    mine = [r for s, r in ranks if s == source]
    return " / ".join(f"{np.mean([m.hit_at(r, k) for r in mine]):.3f}" for k in (1, 3, 5))


def top1(cases: list[Case], w: tuple[float, float, float]) -> float:
    """Share of answerable cases whose best sentence under weights ``w`` holds the answer."""
    weights = np.array([1.0, *w])
    hits = [c.right[int(np.argmax(c.parts @ weights))] for c in cases if c.answerable and len(c.right)]
    return float(np.mean(hits)) if hits else 0.0


def balanced_top1(cases: list[Case], w: tuple[float, float, float]) -> float:
    """``top1`` of the news pairs and of the XQuAD questions, averaged: 200 Wikipedia questions must not
    outvote 20 news questions, since news is what the product is for."""
    return float(np.mean([top1([c for c in cases if c.source == source], w) for source in ("xquad", "pairs")]))


def shown_recall(cases: list[Case], w: tuple[float, float, float], k: int, margin: float) -> tuple[float, float]:
    """(share of answerable cases with an answering sentence among those shown to the model, mean number
    shown) when the model is shown the best ``k`` within ``margin`` of the best score, under weights ``w``."""
    weights = np.array([1.0, *w])
    hits, shown = [], []
    for c in cases:
        if not (c.answerable and len(c.right)):
            continue
        scores = c.parts @ weights
        order = np.argsort(-scores)[:k]
        kept = order[scores[order] >= scores[order[0]] - margin]
        hits.append(c.right[kept].any())
        shown.append(len(kept))
    return (float(np.mean(hits)), float(np.mean(shown))) if hits else (0.0, 0.0)


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE) -> tuple[np.ndarray, float]:
    """Ridge-regularised logistic regression by Newton's method; the classes weighed equally."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    sample = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum())) * len(y)
    beta = np.zeros(xb.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(xb @ beta, -60, 60)))
        grad = xb.T @ (sample * (p - y)) + ridge * np.r_[beta[:-1], 0]
        hess = (xb * (sample * p * (1 - p))[:, None]).T @ xb + ridge * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: list[str], ridge: float) -> np.ndarray:
    """Each question's probability to be answerable from a fit on the other articles' questions (leave one
    article out): what the decision will say about an article it was not fitted on."""
    groups = np.array(groups)
    p = np.empty(len(y))
    for g in np.unique(groups):
        out = groups == g
        w, b = fit_logistic(x[~out], y[~out], ridge)
        p[out] = 1 / (1 + np.exp(-np.clip(x[out] @ w + b, -60, 60)))
    return p


def balanced_log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(0.5 * (-np.log(p[y == 1]).mean() - np.log(1 - p[y == 0]).mean()))


def evidence(pipeline, cal: Calibration, cases: list[Case]) -> list[Evidence]:
    ranker = pipeline.ranker
    ranker.calibration = cal
    out = []
    for c in cases:
        vector = pipeline.embedder.embed_query(c.question)
        ranked = ranker.rank(c.question, vector, c.passages)
        out.append(gather(c.question, ranked, c.language, ranker))
    return out


def tradeoff(conf: np.ndarray, answerable: np.ndarray, at: float) -> str:
    """'declined unanswerable of n | declined answerable of n' when answering at probability ``at``."""
    declined = conf < at
    return " | ".join(f"{declined[side].mean():.3f} of {side.sum()}" if side.any() else "—"
                      for side in (~answerable, answerable))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-false-decline", type=float, default=0.03,
                        help="share of answerable calibration questions that may be declined (default 0.03)")
    parser.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    articles, questions = xquad.load()
    seed_texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))}
    pairs = [p for p in load_pairs() if not p.history]  # follow-ups need a conversation, not one retrieval
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as work:
        cases: dict[str, list[Case]] = {}
        embedder = None
        pipelines, items = {}, {}
        for part in xquad.PARTS:
            pipelines[part] = xquad.build_pipeline(articles, part, settings, Path(work), embedder,
                                                   calibration=Calibration())
            embedder = pipelines[part].embedder
            items[part] = [("xquad", part, q.question, q.answers, q.answerable, (), f"xquad:{q.article}")
                           for q in questions if q.part == part]
            items[part] += [("pairs", part, p.question, p.facts, p.answerable, p.passages,
                             "pairs:" + quoted_article(p, seed_texts)) for p in pairs if part_of(p, seed_texts) == part]
        cal_pipeline, held_pipeline = pipelines["calibration"], pipelines["held-out"]

        # 0. The fusion's weights: the best balanced MRR on the calibration part, each grid point scored with
        # its grid neighbours (the MRR surface is flat and a few questions make its peak; a point whose
        # neighbours are as good is one that a user's archive does not knock off). Ties: the weights nearest
        # an even dense/BM25 split, then the smaller sentence weight.
        searched = {part: retrieval_rankings(pipelines[part], items[part]) for part in xquad.PARTS}
        grid = list(itertools.product(DENSE_GRID, FUSION_GRID))
        ranks = {(part, w): fused_ranks(pipelines[part], searched[part], *w) for part in xquad.PARTS for w in grid}
        mrr = {w: balanced_mrr(ranks["calibration", w]) for w in grid}
        smoothed = {w: float(np.mean([mrr[v] for v in grid if abs(DENSE_GRID.index(v[0]) - DENSE_GRID.index(w[0])) <= 1
                                      and abs(FUSION_GRID.index(v[1]) - FUSION_GRID.index(w[1])) <= 1]))
                    for w in grid}
        dense, fusion = max(grid, key=lambda w: (round(smoothed[w], 4), -abs(w[0] - 0.5), -w[1]))
        lines += ["## Retrieval: the fusion's weights", "",
                  "A chunk's score: w_dense × dense + (1 − w_dense) × BM25 + w_sentences × best sentence, each "
                  "min-max scaled over the question's candidates. Scored by the mean reciprocal rank of the "
                  "first passage holding the answer, news pairs and XQuAD averaged (answerable questions; "
                  "hit@1 / hit@3 / hit@5 shown), and chosen by that MRR averaged with the grid neighbours' "
                  "(calibration part).", "",
                  "| w_dense | w_sentences | with neighbours | calibration: MRR | XQuAD hit@1/3/5 | pairs hit@1/3/5 "
                  "| held-out: MRR | XQuAD hit@1/3/5 | pairs hit@1/3/5 |", "|---:|---:|---:|---:|---|---|---:|---|---|",
                  *[f"| {w[0]} | {w[1]}{' **(chosen)**' if w == (dense, fusion) else ''} | {smoothed[w]:.3f} | "
                    + " | ".join(
                      f"{balanced_mrr(ranks[part, w]):.3f} | {hits(ranks[part, w], 'xquad')} | "
                      f"{hits(ranks[part, w], 'pairs')}" for part in ("calibration", "held-out")) + " |"
                    for w in grid], ""]
        for pipeline in pipelines.values():
            pipeline.retriever.dense_weight, pipeline.retriever.sentence_weight = dense, fusion
        for part in xquad.PARTS:
            cases[part] = cases_for(pipelines[part], items[part])

        fit = cases["calibration"]
        # The one-standard-error rule: the grid's best is partly noise on a few hundred questions, so keep the
        # weights closest to the prior ones among those within one standard error of the best.
        prior = (Calibration.w_lexical, Calibration.w_type, Calibration.w_rank)
        scores = {w: balanced_top1(fit, w) for w in itertools.product(*GRID.values())}
        top = max(scores.values())
        se = 0.5 * sum(p * (1 - p) / max(1, n) for p, n in
                       ((top1([c for c in fit if c.source == src], max(scores, key=scores.get)),
                         sum(c.source == src and c.answerable for c in fit)) for src in ("xquad", "pairs"))) ** 0.5
        near = [w for w, v in scores.items() if v >= top - se]
        best = min(near, key=lambda w: sum((a - b) ** 2 for a, b in zip(w, prior)))
        base = Calibration()
        weights = dict(zip(GRID, best))
        lines += ["## Sentence-score weights", "",
                  "Scored by the mean of the top-1 rates of the news pairs and of the XQuAD questions; of the "
                  "weights within one standard error of the grid's best, the ones closest to the prior are kept "
                  f"(best {top:.3f}, standard error {se:.3f}).", "",
                  "| weights (lexical, type, rank) | calibration: XQuAD top-1 | pairs top-1 | held-out: XQuAD "
                  "top-1 | pairs top-1 |", "|---|---:|---:|---:|---:|",
                  *[f"| {label}: {w[0]}, {w[1]}, {w[2]} | " + " | ".join(
                      f"{top1([c for c in cases[part] if c.source == source], w):.3f}"
                      for part in ("calibration", "held-out") for source in ("xquad", "pairs")) + " |"
                    for label, w in (("before", (base.w_lexical, base.w_type, base.w_rank)), ("fitted", best))],
                  ""]
        cal = replace(base, w_dense=dense, w_sentences=fusion, **weights)
        # Which sentences the model picks from: the best k, less those more than a margin below the best;
        # the (k, margin) that shows the fewest on average and still holds an answer within 0.02 as often as
        # six sentences do (ties: the larger k and margin).
        options = {(k, margin): shown_recall(fit, best, k, margin) for k in range(1, 7) for margin in MARGIN_GRID}
        enough = options[6, 1.0][0] - 0.02
        k, margin = min((o for o in options if options[o][0] >= enough),
                        key=lambda o: (round(options[o][1], 2), -o[0], -o[1]))
        cal = replace(cal, llm_candidates=k, llm_margin=margin)

        def row(n: int, m: float) -> str:
            (fit_holds, fit_shown), (held_holds, held_shown) = options[n, m], shown_recall(cases["held-out"], best, n, m)
            chosen = " **(chosen)**" if (n, m) == (k, margin) else ""
            return f"| {n} | {m}{chosen} | {fit_holds:.3f} | {fit_shown:.2f} | {held_holds:.3f} | {held_shown:.2f} |"

        lines += ["## Sentences the model picks from", "",
                  "The best k sentences, less those scoring more than the margin below the best (1: none left "
                  "out): an answering sentence among them, and how many the model reads on average.", "",
                  "| k | margin | calibration: holds an answer | shown | held-out: holds an answer | shown |",
                  "|---:|---:|---:|---:|---:|---:|",
                  *[row(n, m) for n in range(1, 7) for m in MARGIN_GRID if m in (MARGIN_GRID[-1], margin) or n == k],
                  ""]

        found_fit = evidence(cal_pipeline, cal, fit)
        x = np.array([e.values() for e in found_fit])
        y = np.array([float(c.answerable) for c in fit])
        # The ridge and the threshold are chosen on probabilities from fits that left the question's article
        # out: fitted and scored on the same questions, the decision declined 0.03 of the answerable
        # calibration questions and 0.11 of the held-out ones (2026-12-03).
        groups = [c.group for c in fit]
        oof = {r: out_of_fold(x, y, groups, r) for r in RIDGE_GRID}
        loss = {r: balanced_log_loss(oof[r], y) for r in RIDGE_GRID}
        ridge = min(RIDGE_GRID, key=lambda r: (round(loss[r], 3), -r))   # ties: the stronger ridge
        # Each feature should earn its place: the report shows the out-of-fold loss without it (at the chosen
        # ridge), which should be higher than with it; a feature for which it is not is a candidate to drop.
        without = {name: balanced_log_loss(out_of_fold(np.delete(x, i, axis=1), y, groups, ridge), y)
                   for i, name in enumerate(Evidence.FEATURES)}
        w, b = fit_logistic(x, y, ridge)
        cal = replace(cal, decision_weights=tuple(round(float(v), 4) for v in w), decision_bias=round(b, 4))
        answerable = y == 1
        # The highest probability that declines at most the allowed share of answerable questions, out of fold.
        candidates = sorted(set(np.round(oof[ridge], 4)))
        allowed = [t for t in candidates if (oof[ridge][answerable] < t).mean() <= args.max_false_decline]
        at = float(max(allowed)) if allowed else 0.5
        found_held = evidence(held_pipeline, cal, cases["held-out"])
        cal = replace(cal, answer_at=round(at, 4), plan_at=round(at, 4), fitted_on={
            "data": f"the calibration part: {sum(c.source == 'xquad' for c in fit)} XQuAD questions of "
                    f"{sum(a.part == 'calibration' for a in articles)} articles "
                    f"({sum(c.source == 'xquad' and c.answerable for c in fit)} answerable) and "
                    f"{sum(c.source == 'pairs' for c in fit)} pairs of eval/questions.jsonl about the seed "
                    "articles 000 and 002 (and a third of the unanswerable ones)",
            "date": date.today().isoformat(),
            "by": "eval/calibrate.py",
            "max_false_decline": args.max_false_decline,
            "features": list(Evidence.FEATURES),
            "not_fitted": "found_share (a rule: half the asked words)",
            "plan_at": "not fitted on its own: answer_at's value (a question is retrieved part by part only when "
                       "the whole is covered as well as an answer needs)",
            "decision_weights": f"logistic regression, ridge {ridge} (the best balanced log loss of fits that left "
                                "the question's article out, grid " + ", ".join(map(str, RIDGE_GRID)) + ")",
            "answer_at": "the highest probability that declines at most max_false_decline of the answerable "
                         "calibration questions, each scored by a fit that left its article out",
            "w_dense": "with w_sentences: the best balanced MRR of the first passage holding the answer (averaged "
                       "with the grid neighbours'), grid "
                       + ", ".join(map(str, DENSE_GRID)),
            "w_sentences": "with w_dense, grid " + ", ".join(map(str, FUSION_GRID)),
            "llm_candidates": "with llm_margin: the fewest sentences on average that hold an answer within 0.02 as "
                              "often as six do",
            "llm_margin": "with llm_candidates, grid " + ", ".join(map(str, MARGIN_GRID)),
        })
        # llm_trust_at is fitted on LLM answers (eval/fit_trust.py), not here: keep what the file holds, and
        # fit it again after a new decision (it is a point on the decision's probability).
        # Read as JSON: a file fitted over other features does not load as a Calibration.
        kept = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
        cal = replace(cal, llm_trust_at=kept.get("llm_trust_at", base.llm_trust_at), fitted_on={
            **cal.fitted_on, **{k: v for k, v in kept.get("fitted_on", {}).items() if k == "llm_trust_at"}})
        lines += ["## Answer or decline", "",
                  "Logistic regression over " + ", ".join(Evidence.FEATURES) + ": weights "
                  + ", ".join(f"{n} {v:+.2f}" for n, v in zip(Evidence.FEATURES, w)) + f", bias {b:+.2f}; "
                  f"ridge {ridge}, chosen by the balanced log loss of the calibration questions, each scored by a "
                  f"fit that left its article out ({len(set(groups))} articles): "
                  + ", ".join(f"{r} → {loss[r]:.3f}" for r in RIDGE_GRID) + ". The threshold is the highest "
                  f"probability that declines at most {args.max_false_decline} of the answerable calibration "
                  "questions, scored the same way (out of fold).", "",
                  f"Out-of-fold balanced log loss with all features {loss[ridge]:.4f}; with one left out: "
                  + ", ".join(f"{n} {v:.4f}" for n, v in without.items()) + " (higher: the feature helps).", "",
                  "Each cell: declined unanswerable | declined answerable, for the XQuAD questions (unanswerable: "
                  "their article is not in the index) and the news pairs (unanswerable: mostly near misses, the "
                  "event in the articles and the asked detail not).", "",
                  "| answer at p ≥ | calibration, out of fold: XQuAD | | pairs | | calibration, in sample: XQuAD | | "
                  "pairs | | held-out: XQuAD | | pairs | |", "|---:" * 13 + "|"]
        decide = Decision(cal)
        in_sample = np.array([decide.confidence(e) for e in found_fit])
        held = np.array([decide.confidence(e) for e in found_held])
        held_y = np.array([c.answerable for c in cases["held-out"]])
        sources = {part: np.array([c.source for c in cases[part]]) for part in xquad.PARTS}
        columns = [(oof[ridge], answerable, sources["calibration"]), (in_sample, answerable, sources["calibration"]),
                   (held, held_y, sources["held-out"])]
        for t in sorted({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(at, 4)}):
            mark = " **(chosen)**" if t == round(at, 4) else ""
            lines.append(f"| {t:.4f}{mark} | " + " | ".join(
                tradeoff(conf[src == source], yy[src == source], t)
                for conf, yy, src in columns for source in ("xquad", "pairs")) + " |")
    text = (f"# Calibration ({date.today().isoformat()})\n\nFitted on {cal.fitted_on['data']}.\n\n"
            + "\n".join(lines) + "\n")
    print(text)
    if not args.dry_run:
        cal.save(args.out)
        (ROOT / "eval" / "calibration.md").write_text(text, encoding="utf-8")
        print(f"wrote {args.out} and eval/calibration.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
