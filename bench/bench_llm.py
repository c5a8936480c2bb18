"""Benchmark of LLM mode: time to first token, time to the whole verified answer, and peak memory.

For every question of eval/questions.jsonl, plus follow-ups that need condensing, one at a time on a warm
model (the first load and the fixed prompt prefix are measured separately), it times ``ask_stream``:
  * first token: from the call to the first piece of generated text (questions the model is asked);
  * whole answer: from the call to the final, verified ``Answer`` (every question);
  * p50 and p95 of each, and the process's peak RSS (ru_maxrss) at the end.
Targets on 2 cores: first token under 3 s, whole answer under 10 s.

Run it alone (anything else on the CPU slows the model tenfold): ``make bench-llm``, or
``python bench/bench_llm.py [--rounds 1] [--out bench/llm_results.md]``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from eval.dataset import load_pairs  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from qa.chat import attach_context, check_history  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.llm import available_threads  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402

FOLLOW_UPS = [
    ([("Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?",
       "Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1].")], "Und wer hatte die Initiative dafür?"),
    ([("Wie heißt der Sprecher des Kremls?", "Der Sprecher des Kremls heißt Dmitri Peskow [1].")],
     "Was sagte er über das Gespräch um 23:30 Uhr?"),
    ([("In welchem Jahr hat Russland die Krim annektiert?", "Russland hat die Krim 2014 annektiert [1].")],
     "Und wer unterstützt die Separatisten?"),
]


def timed(pipeline: Pipeline, question: str, history=()) -> dict:
    started = time.perf_counter()
    first = None
    pieces = 0
    draft = None
    with pipeline.ask_stream(question, mode="llm", history=history) as stream:
        for text in stream:
            if not text:   # the fast answer
                draft = draft or time.perf_counter() - started
            else:
                pieces += 1
                first = first or time.perf_counter() - started
        answer = stream.result()
    # Whether the model rewrote the follow-up (it is asked only when the cheap forms find nothing).
    by_model = bool(history) and answer.question not in (question, attach_context(question, check_history(history)))
    return {"question": question, "first": first, "draft": draft, "total": time.perf_counter() - started, "answer": answer,
            "pieces": pieces, "follow_up": bool(history), "rewritten_by_model": by_model}


def throughput(pipeline: Pipeline) -> tuple[float, float]:
    """Prompt evaluation and generation speed of the local model, in tokens/s, on German seed text."""
    llama = pipeline.llm._load()._model  # the llama_cpp.Llama under llama-index's LlamaCPP
    text = sorted((ROOT / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")[:1500]
    tokens = llama.tokenize(text.encode())
    llama.reset()
    started = time.perf_counter()
    llama.eval(tokens)
    prompt = len(tokens) / (time.perf_counter() - started)
    llama.reset()
    started = time.perf_counter()
    out = llama.create_completion(text[:200], max_tokens=64, temperature=0.0)
    seconds = time.perf_counter() - started
    return prompt, out["usage"]["completion_tokens"] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times to ask each question")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "llm_results.md")
    args = parser.parse_args()

    pairs = load_pairs()
    with tempfile.TemporaryDirectory() as index:
        settings = Settings.from_env().with_(index_dir=Path(index), chroma_host=None, chroma_port=None)
        pipeline = Pipeline(settings)
        pipeline.ingest(progress=False)
        pipeline.embedder.warm_up()
        started = time.perf_counter()
        pipeline.llm.warm_up()
        load = time.perf_counter() - started
        started = time.perf_counter()
        pipeline.warm_up_llm()
        prefix = time.perf_counter() - started
        speeds = throughput(pipeline) if hasattr(pipeline.llm, "_load") else None  # local model only
        pipeline.warm_up_llm()  # the throughput test replaced the context
        rows = []
        for _ in range(args.rounds):
            rows += [timed(pipeline, pair.question, pair.history) for pair in pairs]
            rows += [timed(pipeline, question, history) for history, question in FOLLOW_UPS]
            for row in rows:
                if row["follow_up"]:
                    print(f"  follow-up → {row['answer'].question}"
                          f"{' (model)' if row['rewritten_by_model'] else ''}", flush=True)

    firsts = [r["first"] for r in rows if r["first"] is not None]
    standalone = [r["first"] for r in rows if r["first"] is not None and not r["follow_up"]]
    follow = [r["first"] for r in rows if r["first"] is not None and r["follow_up"]]
    by_model = [r for r in rows if r["rewritten_by_model"]]
    follow_ups = sum(r["follow_up"] for r in rows)
    slowest = sorted((r for r in rows if r["first"] is not None), key=lambda r: -r["first"])[:5]
    # A declined answer streams nothing: the abstention is the first and only thing the user sees.
    declined = [r["total"] for r in rows if r["first"] is None]
    declined_follow_ups = [r for r in rows if r["first"] is None and r["follow_up"]]
    totals = [r["total"] for r in rows]
    # What a reader sees first: the fast draft, else the model's first words, else the (declined) answer.
    visible = [r["draft"] or r["first"] or r["total"] for r in rows]
    generated = [r["total"] for r in rows if r["first"] is not None]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"# LLM benchmark ({datetime.now():%Y-%m-%d %H:%M})",
        "",
        f"Machine: {platform.machine()}, {available_threads()} cores available, Python {platform.python_version()}; "
        f"model: {pipeline.llm.model_path.name if hasattr(pipeline.llm, 'model_path') else settings.llm_url}, "
        f"{pipeline.llm.threads if hasattr(pipeline.llm, 'threads') else '?'} threads.",
        (f"llama.cpp speed: prompt {speeds[0]:.0f} tokens/s (1,500 characters of a seed article), generation "
         f"{speeds[1]:.0f} tokens/s (64 tokens after a 200-character prompt, which is included)." if speeds
         else "A server answered; its speed is not measured here."),
        f"Model load {load:.1f} s; fixed prompt prefixes (rules and worked examples of the answer and the rewrite) evaluated once in {prefix:.1f} s.",
        "",
        f"{len(rows) // args.rounds} questions ({len(pairs)} of eval/questions.jsonl, "
        f"{sum(bool(p.history) for p in pairs)} of them follow-ups, and {len(FOLLOW_UPS)} more follow-ups) × "
        f"{args.rounds} round(s); {len(firsts)} reached the model, the rest were declined before it (nothing in "
        "the passages scored close to the question).",
        f"Follow-ups rewritten by the model: {len(by_model)} of {follow_ups}; the others were resolved by "
        "attaching the earlier question's topic, or were standalone already, or were declined "
        f"({len(declined_follow_ups)}: "
        + (", ".join(f"„{r['question']}“ after {r['total']:.2f} s" for r in declined_follow_ups) or "none") + ").",
        "",
        "| measure | p50 | p95 | max | target |",
        "|---|---:|---:|---:|---:|",
        f"| first visible answer, every question (a declined one is its answer) | "
        f"{percentile(visible, .5):.2f} s | {percentile(visible, .95):.2f} s | {max(visible):.2f} s | p50 ≤ 2 s |",
        f"| time to first token | {percentile(firsts, .5):.2f} s | {percentile(firsts, .95):.2f} s | "
        f"{max(firsts):.2f} s | < 3 s |",
        f"| time to first token, standalone questions | {percentile(standalone, .5):.2f} s | "
        f"{percentile(standalone, .95):.2f} s | {max(standalone):.2f} s | < 3 s |",
        f"| time to first token, follow-ups | {percentile(follow, .5):.2f} s | "
        f"{percentile(follow, .95):.2f} s | {max(follow):.2f} s | < 3 s |",
        *([f"| … of which the model rewrote first | {percentile(m, .5):.2f} s | {percentile(m, .95):.2f} s | "
           f"{max(m):.2f} s | < 3 s |" for m in [[r["first"] for r in by_model if r["first"] is not None]] if m]),
        *([f"| time to a declined answer (nothing streamed before it) | {percentile(declined, .5):.2f} s | "
           f"{percentile(declined, .95):.2f} s | {max(declined):.2f} s | < 3 s |"] if declined else []),
        f"| whole verified answer (questions the model answered) | {percentile(generated, .5):.2f} s | "
        f"{percentile(generated, .95):.2f} s | {max(generated):.2f} s | p50 ≤ 4 s, p95 ≤ 6 s |",
        f"| whole answer, every question | {percentile(totals, .5):.2f} s | {percentile(totals, .95):.2f} s | "
        f"{max(totals):.2f} s | p50 ≤ 4 s, p95 ≤ 6 s |",
        "",
        f"Peak memory (ru_maxrss of the process: e5, Chroma, BM25 and the LLM): {peak:,.0f} MiB.",
        f"Answers by the LLM: {sum(r['answer'].answerer == 'llm' for r in rows)} "
        f"(with a checked short answer: {sum(bool(r['answer'].short) for r in rows)}), with a fallback "
        f"reason: {sum(bool(r['answer'].fallback_reason) for r in rows)}, "
        f"declined: {sum(r['answer'].abstained for r in rows)}.",
        f"Mean streamed pieces per generated answer: {statistics.mean(r['pieces'] for r in rows if r['pieces']):.0f}.",
        "",
        "Slowest first tokens:",
        "",
        *[f"- {r['first']:.2f} s{' (follow-up)' if r['follow_up'] else ''}"
          f"{', rewritten by the model' if r['rewritten_by_model'] else ''}: {r['question']}" for r in slowest],
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
