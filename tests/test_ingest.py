"""Ingestion is a sync, against a real Chroma (embedded and server) and the real embedding model."""

from pathlib import Path

import pytest

import qa
from qa.errors import ArticleError
from qa.sync import ingest_paths
from qa.store import ChunkStore

SEED_CHUNKS = 35


def _sync(paths, store, embedder, settings):
    return ingest_paths(paths if isinstance(paths, list) else [paths], store, embedder, settings, progress=False)


def _texts_of(store: ChunkStore, article_id: str) -> list[str]:
    return [c.text for c in sorted(store.all_chunks(), key=lambda c: c.n) if c.article_id == article_id]


def test_seeds_ingest_once_and_a_second_run_changes_nothing(corpus, store, embedder, settings):
    first = _sync(corpus, store, embedder, settings)
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.chunks == SEED_CHUNKS == store.count()
    ids_before = sorted(c.id for c in store.all_chunks())

    second = _sync(corpus, store, embedder, settings)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 5)
    assert not second.changed and second.chunks == SEED_CHUNKS
    assert sorted(c.id for c in store.all_chunks()) == ids_before


def test_edit_add_and_delete_are_synced(corpus, store, embedder, settings):
    _sync(corpus, store, embedder, settings)
    edited = corpus / "002_52fd73e0951e52b8.txt"
    edited.write_text(edited.read_text().replace("120.000 Soldaten", "95.000 Soldaten"), encoding="utf-8")
    (corpus / "005_neu.txt").write_text(" date 2022-01 Neue Meldung aus Genf\n\nIn Genf trafen sich am "
                                        "10. Januar Diplomaten beider Länder. Die Gespräche dauerten bis 21:30 Uhr.",
                                        encoding="utf-8")
    (corpus / "000_8cb14d011a9db3eb.txt").unlink()

    report = _sync(corpus, store, embedder, settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 3)
    articles = {c.article_id for c in store.all_chunks()}
    assert "000_8cb14d011a9db3eb.txt" not in articles and "005_neu.txt" in articles
    edited_text = " ".join(_texts_of(store, "002_52fd73e0951e52b8.txt"))
    assert "95.000 Soldaten" in edited_text and "120.000" not in edited_text
    assert report.chunks == store.count() == SEED_CHUNKS - 6 + 1


def test_the_stored_chunks_carry_their_place_in_the_article(corpus, store, embedder, settings):
    _sync(corpus, store, embedder, settings)
    text = qa.articles.read_article(corpus / "003_0c5df4d7e626345f.txt").text
    chunks = [c for c in store.all_chunks() if c.article_id == "003_0c5df4d7e626345f.txt"]
    assert chunks and all(text[c.start:c.end] == c.text for c in chunks)
    assert {c.title for c in chunks} == {"Telefonat zwischen Putin und Biden heute am späten Abend"}
    hit, score = store.search(embedder.embed_query("Wann soll das Videotelefonat am 30. Dezember stattfinden?"), 3)[0]
    assert "21:30" in hit.text and 0 < score <= 1


def test_an_interrupted_run_is_completed_by_the_next(corpus, store, embedder, settings, monkeypatch):
    calls = {"n": 0}
    real_write = ChunkStore.write_many

    def write_then_die(self, batch):
        batch = list(batch)
        calls["n"] += 1
        if calls["n"] == 2:  # die in the middle of the second write: half an article's chunks land
            real_write(self, batch[:1])
            self.collection.delete(ids=[batch[0].chunks[-1].id])
            raise KeyboardInterrupt
        real_write(self, batch)

    monkeypatch.setattr("qa.sync._WRITE_BATCH_CHUNKS", 8)
    monkeypatch.setattr(ChunkStore, "write_many", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        _sync(corpus, store, embedder, settings)
    monkeypatch.setattr(ChunkStore, "write_many", real_write)
    partial = store.article_states()
    assert 0 < len(partial) < 5 and not all(s.complete for s in partial.values())

    report = _sync(corpus, store, embedder, settings)
    assert report.added + report.updated == 5 - report.unchanged and report.updated >= 1
    assert report.chunks == SEED_CHUNKS
    assert all(s.complete for s in store.article_states().values())
    sentences = store.sentence_vectors(c.article_id for c in store.all_chunks())
    starts = {a: [row[0] for row in rows] for a, rows in sentences.items()}
    assert all(s and len(s) == len(set(s)) for s in starts.values()), "no sentence was left behind or written twice"
    assert _sync(corpus, store, embedder, settings).unchanged == 5
    for chunk in store.all_chunks():   # read by chunk id, a chunk's sentences are the same as by article
        inside = [(a, b, t) for a, b, t, _ in sentences[chunk.article_id] if chunk.start <= a and b <= chunk.end]
        got = [(a, b, t) for a, b, t, _ in store.chunk_sentences([chunk])[chunk.article_id]
               if chunk.start <= a and b <= chunk.end]
        assert got == inside and inside, chunk.id


def test_a_failed_write_stops_the_run_before_another_batch_is_written(corpus, store, embedder, settings,
                                                                     monkeypatch):
    """Writes run on a thread beside the next batch's embedding; the first failure is the last write."""
    calls = []

    def failing_write(self, batch):
        calls.append([item.article_id for item in batch])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa.sync._WRITE_BATCH_CHUNKS", 8)
    monkeypatch.setattr(ChunkStore, "write_many", failing_write)
    with pytest.raises(OSError, match="No space left"):
        _sync(corpus, store, embedder, settings)
    assert len(calls) == 1 and store.count() == 0


def test_bad_files_are_skipped_and_reported_and_lose_nothing(corpus, store, embedder, settings):
    _sync(corpus, store, embedder, settings)
    (corpus / "leer.txt").write_bytes(b"")
    (corpus / "bild.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (corpus / "ohne_datum.txt").write_text("Nur Text ohne Kopfzeile.", encoding="utf-8")
    broken = corpus / "001_7576bd814954bde3.txt"  # was indexed, now unreadable: keep what the index has
    broken.write_bytes(broken.read_text().encode("latin-1", errors="replace"))

    report = _sync(corpus, store, embedder, settings)
    reasons = {p.path.name: p.reason for p in report.skipped}
    assert set(reasons) == {"leer.txt", "bild.txt", "ohne_datum.txt", "001_7576bd814954bde3.txt"}
    assert "empty" in reasons["leer.txt"] and "binary" in reasons["bild.txt"]
    assert "date header" in reasons["ohne_datum.txt"] and "UTF-8" in reasons["001_7576bd814954bde3.txt"]
    assert report.removed == 0 and report.unchanged == 4 and report.chunks == SEED_CHUNKS


def test_a_missing_or_empty_folder_is_an_error_and_the_index_is_kept(corpus, store, embedder, settings, tmp_path):
    _sync(corpus, store, embedder, settings)
    with pytest.raises(ArticleError, match="does not exist"):
        _sync(tmp_path / "nirgendwo", store, embedder, settings)
    with pytest.raises(ArticleError, match="no paths given"):
        _sync([], store, embedder, settings)
    (tmp_path / "leer").mkdir()
    with pytest.raises(ArticleError, match="no articles"):
        _sync(tmp_path / "leer", store, embedder, settings)
    assert store.count() == SEED_CHUNKS


def test_the_public_ingest_builds_the_default_index_from_the_seeds(monkeypatch, tmp_path):
    report = qa.ingest()
    assert (report.added, report.chunks) == (5, SEED_CHUNKS)
    assert (tmp_path / "default-index").is_dir()
    assert qa.ingest().unchanged == 5


def test_the_public_ingest_takes_one_folder_as_a_string_or_a_path(corpus):
    """``qa.ingest("artikel")`` is one folder, not the characters „a“, „r“, „t“ … (a new user's first call)."""
    assert qa.ingest(str(corpus)).added == 5
    assert qa.ingest(corpus).unchanged == 5


def test_one_article_id_as_a_string_is_removed_as_one_id():
    """``remove("001_….txt")`` is one id, not its characters, in the Pipeline as in the public call."""
    from qa.config import Settings
    from qa.pipeline import pipeline_for

    qa.ingest()
    first, second = [a.id for a in qa.list_articles()][:2]
    assert pipeline_for(Settings.from_env()).remove(first) == [first]
    assert qa.remove(second) == [second]
    assert {first, second}.isdisjoint(a.id for a in qa.list_articles())


def test_the_command_line_reports_counts_and_errors(tmp_path, capsys):
    from qa.cli import main

    assert main(["ingest"]) == 0
    assert "5 added, 0 updated, 0 removed, 0 unchanged; 35 chunks in the index" in capsys.readouterr().out
    assert main(["ingest", str(tmp_path / "fehlt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fehlt does not exist" in err and "Traceback" not in err
