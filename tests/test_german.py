"""The German forms of the package's English messages (``qa.german``), for the chat page.

The messages are found in the source, not copied here: every literal given to a ``QAError`` subclass or to
``Problem``, its placeholders filled with sample values. A message added without a template fails here.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

import qa
from qa.answer import ASKED_AGAIN
from qa.article_text import _KINDS
from qa.german import TEMPLATES, german

PACKAGE = Path(qa.__file__).parent
# Modules whose messages never reach the chat page.
EXCLUDED = {
    "cli.py": "the command line's own checks of its arguments: shown only there, and the CLI stays English",
    "german.py": "the translations themselves",
}
# Messages passed in as something other than a literal; each is covered where its parts are made.
NOT_LITERAL = {
    ("articles.py", "str(exc).removeprefix(f'{path}: ')"),  # an ArticleError's message, its file name taken off
}

# Sample values for placeholders, by their source text; "text@function" for the one in that function. Every
# value listed must translate. A placeholder listed in neither table takes the text it is assigned in its
# function, or the returns of the module's function it calls, or else DEFAULT.
SAMPLES: dict[str, list] = {  # variable parts: file names, numbers, values; kept as they are
    "path": ["archiv/Straßen „neu“.txt"],
    "path.name": ["Gipfel.txt"],
    "read[path.name]": ["archiv/alt/Gipfel.txt"],
    "os.readlink(path)": ["../fehlt/Gipfel.txt"],
    "suffix": [".docx"],
    "FORMAT_NAMES": [".txt, .md, .html, .jsonl, .csv"],
    "month": ["13"],
    "value@parse_date": ["31.02.2021"],
    "data[exc.start]": [0xFF],
    "line[exc.start]": [0xFF],
    "exc.start": [7],
    "len(bom) + exc.start": [9],
    "exc.strerror": ["Permission denied"],
    "info.st_size": [120_000],
    "max_bytes": [5_000_000],
    "where@write_error": ["/srv/qa-index"],
    "exc.msg.removesuffix(' at')": ["Expecting ',' delimiter"],
    "exc.colno": [12],
    "reader.line_num": [5],
    "number": [5],
    "len(values)": [5],
    "len(header)": [3],
    "separator": [";"],
    "separator.join(header)": ["titel;datum"],
    "needed": ["date"],
    "json.dumps(value, ensure_ascii=False)[:40]": ["20211207"],
    "name@_record_field": ["date"],
    "len(text)": [1234],
    "max_chars": [1000],
    "i": [3],
    "len(at_stake)": [12],
    "held": [20],
    "shown": ["notizen.docx, bild.png …"],
    "free / 2 ** 20": [12.0],
    "MIN_FREE_BYTES // 2 ** 20": [64],
    "text[:300]": ["OperationalError: database is locked"],
    "chroma_said[:200]": ["database or disk is full"],
    "exc.code": [503],
    "detail.strip()": ["Service Unavailable"],
    "event['error']": ["model 'qwen' not found"],
    "partial.stat().st_size": [1_234_567],
    "port": [7860],
}
PHRASES: dict[str, list[str]] = {  # English the package writes into a message: translated with it
    "exc": ["the file is empty"],                  # a reason where the message wraps one, else library text
    "kind": [kind for _, kind in _KINDS] + ["a special file"],
    "what": ["articles", "files of records"],
    "where@read_records": ["line 3", "row 4"],
    "reasons": ["Gipfel.txt: the file is empty; export.jsonl: line 3: the record has no date; give it a 'date' "
                "field (YYYY-MM-DD); Übersicht.md: cannot be read (Permission denied) …"],
    "names": ["Gipfel.txt, export.jsonl:3f2a9c01d4", "a.txt, b.txt, c.txt, d.txt, e.txt and 7 more"],
    "self.location": ["/srv/qa-index", "Chroma server localhost:8000"],
    "self.store.location": ["/srv/qa-index", "Chroma server localhost:8000"],
}
DEFAULT = "x1"

# Words that show a template left (partly) English; none of them is a German word.
ENGLISH = set("""the a is are be been must should would cannot can does not no and or but of to with from for by
at on its it this that which has have got give set run add use save read file files folder line row field record
question answer article articles empty missing found unknown between more than again only every each all other
nothing yet there page model words characters number numbers column as into when where what you your one""".split())


def _error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """``QAError`` and every class in the package that derives from it."""
    names, grew = {"QAError"}, True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (isinstance(node, ast.ClassDef) and node.name not in names
                        and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)):
                    names.add(node.name)
                    grew = True
    return names


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _messages() -> tuple[list[tuple[str, ast.AST, ast.Module, str]], list[tuple[str, str]]]:
    """(module:line, message node, module tree, function) of every literal message; and the other messages."""
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.glob("*.py"))}
    classes = _error_classes(trees) | {"Problem"}
    found, other = [], []
    for module, tree in trees.items():
        if module in EXCLUDED:
            continue
        for function in [tree, *_functions(tree).values()]:
            for call in _own_nodes(function):
                if not (isinstance(call, ast.Call) and _called(call) in classes):
                    continue
                position = 1 if _called(call) == "Problem" else 0
                given = [*call.args[position:position + 1], *(k.value for k in call.keywords
                                                              if k.arg in ("reason", "message"))]
                for node in given:
                    where = f"{module}:{call.lineno}"
                    name = getattr(function, "name", "")
                    if _is_text(node):
                        found.append((where, node, tree, name))
                    else:
                        other.append((module, ast.unparse(node)))
    return found, other


def _own_nodes(function: ast.AST):
    """The nodes of ``function`` (or of a module, outside its functions), not those of functions inside it."""
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node
            todo.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ClassDef):
            todo.extend(n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _is_text(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) and _is_text(node.right)
    return isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str)


# A sample is (value, leaves, leaf): the value, the variable parts it holds (filled in, as the code formats
# them), and whether the value itself is one, not yet formatted.

def _samples(node: ast.AST, tree: ast.Module, function: str,
             followed: frozenset = frozenset()) -> list[tuple[object, tuple[str, ...], bool]]:
    """``followed``: the names whose assignments this sample is made of already (``x = x or y`` loops)."""
    source = ast.unparse(node)
    if isinstance(node, ast.Constant):
        return [(node.value, (), False)] if isinstance(node.value, str) else []
    if not isinstance(node, ast.JoinedStr):
        for key in (f"{source}@{function}", source):
            if key in SAMPLES:
                return [(value, (), True) for value in SAMPLES[key]]
            if key in PHRASES:
                return [(value, (), False) for value in PHRASES[key]]
    if isinstance(node, ast.JoinedStr):
        return _joined([_samples(part, tree, function, followed) for part in node.values])
    if isinstance(node, ast.FormattedValue):
        out = []
        for value, leaves, leaf in _samples(node.value, tree, function, followed):
            text = {114: repr, 97: ascii}.get(node.conversion, str)(value) if node.conversion != -1 else value
            spec = "".join(p.value for p in node.format_spec.values) if node.format_spec else ""
            text = format(text, spec)
            out.append((text, (text,) if leaf else leaves, False))
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and _is_text(node):
        return _joined([_samples(node.left, tree, function, followed), _samples(node.right, tree, function, followed)])
    if isinstance(node, ast.IfExp):
        return _samples(node.body, tree, function, followed) + _samples(node.orelse, tree, function, followed)
    if isinstance(node, ast.BoolOp):
        return [s for value in node.values for s in _samples(value, tree, function, followed)]
    functions = _functions(tree)
    if isinstance(node, ast.Name) and function in functions and node.id not in followed:
        assigned = [n.value for n in ast.walk(functions[function]) if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)]
        if assigned:
            return [s for value in assigned for s in _samples(value, tree, function, followed | {node.id})]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
        called = functions[node.func.id]
        returned = [n.value for n in ast.walk(called) if isinstance(n, ast.Return) and n.value is not None]
        if returned and all(_is_text(r) for r in returned):
            return [s for value in returned for s in _samples(value, tree, called.name)]
    return [(DEFAULT, (), True)]


def _joined(parts: list[list[tuple[object, tuple[str, ...], bool]]]) -> list[tuple[str, tuple[str, ...], bool]]:
    out = []
    for combination in itertools.product(*parts):
        text = "".join(str(value) for value, _, _ in combination)
        leaves = tuple(x for value, leaves, leaf in combination for x in ((str(value),) if leaf else leaves))
        out.append((text, leaves, False))
    return out


MESSAGES, OTHER = _messages()
CASES = [pytest.param(text, leaves, id=f"{where}:{i}") for where, node, tree, function in MESSAGES
         for i, (text, leaves, _) in enumerate(_samples(node, tree, function))]


def test_the_messages_are_found():
    assert len(MESSAGES) > 100
    assert all(_samples(node, tree, function) for _, node, tree, function in MESSAGES)
    assert {where.split(":")[0] for where, *_ in MESSAGES} >= {"articles.py", "formats.py", "questions.py",
                                                               "sync.py", "store.py", "config.py", "web.py"}


def test_every_message_is_a_literal_or_covered_where_it_is_made():
    assert set(OTHER) <= NOT_LITERAL


@pytest.mark.parametrize("english, leaves", CASES)
def test_every_message_has_a_german_form(english, leaves):
    said = german(english)
    assert said != english, f"no template for: {english}"
    for leaf in leaves:  # what the message names stays, as it was (a number with German digit groups)
        kept = {leaf, re.sub(r"(?<=\d),(?=\d{3})", ".", leaf), german(leaf)}
        assert any(form in said for form in kept), f"{leaf!r} lost in: {said}"
    rest = said
    for leaf in sorted(leaves, key=len, reverse=True):
        rest = rest.replace(leaf, " ")
    assert "e.g." not in rest and "'s " not in rest, said
    rest = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|<[^>]*>", " ", rest)   # code and values in quotes stay
    rest = re.sub(r"\S*(?:_|=|://|\w[.:]\w)\S*|[a-z0-9]+(?:-[a-z0-9]+){2,}", " ", rest)  # and names in code
    left = {w for w in re.findall(r"[^\W\d_]+", rest) if w.lower() in ENGLISH}
    assert not left, f"English {sorted(left)} left in: {said}"
    assert german(said) == said, "a German message must stay as it is"


def test_records_and_files():
    assert german("line 3: the record has no date; give it a 'date' field (YYYY-MM-DD)") == \
        "Zeile 3: der Datensatz hat kein Datum; geben Sie ihm ein Feld 'date' (YYYY-MM-DD)"
    assert german("Straßenbahn-Übersicht.txt: the file is empty") == "Straßenbahn-Übersicht.txt: die Datei ist leer"
    assert german("row 12: the date '31.02.2021' is not a date; write it as YYYY-MM-DD (YYYY-MM, DD.MM.YYYY and "
                  "ISO date-times are read too)") == \
        ("Zeile 12: das Datum '31.02.2021' ist kein Datum; schreiben Sie es als YYYY-MM-DD (YYYY-MM, DD.MM.YYYY "
         "und ISO-Zeitstempel werden auch gelesen)")
    assert german("Bericht „Gipfel“.txt: cannot be read (Permission denied)") == \
        "Bericht „Gipfel“.txt: kann nicht gelesen werden (Zugriff verweigert)"
    assert german("Größe.html: the file has 120,000 bytes; articles over 5,000,000 bytes are refused") == \
        "Größe.html: die Datei hat 120.000 Bytes; Artikel über 5.000.000 Bytes werden abgelehnt"
    assert german("the 'date' field is 20211207, not text; put it in quotes") == \
        "das Feld 'date' ist 20211207, kein Text; setzen Sie es in Anführungszeichen"


def test_questions():
    assert german("the question has no words in it, only numbers or signs; ask a question in words about the "
                  "articles") == ("die Frage enthält keine Wörter, nur Zahlen oder Zeichen; stellen Sie eine Frage "
                                  "in Worten zu den Artikeln")
    assert german("the question has 1,234 characters; the limit is 1,000 (QA_MAX_QUESTION_CHARS): ask a shorter "
                  "question") == ("die Frage hat 1.234 Zeichen; erlaubt sind höchstens 1.000 "
                                  "(QA_MAX_QUESTION_CHARS): stellen Sie eine kürzere Frage")


def test_a_refused_sync_names_each_skipped_file_in_german():
    english = ("every file was skipped (leer.txt: the file is empty; export.jsonl: line 3: the record has no date; "
               "give it a 'date' field (YYYY-MM-DD); Maß.md: cannot be read (Is a directory) …), so this run would "
               "remove all 120 articles of the index; nothing was changed. Fix the files, or pass --prune "
               "(prune=True) to remove them")
    assert german(english) == (
        "jede Datei wurde übersprungen (leer.txt: die Datei ist leer; export.jsonl: Zeile 3: der Datensatz hat kein "
        "Datum; geben Sie ihm ein Feld 'date' (YYYY-MM-DD); Maß.md: kann nicht gelesen werden (ist ein Ordner) …), "
        "daher würde dieser Lauf alle 120 Artikel des Index entfernen; nichts wurde geändert. Korrigieren Sie die "
        "Dateien, oder geben Sie --prune (prune=True) an, um sie zu entfernen")


def test_why_the_language_models_answer_was_replaced():
    # Answer.fallback_reason, shown in brackets under the answer; its reasons are not exceptions.
    reason = "the short answer „120.000 Soldaten“ repeats the question"
    assert german(reason) == "die Kurzantwort „120.000 Soldaten“ wiederholt die Frage"
    assert german(f"{reason}; {ASKED_AGAIN}") == \
        ("die Kurzantwort „120.000 Soldaten“ wiederholt die Frage; erneut gefragt, nur mit dem Satz der schnellen "
         "Antwort")
    for english in ("the model wrote no answer",
                    "the model found no answer, but the retrieved sentence scores too high to decline",
                    "the short answer „Straße“ is in none of the sentences shown",
                    "the sentence picked stands in passages that name nothing the question names"):
        for reason in (english, f"{english}; {ASKED_AGAIN}", f"{english}; {ASKED_AGAIN}, no usable copy either"):
            assert german(reason) != reason and "the" not in german(reason).split()


@pytest.mark.parametrize("message", [
    "Keine Datei gewählt.",
    "der Dateiname muss ein einfacher Name sein, der nicht mit einem Punkt beginnt; bitte umbenennen",
    "die Datei hat 1.320.015 Bytes; die Seite nimmt Dateien bis 20 MB (QA_MAX_UPLOAD_MB)",
    "Straße.txt: die Datei ist leer; Gipfel „Genf“.md: Zeile 3: der Datensatz hat kein Datum",
    "Wie viele Soldaten (120.000?) hat Russland an der Grenze zusammengezogen?",
])
def test_a_german_message_stays_as_it_is(message):
    assert german(message) == message


@pytest.mark.parametrize("message", [
    "a message no template knows",
    "line 3: a reason no template knows",          # not "Zeile 3: a reason …": half German is no translation
    "leer.txt: the file is empty, says someone",
    "",
])
def test_an_unknown_message_stays_as_it_is(message):
    assert german(message) == message


def test_every_template_has_the_same_placeholders_in_both_languages():
    placeholder = re.compile(r"\{([a-z_][a-z0-9_]*)(?::\w+)?\}")
    for english, german_form in TEMPLATES:
        assert set(placeholder.findall(english)) == set(placeholder.findall(german_form)), english
        assert english != german_form
