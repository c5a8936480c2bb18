"""The index as a library: articles added beside the others, listed, opened whole, removed; and the chat page's
upload and removal, on a real Chroma and the real embedding model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.articles import read_article, read_articles
from qa.pipeline import Pipeline, _pipelines
from qa.sync import ingest_paths
from qa.web import ChatApp
from tests.conftest import SEEDS

DATA = Path(__file__).resolve().parent / "data"
BRIDGE = "wuerzburg-bruecke.html"


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_added_files_keep_the_rest_of_the_index(store, embedder, settings, corpus, tmp_path):
    ingest_paths([corpus], store, embedder, settings, progress=False)
    report = ingest_paths([DATA / "export.jsonl", DATA / BRIDGE], store, embedder, settings, progress=False,
                          add=True)
    assert (report.added, report.removed, len(report.skipped)) == (3, 0, 2)
    held = {a.id: a for a in store.articles()}
    assert len(held) == 8 and {p.name for p in SEEDS.glob("*.txt")} <= set(held)
    bridge = held[BRIDGE]
    assert bridge.url.endswith("neue-fussgaengerbruecke-ueber-den-main-1234") and bridge.date == "2024-03-14"
    records = [a for a in held.values() if a.file == "export.jsonl"]
    assert sorted(a.source for a in records) == ["Nord-Nachrichten", "Rhein-Echo"]

    # The export again, without its Hamburg record: that record goes, everything else stays.
    edited = tmp_path / "again" / "export.jsonl"
    edited.parent.mkdir()
    edited.write_text("".join(line for line in (DATA / "export.jsonl").read_text(encoding="utf-8").splitlines(True)
                              if "Hamburg" not in line), encoding="utf-8")
    report = ingest_paths([edited], store, embedder, settings, progress=False, add=True)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 1)
    assert len(store.articles()) == 7 and BRIDGE in {a.id for a in store.articles()}


def test_an_opened_article_is_its_whole_text_as_read(store, embedder, settings, corpus):
    ingest_paths([corpus, DATA / BRIDGE], store, embedder, settings, progress=False)
    articles, _ = read_articles([corpus, DATA / BRIDGE])
    for article in articles:
        opened = store.article(article.id)
        assert opened.text == article.text, article.id  # paragraphs and all, from the stored sentences
        assert (opened.title, opened.date, opened.url) == (article.title, article.date, article.url)
    assert store.article("nicht-da.txt") is None


@pytest.fixture
def library(tmp_path, embedder):
    """A chat page over its own seeded index, with its upload folder in tmp_path."""
    from qa.config import Settings

    settings = Settings.from_env().with_(index_dir=tmp_path / "index", seeds_dir=SEEDS, max_upload_mb=1)
    _pipelines[settings] = Pipeline(settings, embedder)
    _pipelines[settings].ingest(progress=False)
    yield ChatApp(settings)
    _pipelines.pop(settings, None)


def test_uploads_are_checked_kept_in_the_upload_folder_and_reported(library, tmp_path):
    given = tmp_path / "given"
    given.mkdir()
    for name in (BRIDGE, "export.jsonl"):
        shutil.copy(DATA / name, given / name)
    (given / "bild.png").write_bytes(b"\x89PNG\r\n")
    (given / "riesig.txt").write_text(" date 2024-01\n\n" + "Sehr langer Text über Straßen. " * 40_000,
                                      encoding="utf-8")
    (given / "leer.txt").write_text("", encoding="utf-8")
    before = _files(tmp_path) - _files(given)
    steps = []
    report = str(library.add_files([str(p) for p in sorted(given.iterdir())],
                                   lambda done, total: steps.append(total)))

    assert "3 hinzugefügt, 0 aktualisiert, 0 unverändert" in report
    assert "bild.png: Dateityp .png wird nicht gelesen" in report
    size = (given / "riesig.txt").stat().st_size
    assert f"riesig.txt: die Datei hat {size:,} Bytes; die Seite nimmt Dateien bis 1 MB".replace(",", ".") in report
    assert "leer.txt: die Datei ist leer" in report and "export.jsonl Zeile 3: " in report  # German on the page
    assert steps and steps[-1] > 0  # the progress display was told how much there is to do
    uploads = library.settings.uploads
    assert uploads == tmp_path / "index-uploads"
    kept = {name for name in _files(uploads) if not name.startswith(".incoming/")}  # Gradio's, and the skip list
    assert kept == {BRIDGE, "export.jsonl"}  # an unusable file is not kept
    written = _files(tmp_path) - _files(given) - before
    assert all(path.startswith(("index/", "index-uploads/")) for path in written), written

    count, rows, choices = library.list_articles("Glocke")
    assert count == "8 Artikel im Index, 1 passen zum Filter"
    assert rows == [["Kölner Dom bekommt neue Glocke", "2024-01-07", "Rhein-Echo", "export.jsonl", 1]]
    assert {a.id for a in library._held() if a.file == BRIDGE} == {"upload/" + BRIDGE}
    assert library.list_articles("Genf")[0].endswith("0 passen zum Filter (gesucht wird in Titel, Datum, Quelle, "
                                                      "Datei und Adresse, nicht im Text)")


def test_a_removed_article_leaves_the_index_and_its_uploaded_file_goes(library):
    library.add_files([str(DATA / BRIDGE)])
    assert (library.settings.uploads / BRIDGE).is_file()
    shown = library.remove_articles(["upload/" + BRIDGE, "000_8cb14d011a9db3eb.txt"])
    seed = read_article(SEEDS / "000_8cb14d011a9db3eb.txt")
    assert shown == ('<div class="qa-note">Entfernt: Neue Fußgängerbrücke über den Main: Stadtrat stimmt zu '
                     f'(upload/{BRIDGE}); {seed.title} (000_8cb14d011a9db3eb.txt).</div>')
    assert library.list_articles()[0] == "4 Artikel im Index"
    assert not (library.settings.uploads / BRIDGE).exists()
    assert (SEEDS / "000_8cb14d011a9db3eb.txt").is_file()  # an article's own file elsewhere is never touched
    assert "Kein Artikel gewählt" in library.remove_articles([])


def test_a_bad_file_or_record_costs_only_itself_and_an_unreadable_file_keeps_its_articles(
        store, embedder, settings, tmp_path):
    folder = tmp_path / "archiv"
    folder.mkdir()
    shutil.copy(DATA / BRIDGE, folder / BRIDGE)
    shutil.copy(SEEDS / "004_9f2cb45af6900b9b.txt", folder)
    (folder / "ohne-datum.html").write_text("<html><body><article><p>Ein Artikel über die Straßenbahn in "
                                            "Göttingen, der ganze 120.000 Fahrgäste zählt, ohne Datum.</p>"
                                            "</article></body></html>", encoding="utf-8")
    (folder / "notiz.md").write_text("---\ntitle: Stadtfest in Lübeck\ndate: 2024-06-01\n---\n\n"
                                     "Das **Stadtfest** beginnt um 21:30 Uhr auf dem Markt.\n", encoding="utf-8")
    (folder / "export.csv").write_text(
        "title;date;text;url\n"
        "Fähre fällt aus;2024-05-02;„Die Fähre fährt heute nicht“, sagte die Reederei.;https://example.org/f\n"
        "Ohne Datum;;Ein Text ohne Datum.;https://example.org/x\n"
        "Straßenbau in Köln;03.05.2024;Die Straße bleibt bis Juni gesperrt.;https://example.org/k\n",
        encoding="utf-8")
    report = ingest_paths([folder], store, embedder, settings, progress=False)
    assert report.added == 5
    assert sorted(str(p).removeprefix(f"{folder}/") for p in report.skipped) == [
        "export.csv: row 3: the record has no date; give it a 'date' field (YYYY-MM-DD)",
        "ohne-datum.html: no publication date found in the page; add <meta property=\"article:published_time\" "
        "content=\"YYYY-MM-DD\"> to the page's <head>, or save the article as .txt with a 'date YYYY-MM' line"]
    assert {a.file for a in store.articles()} == {BRIDGE, "004_9f2cb45af6900b9b.txt", "notiz.md", "export.csv"}

    # The export becomes unreadable (saved as UTF-16 by a spreadsheet): its two articles stay in the index.
    (folder / "export.csv").write_bytes((folder / "export.csv").read_text(encoding="utf-8").encode("utf-16"))
    report = ingest_paths([folder], store, embedder, settings, progress=False)
    assert report.removed == 0 and len([a for a in store.articles() if a.file == "export.csv"]) == 2
    assert any("export.csv" in str(p) and "UTF-8" in p.reason for p in report.skipped)


SEED = "002_52fd73e0951e52b8.txt"


def _kept(library: ChatApp) -> set[str]:
    """The files kept in the upload folder (not Gradio's own ``.incoming`` there)."""
    return {p.name for p in library.settings.uploads.iterdir() if not p.name.startswith(".")}


def _article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f" date 2024-06-02\n\n{text}\n", encoding="utf-8")
    return folder / name


def test_an_upload_named_like_an_indexed_article_never_replaces_it(library, tmp_path):
    seed_text = library.article(SEED).text
    given = _article(tmp_path / "given", SEED, "Die Gewerkschaft spricht von 2.000 Streikenden in Göttingen.")
    report = str(library.add_files([str(given)]))
    assert "1 hinzugefügt, 0 aktualisiert" in report
    assert library.article(SEED).text == seed_text  # the seed, from its folder, is as it was
    assert "2.000 Streikenden" in library.article("upload/" + SEED).text
    # A sync of the seeds folder (qa ingest seeds/) leaves the page's uploads alone, and they the seeds.
    report = _pipelines[library.settings].ingest(SEEDS, progress=False)
    assert (report.removed, report.unchanged) == (0, 5)
    assert "2.000 Streikenden" in library.article("upload/" + SEED).text


def test_a_second_upload_of_a_name_is_held_back_until_replacing_is_confirmed(library, tmp_path):
    first = _article(tmp_path / "a", "streik.txt", "Am Montag fallen 40 Buslinien in Köln aus.")
    second = _article(tmp_path / "b", "streik.txt", "Inzwischen fallen 65 Buslinien in Köln aus.")
    library.add_files([str(first)])
    done = library.add_files([str(second)])
    assert done.held_back == ["streik.txt"] and "Nicht ersetzt" in done.html and "Gleichnamige ersetzen" in done.html
    assert "40 Buslinien" in library.article("upload/streik.txt").text
    assert "40 Buslinien" in (library.settings.uploads / "streik.txt").read_text(encoding="utf-8")
    done = library.add_files([str(second)], replace=True)
    assert "0 hinzugefügt, 1 aktualisiert" in done.html and not done.held_back
    assert "65 Buslinien" in library.article("upload/streik.txt").text
    assert "65 Buslinien" in (library.settings.uploads / "streik.txt").read_text(encoding="utf-8")


def test_two_files_of_one_name_in_one_upload_are_both_kept(library, tmp_path):
    first = _article(tmp_path / "a", "bericht.txt", "Die Fähre über die Elbe fährt ab 21:30 Uhr nicht mehr.")
    second = _article(tmp_path / "b", "bericht.txt", "Der Dom in Köln bekommt eine neue Glocke für 120.000 Euro.")
    again = _article(tmp_path / "c", "bericht.txt", "Der Dom in Köln bekommt eine neue Glocke für 120.000 Euro.")
    html = str(library.add_files([str(first), str(second), str(again)]))
    assert "2 hinzugefügt" in html and "gespeichert als bericht-2.txt" in html
    assert "bericht.txt: derselbe Inhalt wie bericht-2.txt in diesem Upload" in html  # the third: the second's bytes
    assert "Elbe" in library.article("upload/bericht.txt").text
    assert "Glocke" in library.article("upload/bericht-2.txt").text
    assert _kept(library) == {"bericht.txt", "bericht-2.txt"}


def test_a_right_to_left_override_is_removed_from_a_stored_name(library, tmp_path):
    given = _article(tmp_path / "given", "rechnung\u202etxt.exe.txt", "Die Stadt Würzburg zahlt 120.000 Euro.")
    library.add_files([str(given)])
    assert _kept(library) == {"rechnungtxt.exe.txt"}
    assert "upload/rechnungtxt.exe.txt" in {a.id for a in library._held()}
    assert all("\u202e" not in row[3] for row in library.list_articles()[1])


def test_a_failed_upload_leaves_no_copy_behind(tmp_path, embedder):
    from qa.config import Settings

    (tmp_path / "index").write_text("kein Ordner", encoding="utf-8")  # the index path is a file
    app = ChatApp(Settings.from_env().with_(index_dir=tmp_path / "index", seeds_dir=SEEDS))
    given = _article(tmp_path / "given", "fähre.txt", "Die Fähre fährt heute nicht.")
    html = str(app.add_files([str(given)]))
    assert "Fehler:" in html
    uploads = app.settings.uploads
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]


def test_the_report_of_a_huge_export_counts_per_reason_and_offers_the_whole_list(library, tmp_path):
    export = tmp_path / "given" / "gross.jsonl"
    export.parent.mkdir()
    lines = ['{"title": "Ohne Datum %d", "text": "Ein Text über Straßen in Göttingen."}' % n for n in range(49_995)]
    lines += ['{"title": "Brücke %d", "date": "2024-03-0%d", "text": "Die Brücke in Würzburg kostet %d.000 Euro '
              'und öffnet um 21:30 Uhr."}' % (n, n + 1, n + 2) for n in range(5)]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    roomy = library.settings.with_(max_upload_mb=20)  # the export is 4 MB; the fixture's page takes 1 MB
    _pipelines[roomy] = _pipelines[library.settings]
    try:
        done = ChatApp(roomy).add_files([str(export)])
    finally:
        _pipelines.pop(roomy, None)
    html = str(done)
    assert "5 hinzugefügt" in html and "49.995 übersprungen" in html
    assert len(html) < 3_000, len(html)  # counted per reason, five places shown, not 49,995 lines
    assert "49.995 ×" in html and "und 49.990 weitere" in html
    listed = done.skipped_file.read_text(encoding="utf-8").splitlines()
    assert len(listed) == 49_995 and listed[0].startswith("gross.jsonl: Zeile 1: ")
    assert "line" not in html and "the record" not in html  # German, as the whole page
