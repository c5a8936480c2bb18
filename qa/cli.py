"""The ``qa`` command: parses arguments, calls the public functions, prints one line per error."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from qa.config import MODES, Settings
from qa.errors import QAError


def _ingest(args: argparse.Namespace) -> int:
    from qa.api import ingest

    report = ingest(args.paths or None, progress=None if args.progress is None else args.progress)
    for problem in report.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    print(report.summary())
    return 0


def _answer(question: str, mode: str | None, history: list[tuple[str, str]]):
    """Stream the generated text to a terminal's stderr as it comes; print the verified answer to stdout."""
    from qa.answer import Answer, Draft
    from qa.api import ask_stream

    live = sys.stderr.isatty() and (mode or Settings.from_env().mode) == "llm"
    answer = None
    for item in ask_stream(question, mode=mode, history=history):
        if isinstance(item, Answer):
            answer = item
        elif isinstance(item, Draft):
            if live:
                print(f"(schnelle Antwort) {item.answer.text}\n", file=sys.stderr, flush=True)
        elif live:
            print(item, end="", file=sys.stderr, flush=True)
    if live:
        print("\n", file=sys.stderr)
    if history and answer.question != " ".join(question.split()):
        print(f"(understood as: {answer.question})", file=sys.stderr)
    print(answer.format())
    if answer.fallback_reason:
        print(f"\n({answer.fallback_reason})", file=sys.stderr)
    return answer


def _ask(args: argparse.Namespace) -> int:
    _answer(args.question, args.mode, [])
    return 0


def _chat(args: argparse.Namespace) -> int:
    """Questions from stdin, one per line; each may follow up on the ones before."""
    from qa.pipeline import pipeline_for

    history: list[tuple[str, str]] = []
    prompt = "Frage> " if sys.stdin.isatty() else ""
    if (args.mode or Settings.from_env().mode) == "llm":
        pipeline_for().warm_up_llm()  # in extractive mode the model loads only if a follow-up needs it
    while True:
        try:
            question = input(prompt)
        except EOFError:
            return 0
        if not question.strip():
            continue
        try:
            answer = _answer(question, args.mode, history)
        except QAError as exc:  # a bad question ends nothing: say why and take the next one
            print(f"error: {exc}", file=sys.stderr)
            continue
        history.append((question, answer.text))
        print()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions about German news articles.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="sync the index with a folder of .txt articles (default: seeds/)")
    p.add_argument("paths", nargs="*", help="files or folders of .txt articles")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when writing to a terminal)")
    p.set_defaults(run=_ingest)
    p = sub.add_parser("ask", help="answer a question from the indexed articles, with the cited passages")
    p.add_argument("question", help='the question, e.g. "Wie viele Soldaten hat Russland zusammengezogen?"')
    p.add_argument("--mode", choices=MODES, default=None, help="answerer (default: QA_MODE or extractive)")
    p.set_defaults(run=_ask)
    p = sub.add_parser("chat", help="a conversation: questions from the keyboard, follow-ups understood")
    p.add_argument("--mode", choices=MODES, default=None, help="answerer (default: QA_MODE or extractive)")
    p.set_defaults(run=_chat)
    p = sub.add_parser("serve", help="the chat page on 127.0.0.1:7860 (GRADIO_SERVER_NAME/_PORT to change)")
    p.set_defaults(run=_serve)
    sub.add_parser("eval", add_help=False,
                   help="run the eval suite: metrics, baselines, report and plot (qa eval --help)")
    return parser


def _serve(args: argparse.Namespace) -> int:
    from qa.web import serve

    serve()
    return 0


def _eval(argv: list[str]) -> int:
    from qa.config import PROJECT_ROOT as ROOT  # the checkout: eval/ sits beside qa/

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from eval.run import main as run_eval

    return run_eval(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(message)s")  # problems are printed below
    for name in ("qa.config", "qa.web"):  # a misspelt setting; serving to the network without a login
        logging.getLogger(name).setLevel(logging.WARNING)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:  # its own options, parsed by eval.run
        args = argparse.Namespace(run=lambda _: _eval(argv[1:]))
    else:
        args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a failure below us (disk full, server gone): one line, not a traceback
        print(f"error: {type(exc).__name__}: {exc} (run with QA_DEBUG=1 for the traceback)", file=sys.stderr)
        if os.environ.get("QA_DEBUG"):
            raise
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
