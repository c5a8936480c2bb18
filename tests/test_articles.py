import codecs
import os
import signal
import socket
from pathlib import Path

import pytest

from qa.articles import find_article_files, parse_article, read_article, read_articles
from qa.errors import ArticleError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_seeds_parse_into_five_articles_with_stable_ids():
    articles, problems = read_articles([SEEDS])
    assert problems == []
    assert [a.id for a in articles] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert all(a.date == "2021-12" and len(a.sha256) == 64 for a in articles)
    by_id = {a.id: a for a in articles}
    telefonat = by_id["003_0c5df4d7e626345f.txt"]
    assert telefonat.title == "Telefonat zwischen Putin und Biden heute am späten Abend"
    assert telefonat.text.startswith("Angesichts der angespannten Lage")
    assert "21:30 Uhr MEZ" in telefonat.text


def test_a_headline_line_is_the_title_and_a_first_paragraph_is_text():
    first = read_article(SEEDS / "000_8cb14d011a9db3eb.txt")
    assert first.text.startswith("Einen Tag vor dem Videogipfel")  # the paragraph on the date line is text
    assert first.title.startswith("Einen Tag vor dem Videogipfel")


def test_an_advertisement_marker_is_dropped():
    article = read_article(SEEDS / "004_9f2cb45af6900b9b.txt")
    assert "Anzeige" not in article.text
    assert article.text.startswith("Washington. Der russische Präsident")
    assert article.title.startswith("Der russische Präsident Wladimir Putin")  # not the dateline
    assert "„eine Struktur zu schaffen" in article.text and "70.000 Soldaten" in article.text


def test_a_long_first_sentence_makes_a_short_title():
    article = parse_article(Path("x.txt"), (" date 2021-12 " + "Donaudampfschifffahrtsgesellschaft" * 5 + " sagt etwas. "
                                            "Ein zweiter Satz folgt hier.").encode())
    assert len(article.title) <= 92 and article.title.endswith("…")


def test_windows_line_ends_bom_and_spacing_are_normalised():
    data = "\ufeff date 2022-03 Große Überschrift\r\n\r\nDer Bürgermeister  sagte:\r\n„Das ist gut.“\r\n".encode()
    article = parse_article(Path("x.txt"), data)
    assert article.title == "Große Überschrift"
    assert article.text == "Der Bürgermeister sagte: „Das ist gut.“"
    assert article.date == "2022-03"


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \n\n  ", "empty"),
    (" date 2021-12 Gr\u00fc\u00dfe aus M\u00fcnchen".encode("latin-1"), "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("Kein Datum hier.\n\nNur Text.".encode(), "missing the date header"),
    (" date 2021-13 Text.".encode(), "month 13"),
    (" date 2021-02-30 Text.".encode(), "'2021-02-30' is not a date"),
    (" date 2021-12-7 Text.".encode(), "missing the date header.*YYYY-MM-DD"),
    (" date 2021-12\n\n".encode(), "no text"),
    (" date 2021-12 Anzeige\n\n".encode(), "no text"),
    (codecs.BOM_UTF16_LE + " \r\n".encode("utf-16-le"), "empty"),
    (codecs.BOM_UTF16_LE + " date 2021-12 Straße".encode("utf-16-le") + b"\x00\xd8", "not UTF-16 text"),
    (codecs.BOM_UTF16_BE + " date 2021-12 Straße".encode("utf-16-be")[:-1], "not UTF-16 text"),
])
def test_bad_files_are_refused_with_a_clear_reason(tmp_path, data, message):
    path = _write(tmp_path, "kaputt.txt", data)
    with pytest.raises(ArticleError, match=message) as caught:
        read_article(path)
    assert "kaputt.txt" in str(caught.value)


def test_bad_files_are_skipped_and_the_rest_is_read(tmp_path):
    _write(tmp_path, "gut.txt", " date 2021-12 Überschrift\n\nEin Satz über 120.000 Soldaten.")
    _write(tmp_path, "leer.txt", "")
    _write(tmp_path, "latin.txt", " date 2021-12 Straße".encode("latin-1"))
    _write(tmp_path, "notizen.docx", "ignored: not an article format")
    articles, problems = read_articles([tmp_path])
    assert [a.id for a in articles] == ["gut.txt"]
    assert sorted(p.path.name for p in problems) == ["latin.txt", "leer.txt"]
    assert any("UTF-8" in p.reason for p in problems)


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    good = _write(tmp_path, "gut.txt", " date 2021-12 Text.")
    _write(tmp_path, "geheim.txt", " date 2021-12 Text.")
    real_read = Path.read_bytes

    def read_bytes(path):  # tests run as root, who may read anything: refuse like a chmod 000 file would
        if path.name == "geheim.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    articles, problems = read_articles([tmp_path])
    assert [a.path for a in articles] == [good]
    assert problems[0].reason == "cannot be read (Permission denied)"


def test_a_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(ArticleError, match="gibt-es-nicht.*does not exist"):
        find_article_files([tmp_path / "gibt-es-nicht"])


def test_two_files_with_one_name_keep_the_first(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        _write(tmp_path / sub, "same.txt", f" date 2021-12 Text aus {sub}.")
    articles, problems = read_articles([tmp_path / "a", tmp_path / "b"])
    assert len(articles) == 1 and "Text aus a." in articles[0].text
    assert "another file named same.txt" in problems[0].reason


NOTEPAD = " date 2022-03 Große Überschrift\r\n\r\nDer Bürgermeister sagte: „Die Brücke kostet 120.000 Euro.“\n"


@pytest.mark.parametrize("data", [
    codecs.BOM_UTF16_LE + NOTEPAD.encode("utf-16-le"),  # what Windows Notepad saves as "Unicode"
    codecs.BOM_UTF16_BE + NOTEPAD.encode("utf-16-be"),
    NOTEPAD.encode("utf-16"),
], ids=["utf-16-le", "utf-16-be", "utf-16-native"])
def test_a_utf16_file_with_its_byte_order_mark_is_read_as_text(tmp_path, data):
    article = read_article(_write(tmp_path, "notepad.txt", data))
    assert (article.title, article.date) == ("Große Überschrift", "2022-03")
    assert article.text == "Der Bürgermeister sagte: „Die Brücke kostet 120.000 Euro.“"


def test_upper_case_txt_names_in_a_folder_are_read(tmp_path):
    for name in ("MELDUNG.TXT", "bericht.Txt", "gut.txt"):
        _write(tmp_path, name, f" date 2021-12 Überschrift\n\nUm 21:30 Uhr sprach {name} über Straßen.")
    _write(tmp_path, "NOTIZEN.DOCX", "ignored: not an article format")
    articles, problems = read_articles([tmp_path])
    assert sorted(a.id for a in articles) == ["MELDUNG.TXT", "bericht.Txt", "gut.txt"] and problems == []


def test_pipes_sockets_and_broken_links_in_a_folder_are_skipped_with_a_reason(tmp_path, monkeypatch):
    _write(tmp_path, "gut.txt", " date 2021-12 Überschrift\n\nEin Satz über 120.000 Soldaten.")
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe")  # not an article's name: left out like notizen.docx
    monkeypatch.chdir(tmp_path)  # a socket's path must be short
    server = socket.socket(socket.AF_UNIX)
    server.bind("sock.txt")
    os.symlink("schleife.txt", tmp_path / "schleife.txt")
    os.symlink("b.txt", tmp_path / "a.txt")
    os.symlink("a.txt", tmp_path / "b.txt")
    os.symlink("fehlt.txt", tmp_path / "weg.txt")

    def hung(*_):
        raise AssertionError("read_articles opened a named pipe and waits for a writer")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        articles, problems = read_articles([tmp_path])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
        server.close()
    assert [a.id for a in articles] == ["gut.txt"]
    reasons = {p.path.name: p.reason for p in problems}
    assert sorted(reasons) == ["a.txt", "b.txt", "pipe.txt", "schleife.txt", "sock.txt", "weg.txt"]
    assert reasons["pipe.txt"].startswith("this is a named pipe (FIFO), not a regular file")
    assert reasons["sock.txt"].startswith("this is a socket, not a regular file")
    assert all("symbolic link that loops" in reasons[name] for name in ("a.txt", "b.txt", "schleife.txt"))
    assert reasons["weg.txt"].startswith("a symbolic link to fehlt.txt, which does not exist")


def test_a_file_name_that_is_not_utf8_is_skipped_and_the_rest_is_read(tmp_path):
    _write(tmp_path, "gut.txt", " date 2021-12 Überschrift\n\nEin Satz über 120.000 Soldaten.")
    _write(tmp_path, os.fsdecode("Grüße.txt".encode("latin-1")), " date 2021-12 Grüße aus München.")
    articles, problems = read_articles([tmp_path])
    assert [a.id for a in articles] == ["gut.txt"]
    assert [p.reason for p in problems] == ["the file name is not UTF-8 text; rename the file (its name is the "
                                            "article's id)"]


def test_hidden_files_and_folders_in_a_folder_are_left_out(tmp_path):
    article = " date 2024-05 Straßenfest in Lübeck\n\nDas Fest beginnt um 21:30 Uhr.\n"
    for name in ["fest.txt", ".entwurf.txt", ".incoming/3f2a/fest.txt", ".git/notiz.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(article, encoding="utf-8")
    assert find_article_files([tmp_path]) == [tmp_path / "fest.txt"]
    assert find_article_files([tmp_path / ".entwurf.txt"]) == [tmp_path / ".entwurf.txt"]  # named: taken


def test_a_txt_date_header_may_give_the_day():
    article = parse_article(Path("brücke.txt"), " date 2026-08-14 Die Löwenbrücke wird für 4,2 Millionen Euro saniert.\n\n"
                                                "Die Sperrung beginnt um 21:30 Uhr.".encode())
    assert article.date == "2026-08-14"
    assert article.text.startswith("Die Löwenbrücke wird für 4,2 Millionen Euro saniert.")
