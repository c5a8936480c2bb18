"""The ``qa`` command (``qa.cli``): nothing it prints can drive the terminal, a bad line ends no chat, --prune."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main, printable
from qa.config import Settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
KREML = "Wie heißt der Sprecher des Kremls?"
NATO = "Wann ist die Sitzung des NATO-Russland-Rates geplant?"
NO_WORDS = "error: the question has no words in it, only numbers or signs; ask a question in words"

# An article whose headline, text and file name carry what a hostile page could hide in them: a hyperlink
# whose shown text differs from its address (OSC 8), a window title (OSC 0), colours and clear-screen (CSI),
# and an 8-bit CSI.
BRUECKE_NAME = "bruecke\x1b[31m\x07\x9b2J.txt"
BRUECKE = (" date 2022-03 \x1b]8;;https://example.org\x1b\\Neue Fußgängerbrücke\x1b]8;;\x1b\\ über den Main"
           "\x1b[31m\n\nWürzburg. Der Stadtrat hat am Dienstag den Bau einer Fußgängerbrücke über den Main "
           "beschlossen.\x1b]0;gehackt\x07 „Die Brücke kostet 120.000 Euro\x1b[2J\x1b[H\x9b2J“, sagte "
           "Oberbürgermeister Christian Schuchardt um 21:30 Uhr.\n")


@pytest.mark.parametrize("text, shown", [
    ("Die \x1b[31mrote\x1b[0m Linie", "Die rote Linie"),
    ("\x1b[2J\x1b[HGrüße aus München", "Grüße aus München"),
    ("Straße\x9b2J\x9b31m frei", "Straße frei"),
    ("\x1b]0;gehackt\x07Titel", "Titel"),
    ("„\x1b]8;;https://example.org\x1b\\Quelle\x1b]8;;\x1b\\“", "„Quelle“"),
    ("\x9d0;gehackt\x9cÜberschrift", "Überschrift"),
    ("\x1bcReset und \x1b(0Zeichensatz", "Reset und Zeichensatz"),
    ("120.000\x07\x08\r\x7f\x85\x9c Soldaten", "120.000 Soldaten"),
    ("um 21:30 Uhr\tMEZ\n\n„Zitat“", "um 21:30 Uhr\tMEZ\n\n„Zitat“"),  # tab and newline stay
    ("\x1b]0;kein Ende Größe", "0;kein Ende Größe"),  # unterminated: the escape goes, the text is shown
    ("bericht\udcff.txt", "bericht\ufffd.txt"),  # a file name that is not UTF-8: stdout could not encode it
], ids=["csi-colour", "csi-clear-screen", "csi-8-bit", "osc-title", "osc-8-link", "osc-8-bit", "other-escapes",
        "c0-c1-controls", "tab-newline", "osc-unterminated", "surrogate"])
def test_printable_removes_terminal_control_sequences_and_keeps_the_text(text, shown):
    assert printable(text) == shown


def test_control_sequences_in_an_article_and_its_file_name_are_never_printed(tmp_path, capsys):
    folder = tmp_path / "artikel"
    shutil.copytree(SEEDS, folder)
    (folder / BRUECKE_NAME).write_text(BRUECKE, encoding="utf-8")
    (folder / "leer\x1b]0;gehackt\x07.txt").write_bytes(b"")
    assert main(["ingest", str(folder)]) == 0
    assert main(["ask", "Wie viel kostet die Fußgängerbrücke über den Main?"]) == 0
    out, err = capsys.readouterr()
    assert not {"\x1b", "\x07", "\x9b"} & set(out + err)
    assert "„Die Brücke kostet 120.000 Euro“, sagte Oberbürgermeister Christian Schuchardt um 21:30 Uhr." in out
    assert "] Neue Fußgängerbrücke über den Main (2022-03, bruecke.txt)" in out
    assert f"skipped {folder}/leer.txt: the file is empty" in err.splitlines()
    assert "6 added, 0 updated, 0 removed, 0 unchanged" in out


def test_ingest_prune_confirms_a_large_removal_and_names_each_removed_article(tmp_path, capsys):
    folder = tmp_path / "artikel"
    folder.mkdir()
    towns = ["München", "Würzburg", "Göttingen", "Lübeck"]  # the seeds' names would not count
    for i, town in enumerate(towns):
        text = f" date 2022-0{i + 1} Straßenfest in {town}\n\n„Wir erwarten 120.000 Gäste“, sagte die Stadt."
        (folder / f"{i}_{town}.txt").write_text(text, encoding="utf-8")
    assert main(["ingest", str(folder)]) == 0
    gone = sorted(p.name for p in folder.glob("*.txt"))[:3]
    for name in gone:
        (folder / name).unlink()
    capsys.readouterr()
    assert main(["ingest", str(folder)]) == 2  # 3 of 4 articles: refused unless confirmed
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["ingest", "--prune", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [f"removed {name}" for name in gone]
    assert lines[3].startswith("0 added, 0 updated, 3 removed, 1 unchanged")


@pytest.fixture(scope="module")
def seeded_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a `qa` process whose index holds the seed articles (ingested by `qa ingest`)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(tmp_path_factory.mktemp("cli") / "index"),
               QA_CACHE_DIR=str(Settings.from_env({}).cache_dir))
    run = subprocess.run([sys.executable, "-m", "qa", "ingest", str(SEEDS)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return env


def _qa(env: dict[str, str], *args: bytes, stdin: bytes | None = None, **extra: str) -> subprocess.CompletedProcess:
    """Run `qa` with ``args`` as raw bytes, the way a shell passes them; its output decoded as UTF-8 (strictly)."""
    run = subprocess.run([os.fsencode(sys.executable), b"-m", b"qa", *args], env={**env, **extra}, input=stdin,
                         capture_output=True, timeout=300)
    return subprocess.CompletedProcess(run.args, run.returncode, run.stdout.decode(), run.stderr.decode())


@pytest.mark.slow
def test_bytes_that_are_not_utf8_in_the_arguments_are_answered_around(seeded_env):
    latin1 = _qa(seeded_env, b"ask", KREML.encode("latin-1"))  # a terminal set to Latin-1: "hei\xdft"
    assert latin1.returncode == 0, latin1.stderr
    assert "Peskow" in latin1.stdout.splitlines()[0]
    junk = _qa(seeded_env, b"ask", b"\xff\xfe \x1b\x07")
    assert junk.returncode == 2 and junk.stderr.startswith(NO_WORDS), junk.stderr


@pytest.mark.slow
def test_a_chat_carries_on_after_bad_lines(seeded_env):
    lines = [KREML.encode("latin-1"), b"\xff\xfe", "„120.000“?".encode(), "21:30".encode(), NATO.encode()]
    # A UTF-8 locale other than C.UTF-8 (de_DE.UTF-8) decodes stdin strictly: bad bytes raised there.
    chat = _qa(seeded_env, b"chat", stdin=b"\n".join(lines) + b"\n", PYTHONIOENCODING="utf-8:strict")
    assert chat.returncode == 0, chat.stderr
    assert "Peskow" in chat.stdout and "Für den 12. Januar ist eine Sitzung des NATO-Russland-Rates" in chat.stdout
    assert chat.stderr.count(NO_WORDS) == 3 and "Traceback" not in chat.stderr


def test_files_added_listed_and_removed_from_the_command_line(tmp_path, capsys):
    data = Path(__file__).resolve().parent / "data"
    assert main(["ingest", str(SEEDS)]) == 0
    assert main(["ingest", "--add", str(data / "wuerzburg-bruecke.html"), str(data / "export.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert "3 added, 0 updated, 0 removed, 0 unchanged" in out  # the seeds stay, and are not counted
    assert f"skipped {data / 'export.jsonl'}: line 4: the record has no text; give it a 'text' field" in err

    assert main(["articles", "Dom"]) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    article_id = line.split("\t")[0]
    assert article_id.startswith("export.jsonl:") and "Kölner Dom bekommt neue Glocke (2024-01-07, Rhein-Echo" in line
    assert line.endswith("\thttps://www.rhein-echo.example/koeln/dom-glocke") and err == "1 article(s)\n"
    assert main(["remove", article_id, "gibt-es-nicht.txt"]) == 1
    out, err = capsys.readouterr()
    assert out == f"removed {article_id}\n" and "not in the index: gibt-es-nicht.txt" in err
    assert main(["articles"]) == 0
    assert capsys.readouterr().err == "7 article(s)\n"
    assert main(["ingest", "--add"]) == 2
    assert "--add needs the files or folders to add" in capsys.readouterr().err
