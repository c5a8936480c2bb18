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
    report = library.add_files([str(p) for p in sorted(given.iterdir())], lambda done, total: steps.append(total))

    assert "3 hinzugefügt, 0 aktualisiert, 0 unverändert" in report
    assert "bild.png: Dateityp .png wird nicht gelesen" in report
    size = (given / "riesig.txt").stat().st_size
    assert f"riesig.txt: die Datei hat {size:,} Bytes; die Seite nimmt Dateien bis 1 MB".replace(",", ".") in report
    assert "leer.txt: the file is empty" in report and "export.jsonl: line 3" in report
    assert steps and steps[-1] > 0  # the progress display was told how much there is to do
    uploads = library.settings.uploads
    assert uploads == tmp_path / "index-uploads"
    assert _files(uploads) == {BRIDGE, "export.jsonl"}  # an unusable file is not kept
    written = _files(tmp_path) - _files(given) - before
    assert all(path.startswith(("index/", "index-uploads/")) for path in written), written

    count, rows, choices = library.list_articles("Glocke")
    assert count == "8 Artikel im Index, 1 passen zum Filter"
    assert rows == [["Kölner Dom bekommt neue Glocke", "2024-01-07", "Rhein-Echo", "export.jsonl", 1]]
    assert library.list_articles("Genf")[0].endswith("0 passen zum Filter (gesucht wird in Titel, Datum, Quelle, "
                                                      "Datei und Adresse, nicht im Text)")


def test_a_removed_article_leaves_the_index_and_its_uploaded_file_goes(library):
    library.add_files([str(DATA / BRIDGE)])
    assert (library.settings.uploads / BRIDGE).is_file()
    shown = library.remove_articles([BRIDGE, "000_8cb14d011a9db3eb.txt"])
    seed = read_article(SEEDS / "000_8cb14d011a9db3eb.txt")
    assert shown == ('<div class="qa-note">Entfernt: Neue Fußgängerbrücke über den Main: Stadtrat stimmt zu '
                     f'({BRIDGE}); {seed.title} (000_8cb14d011a9db3eb.txt).</div>')
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
