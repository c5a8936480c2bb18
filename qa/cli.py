"""The ``qa`` command: parses arguments, calls the public functions, prints one line per error.

Everything it prints goes through ``say``: article text and file names are not trusted, and a terminal
control sequence standing in them (clear the screen, retitle the window, a disguised link) is removed.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from qa.config import MODES, Settings
from qa.conversation import Conversation
from qa.errors import QAError
from qa.formats import FORMAT_NAMES
from qa.questions import clean_text

_CONTROLS = re.compile("|".join([
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]",  # CSI: colours, cursor moves, clear screen
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)",  # OSC (title, link), DCS, APC
    r"\x1b[ -/]*[0-~]",  # any other escape: reset, character set
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f]",  # any other control character but tab and newline
]))
_SURROGATES = re.compile(r"[\ud800-\udfff]")  # bytes that were not UTF-8 (in a file name): stdout cannot encode them


def printable(text: str) -> str:
    """``text`` without terminal control sequences or control characters (tab and newline stay).

    >>> printable("\\x1b]0;gehackt\\x07Die \\x1b[31mBrücke\\x1b[0m\\x9b2J kostet 120.000 Euro.")
    'Die Brücke kostet 120.000 Euro.'
    """
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", text))


def say(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print ``printable(text)`` to stdout, or to stderr with ``err``, at once."""
    print(printable(text), end=end, file=sys.stderr if err else sys.stdout, flush=True)


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:  # a logged question typed into `qa serve`, too
        return printable(super().format(record))


def _ingest(args: argparse.Namespace) -> int:
    from qa.api import ingest

    if args.add and not args.paths:
        raise QAError("--add needs the files or folders to add, e.g. qa ingest --add export.jsonl")
    report = ingest(args.paths or None, progress=args.progress, prune=args.prune, add=args.add)
    for problem in report.skipped:
        say(f"skipped {problem}", err=True)
    for name in report.removed_ids:
        say(f"removed {name}")
    say(report.summary())
    return 0


def _articles(args: argparse.Namespace) -> int:
    from qa.api import list_articles

    shown = [a for a in list_articles() if a.matches(args.filter)]
    for a in shown:
        origin = ", ".join(filter(None, [a.date, a.source, a.file]))
        chunks = f"{a.chunks} chunk" + ("s" if a.chunks != 1 else "")
        say(f"{a.id}\t{a.title} ({origin}; {chunks})" + (f"\t{a.url}" if a.url else ""))
    say(f"{len(shown)} article(s)", err=True)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from qa.api import remove

    gone = remove(args.ids)
    for name in gone:
        say(f"removed {name}")
    missing = [a for a in args.ids if a not in gone]
    for name in missing:
        say(f"not in the index: {name} (qa articles lists the ids)", err=True)
    return 1 if missing else 0


def _answer(question: str, mode: str | None, conversation: Conversation | None = None):
    """Stream the generated text to a terminal's stderr as it comes; print the verified answer to stdout.

    With ``conversation``, the question may follow up on its turns and is recorded as the next one.
    """
    from qa.api import ask_stream

    live = sys.stderr.isatty() and (mode or Settings.from_env().mode) == "llm"
    stream = ask_stream(question, mode=mode) if conversation is None else conversation.ask_stream(question, mode=mode)
    with stream:
        for text in stream:
            if live and text:   # the model's words as they come
                say(text, err=True, end="")
            elif live and stream.draft is not None:   # a step without text brings the fast answer
                say(f"(schnelle Antwort) {stream.draft.text}\n", err=True)
        answer = stream.result()
    if live:
        say("\n", err=True)
    if conversation is not None and len(conversation) > 1 and answer.question != clean_text(question):
        say(f"(understood as: {answer.question})", err=True)
    say(answer.format())
    if answer.fallback_reason:
        say(f"\n({answer.fallback_reason})", err=True)
    return answer


def _ask(args: argparse.Namespace) -> int:
    _answer(args.question, args.mode)
    return 0


def _chat(args: argparse.Namespace) -> int:
    """Questions from stdin, one per line; each may follow up on the ones before (one ``Conversation``)."""
    from qa.pipeline import pipeline_for

    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 reach clean_question, not a decode error
        sys.stdin.reconfigure(errors="surrogateescape")
    conversation = Conversation(mode=args.mode)
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
            _answer(question, args.mode, conversation)
        except Exception as exc:  # a bad question ends nothing: say why and take the next one
            say(_error_line(exc), err=True)
            if os.environ.get("QA_DEBUG") and not isinstance(exc, QAError):
                raise
            continue
        say()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions about German news articles.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="sync the index with files or folders of articles (default: seeds/)")
    p.add_argument("paths", nargs="*", help=f"files or folders of articles: {FORMAT_NAMES}")
    p.add_argument("--add", action="store_true",
                   help="add (or update) these files' articles and keep the rest of the index; without it the "
                        "index holds exactly the articles given")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when writing to a terminal)")
    p.add_argument("--prune", action="store_true",
                   help="confirm a sync that removes more than half of the index, or in which every file was "
                        "skipped (refused without it)")
    p.set_defaults(run=_ingest)
    p = sub.add_parser("articles", help="list the indexed articles: id, title, date, source, file, chunks")
    p.add_argument("filter", nargs="?", default="", help="only those whose id, title, date or file hold these words")
    p.set_defaults(run=_articles)
    p = sub.add_parser("remove", help="remove articles from the index by id (the files stay)")
    p.add_argument("ids", nargs="+", help="article ids, as `qa articles` lists them")
    p.set_defaults(run=_remove)
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
    """The checkout's eval suite (``python -m eval``), run in a process of its own: the eval is no part of
    the package, and an installed wheel has none."""
    import subprocess

    from qa.config import PROJECT_ROOT as ROOT  # the checkout: eval/ sits beside qa/

    if not (ROOT / "eval" / "run.py").is_file():
        raise QAError(f"qa eval needs a checkout of the repository: it runs the eval/ folder beside qa/, and "
                      f"{ROOT} has none; run it in a clone of the repository")
    # The current folder stays the user's (relative --out, --distractors); -P keeps a folder named eval in it
    # from standing in for the checkout's.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-P", "-m", "eval", *argv], env={**os.environ, "PYTHONPATH": path})
    return done.returncode


def _error_line(exc: Exception) -> str:
    if isinstance(exc, QAError):
        return f"error: {exc}"
    # A failure below us (disk full, server gone): one line, not a traceback.
    return f"error: {type(exc).__name__}: {exc} (run with QA_DEBUG=1 for the traceback)"


def main(argv: list[str] | None = None) -> int:
    handler = logging.StreamHandler()
    handler.setFormatter(_PrintableFormatter("%(message)s"))
    logging.basicConfig(level=logging.ERROR, handlers=[handler])  # problems are printed below
    for name in ("qa.config", "qa.web", "qa.locking"):  # a misspelt setting; no login; waiting for a writer
        logging.getLogger(name).setLevel(logging.WARNING)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:  # its own options, parsed by eval.run
        args = argparse.Namespace(run=lambda _: _eval(argv[1:]))
    else:
        args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except QAError as exc:
        say(_error_line(exc), err=True)
        return 2
    except BrokenPipeError:  # `qa articles | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        say(_error_line(exc), err=True)
        if os.environ.get("QA_DEBUG"):
            raise
        return 1
    except KeyboardInterrupt:
        say("interrupted; run the same command again to finish", err=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
