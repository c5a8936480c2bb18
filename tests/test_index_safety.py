"""Nothing lost, nothing stale: syncs that would lose articles, foreign folders, two writers, readers of a
changing index. Real Chroma (embedded and server), the real embedding model, real processes."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import qa
from qa.config import Settings
from qa.errors import ConfigError, EmptyIndex, QAError, SyncRefused
from qa.pipeline import Pipeline
from qa.store import ChunkStore
from qa.sync import _WRITE_BATCH_CHUNKS, ingest_paths
from tests.conftest import SEEDS

TOWNS = ["Lüneburg", "Gießen", "Fürth", "Göttingen", "Würzburg", "Düren", "Görlitz", "Überlingen"]


def write_articles(folder: Path, names: range | list[int], prefix: str = "stadt") -> Path:
    """Small German articles, one fact each that no other article holds."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        town = f"{TOWNS[n % len(TOWNS)]}-{n}"
        (folder / f"{prefix}_{n:03d}.txt").write_text((
            f" date 2022-03 Neue Brücke in {town}\n\nIn {town} hat der Stadtrat am Mittwoch den Bau einer "
            f"Brücke beschlossen. Die „Brücke Nummer {n}“ soll {(n * 1000 + 120) * 1000:,} Euro kosten. Für "
            f"Fußgänger ist sie ab 21:30 Uhr gesperrt. Bürgermeisterin Weiß sprach von einem großen Tag.\n").replace(",", "."),
            encoding="utf-8")
    return folder


def ids_in(store: ChunkStore) -> set[str]:
    return set(store.article_states())


@pytest.fixture
def own(settings, tmp_path) -> Settings:
    """The test index, with no seed articles of its own (they would be exempt from the removal guard)."""
    return settings.with_(seeds_dir=tmp_path / "keine-seeds")


def _sync(paths, store, embedder, settings, **kw):
    return ingest_paths(paths if isinstance(paths, list) else [paths], store, embedder, settings, progress=False,
                        **kw)


def test_a_sync_in_which_every_file_is_skipped_changes_nothing_unless_pruned(own, embedder, tmp_path):
    store = ChunkStore(own)
    _sync(write_articles(tmp_path / "a", range(6)), store, embedder, own)
    bad = tmp_path / "kaputt"
    bad.mkdir()
    (bad / "latin1.txt").write_bytes(" date 2022-03\n\nDie Straße in Gießen ist gesperrt.".encode("latin-1"))

    with pytest.raises(SyncRefused, match=r"every file was skipped .*latin1\.txt.*remove all 6 .*--prune"):
        _sync(bad, store, embedder, own)
    assert len(ids_in(store)) == 6

    report = _sync(bad, store, embedder, own, prune=True)
    assert report.removed == 6 and report.removed_ids == tuple(f"stadt_{n:03d}.txt" for n in range(6))
    assert store.count() == 0


def test_a_sync_that_would_remove_most_of_the_index_is_refused_and_the_report_names_removals(own, embedder,
                                                                                             tmp_path):
    store = ChunkStore(own)
    folder = write_articles(tmp_path / "a", range(6))
    _sync(folder, store, embedder, own)
    for n in (0, 1):
        (folder / f"stadt_{n:03d}.txt").unlink()
    report = _sync(folder, store, embedder, own)  # 2 of 6 go: an ordinary sync
    assert report.removed_ids == ("stadt_000.txt", "stadt_001.txt")

    with pytest.raises(SyncRefused, match=r"remove 3 of the index's 4 articles \(stadt_002.txt, stadt_003.txt, "
                                          r"stadt_004.txt\)"):
        _sync(folder / "stadt_005.txt", store, embedder, own)
    assert len(ids_in(store)) == 4
    assert _sync(folder / "stadt_005.txt", store, embedder, own, prune=True).removed == 3
    assert ids_in(store) == {"stadt_005.txt"}


def test_the_default_index_s_seed_articles_make_way_for_ones_own_without_prune(settings, embedder, tmp_path):
    store = ChunkStore(settings)  # seeds_dir is seeds/: these five are the default index's first content
    _sync(SEEDS, store, embedder, settings)
    report = _sync(write_articles(tmp_path / "a", range(2)), store, embedder, settings)
    assert report.removed == 5 and ids_in(store) == {"stadt_000.txt", "stadt_001.txt"}


def test_the_command_line_lists_removals_and_refuses_without_prune(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_SEEDS_DIR", str(tmp_path / "keine-seeds"))
    folder = write_articles(tmp_path / "a", range(3))
    run = _qa("ingest", str(folder))
    assert run.returncode == 0, run.stderr
    run = _qa("ingest", str(folder / "stadt_000.txt"))
    assert run.returncode == 2 and "would remove 2 of the index's 3 articles" in run.stderr
    assert "--prune" in run.stderr and "Traceback" not in run.stderr
    run = _qa("ingest", "--prune", str(folder / "stadt_000.txt"))
    assert run.returncode == 0, run.stderr
    assert "removed stadt_001.txt" in run.stdout + run.stderr and "removed stadt_002.txt" in run.stdout + run.stderr


def test_only_the_default_index_is_built_from_the_seeds(tmp_path):
    configured = tmp_path / "default-index"  # QA_INDEX_DIR of every test: a configured index
    with pytest.raises(EmptyIndex, match=r"holds no articles yet; add them with `qa ingest FOLDER`"):
        qa.ask("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?")
    assert ChunkStore(Settings.from_env()).count() == 0 and configured.is_dir()
    run = _qa("ask", "Wer ist der Sprecher des Kremls?")
    assert run.returncode == 2 and "qa ingest FOLDER" in run.stderr


def test_an_ask_while_an_ingest_fills_the_default_index_adds_no_seeds(tmp_path, monkeypatch, embedder):
    monkeypatch.setattr("qa.config.DEFAULT_INDEX_DIR", tmp_path / "default-index")
    settings = Settings.from_env()
    assert settings.default_index
    store = ChunkStore(settings)
    folder = write_articles(tmp_path / "a", range(3))
    with store.writing():  # an ingest of one's own articles holds the writer lock …
        asker = threading.Thread(target=lambda: Pipeline(settings, embedder).ensure_index())
        asker.start()
        time.sleep(2)
        assert store.count() == 0 and asker.is_alive()  # … the first ask waits instead of seeding
        from qa.articles import read_articles
        from qa.sync import _embed_and_write, fingerprint

        articles, _ = read_articles([folder])
        _embed_and_write([(a, fingerprint(a, settings)) for a in articles], store, embedder, settings, False)
    asker.join(60)
    assert ids_in(store) == {"stadt_000.txt", "stadt_001.txt", "stadt_002.txt"}


def test_a_folder_with_other_data_is_refused_and_left_as_it_was(tmp_path, embedder):
    import chromadb

    foreign = tmp_path / "fremd"
    client = chromadb.PersistentClient(path=str(foreign))
    client.get_or_create_collection("rechnungen", embedding_function=None)
    (foreign / "notizen.md").write_text("Einkaufsliste: Brötchen", encoding="utf-8")
    before = sorted(p.name for p in foreign.iterdir())
    settings = Settings.from_env().with_(index_dir=foreign)
    with pytest.raises(QAError, match=r"holds other data \(chroma.sqlite3, notizen.md.*set QA_INDEX_DIR to an empty"):
        ChunkStore(settings).count()
    with pytest.raises(QAError, match="holds other data"):
        qa.ingest([SEEDS], settings=settings)
    assert sorted(p.name for p in foreign.iterdir()) == before

    plain = tmp_path / "ordner"
    plain.mkdir()
    (plain / "urlaub.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(QAError, match="holds other data"):
        ChunkStore(Settings.from_env().with_(index_dir=plain)).count()


def test_an_index_built_before_the_marker_file_is_still_opened(tmp_path, embedder):
    settings = Settings.from_env().with_(index_dir=tmp_path / "alt", seeds_dir=SEEDS)
    _sync(SEEDS, ChunkStore(settings), embedder, settings)
    (tmp_path / "alt" / "qa-index.json").unlink()
    assert ChunkStore(settings).count() == 35


def test_wrong_index_settings_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"QA_INDEX_DIR is set but empty; unset it"):
        Settings.from_env({"QA_INDEX_DIR": ""})
    file = tmp_path / "index.txt"
    file.write_text("kein Ordner", encoding="utf-8")
    with pytest.raises(QAError, match=r"is a file, not a folder; set QA_INDEX_DIR to a folder"):
        ChunkStore(Settings.from_env().with_(index_dir=file)).count()
    with pytest.raises(ConfigError, match=r"settings must be a qa.Settings.*got str"):
        qa.ask("Wer ist der Sprecher des Kremls?", settings="x")
    monkeypatch.setenv("QA_INDEX_DIR", "")
    run = _qa("ask", "Wer ist der Sprecher des Kremls?")
    assert run.returncode == 2 and "QA_INDEX_DIR is set but empty" in run.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB file system, under the free space a write needs (mounting needs root, as `make test` in CI has)."""
    mount = tmp_path / "klein"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                                          capture_output=True).returncode != 0:
        pytest.skip("mounting a small file system needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_named_and_the_next_ingest_completes_the_index(small_disk, embedder, tmp_path):
    settings = Settings.from_env().with_(index_dir=small_disk / "index", seeds_dir=SEEDS)
    with pytest.raises(QAError, match=r"the disk holding the index .* is full .*free some space and run the same "
                                      r"ingest again"):
        _sync(write_articles(tmp_path / "a", range(40)), ChunkStore(settings), embedder, settings)
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    store = ChunkStore(settings)
    report = _sync(tmp_path / "a", store, embedder, settings)
    assert report.chunks == 40 and all(s.complete for s in store.article_states().values())


def test_a_read_only_index_is_named_with_the_fix(embedder, tmp_path):
    settings = Settings.from_env().with_(index_dir=tmp_path / "index", seeds_dir=SEEDS)
    _sync(SEEDS, ChunkStore(settings), embedder, settings)
    view = tmp_path / "nur-lesen"  # the same index, seen through a read-only mount
    view.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "--bind", str(tmp_path / "index"), str(view)],
                                          capture_output=True).returncode != 0:
        pytest.skip("a read-only bind mount needs root")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True, capture_output=True)
        with pytest.raises(QAError, match=r"is read-only.*make it writable .*or copy it to a writable folder"):
            ChunkStore(settings.with_(index_dir=view)).count()
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


# Two processes, one index ----------------------------------------------------------------------------------

def _qa(*args, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})}, **kw)


def _env_of(settings: Settings) -> dict:
    if settings.server_mode:
        return {"QA_CHROMA_HOST": settings.chroma_host, "QA_CHROMA_PORT": str(settings.chroma_port),
                "QA_COLLECTION": settings.collection, "QA_SEEDS_DIR": str(settings.seeds_dir)}
    return {"QA_INDEX_DIR": str(settings.index_dir), "QA_SEEDS_DIR": str(settings.seeds_dir)}


def test_two_ingests_at_once_never_interleave(own, tmp_path):
    first = write_articles(tmp_path / "a", range(0, 12), prefix="a")
    second = write_articles(tmp_path / "b", range(20, 32), prefix="b")
    env = _env_of(own)
    procs = [subprocess.Popen([sys.executable, "-m", "qa", "ingest", "--prune", str(folder)], env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for folder in (first, second)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    waited = [err for _, err in outs if "waiting for it to finish" in err]
    assert len(waited) == 1, outs  # the later one said it waited
    held = ids_in(ChunkStore(own))
    assert held in ({p.name for p in first.iterdir()}, {p.name for p in second.iterdir()}), sorted(held)
    store = ChunkStore(own)
    assert all(s.complete for s in store.article_states().values()) and store.count() == 12


def test_a_running_reader_follows_another_process_s_ingest(own, embedder, tmp_path):
    folder = write_articles(tmp_path / "a", range(6))
    reader = Pipeline(own, embedder)
    reader.ingest([folder], progress=False)
    answer = reader.ask("Wie viel Euro soll die Brücke Nummer 3 kosten?")
    assert "3.120.000" in answer.text and answer.citations[0].article == "stadt_003.txt"

    (folder / "stadt_003.txt").unlink()   # another process removes an article …
    assert _qa("ingest", str(folder), env=_env_of(own)).returncode == 0
    answer = reader.ask("Wie viel Euro soll die Brücke Nummer 3 kosten?")
    assert all(c.article != "stadt_003.txt" for c in answer.citations)

    write_articles(folder, range(100, 130))   # … and then adds 30
    assert _qa("ingest", str(folder), env=_env_of(own)).returncode == 0
    answer = reader.ask("Wie viel Euro soll die Brücke Nummer 117 kosten?")
    assert "117.120.000" in answer.text and answer.citations[0].article == "stadt_117.txt"


def test_questions_asked_during_another_process_s_ingest_all_get_answers(own, embedder, tmp_path):
    folder = write_articles(tmp_path / "a", range(4))
    reader = Pipeline(own, embedder)
    reader.ingest([folder], progress=False)
    write_articles(folder, range(200, 260))
    writer = subprocess.Popen([sys.executable, "-m", "qa", "ingest", str(folder)], env={**os.environ, **_env_of(own)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors, answered = [], 0
    while writer.poll() is None or answered < 3:
        try:
            answer = reader.ask("Wie viel Euro soll die Brücke Nummer 2 kosten?")
            assert "2.120.000" in answer.text, answer.text
            answered += 1
        except Exception as exc:  # noqa: BLE001 - every kind of failure is what this test counts
            errors.append(f"{type(exc).__name__}: {exc}")
    assert writer.returncode == 0, writer.communicate()
    assert errors == [] and answered >= 3
    assert "Brücke Nummer 259" in reader.ask("Wie viel Euro soll die Brücke Nummer 259 kosten?").citations[0].text


def _reply(chat: subprocess.Popen, lines: "queue.Queue[str]", question: str, timeout: float = 300) -> str:
    """Ask the ``qa chat`` process one question: its answer is all it prints before it declines the line
    without words sent right after the question (stderr goes to the same pipe)."""
    chat.stdin.write(question + "\n1234\n")
    chat.stdin.flush()
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert chat.poll() is None, f"qa chat ended with {chat.returncode}: {got}"
            continue
        if "the question has no words in it" in line:
            return "\n".join(got)
        got.append(line.rstrip("\n"))
    raise AssertionError(f"no answer to {question!r} within {timeout} s: {got}")


def test_two_app_processes_see_each_other_s_ingest_at_their_next_question(own, embedder, tmp_path):
    from qa.retrieval import Retriever

    env = {**os.environ, **_env_of(own), "PYTHONUNBUFFERED": "1"}
    first = write_articles(tmp_path / "a", range(4))
    assert _qa("ingest", str(first), env=_env_of(own)).returncode == 0
    chat = subprocess.Popen([sys.executable, "-m", "qa", "chat", "--mode", "extractive"], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in chat.stdout], daemon=True).start()
    lexical = Retriever(ChunkStore(own), embedder, method="bm25")   # a third process's BM25 index, built now
    try:
        assert "2.120.000" in _reply(chat, lines, "Wie viel Euro soll die Brücke Nummer 2 kosten?")
        before = _reply(chat, lines, "Wie viel Euro soll die Brücke Nummer 57 kosten?")
        assert "57.120.000" not in before
        assert [p.chunk.article_id for p in lexical.retrieve("Brücke Nummer 57 Überlingen-57")][:1] != ["stadt_057.txt"]

        second = write_articles(tmp_path / "b", range(50, 60))
        added = _qa("ingest", "--add", str(second), env=_env_of(own))   # another process adds ten articles
        assert added.returncode == 0, added.stderr

        after = _reply(chat, lines, "Wie viel Euro soll die Brücke Nummer 57 kosten?")
        assert "57.120.000" in after and "stadt_057.txt" in after, after
        # The lexical index of a process that was running all along has the new chunks too.
        assert lexical.retrieve("Brücke Nummer 57 Überlingen-57")[0].chunk.article_id == "stadt_057.txt"
    finally:
        chat.stdin.close()
        chat.wait(timeout=60)


def _long_articles(folder: Path, count: int) -> Path:
    """Articles of about four chunks each, every paragraph with a fact of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        town = f"{TOWNS[n % len(TOWNS)]}-{n}"
        paragraphs = [
            f"In {town} hat der Stadtrat am Mittwoch den Bau der „Brücke Nummer {n}“ beschlossen. Die Brücke soll "
            f"{(n * 1000 + 120) * 1000:,} Euro kosten und über die Straße zum Bahnhof führen. Der Bau beginnt im "
            "Frühjahr, wenn das Wetter es erlaubt, und soll zwei Jahre dauern.".replace(",", "."),
            f"Für Fußgänger ist die Brücke in {town} ab 21:30 Uhr gesperrt. Bürgermeisterin Weiß sprach von einem "
            f"großen Tag für die Stadt und dankte den {n + 40} Helferinnen und Helfern, die seit Jahren dafür "
            "gekämpft hätten. Die Feier auf dem Marktplatz dauerte bis in die Nacht.",
            f"Kritik kam von der Opposition: Die Kosten seien zu hoch, sagte Fraktionschef Müller-Lüdenscheidt. "
            f"Er verlangte, dass die Stadt {town} zuerst die {n % 9 + 3} Schulen saniere. Eine Abstimmung im "
            "Herbst soll darüber entscheiden, ob das Geld dafür reicht.",
            f"Der Verkehrsverbund rechnet mit {n * 7 + 900} Fahrgästen am Tag, die über die neue Brücke zum "
            "Bahnhof gehen. Die Busse der Linie 12 sollen künftig alle zehn Minuten fahren; am Wochenende alle "
            "zwanzig Minuten.",
            f"Umweltverbände begrüßten, dass für die Brücke in {town} keine Bäume gefällt werden. Sie forderten "
            "aber einen Radweg auf beiden Seiten, der nach den Plänen der Stadt nur auf der Nordseite vorgesehen ist.",
        ]
        (folder / f"lang_{n:03d}.txt").write_text(f" date 2023-{n % 12 + 1:02d} Brücke in {town}\n\n"
                                                 + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


def test_an_ingest_killed_at_random_points_is_completed_by_the_next_run(own, embedder, tmp_path):
    import random

    seed = random.randrange(10**6)
    rng = random.Random(seed)
    folder = _long_articles(tmp_path / "a", 200)
    clean = own.with_(collection=f"{own.collection}-clean", index_dir=tmp_path / "clean-index")
    reference = ChunkStore(clean)
    began = time.monotonic()
    ingest_paths([folder], reference, embedder, clean, progress=False)
    ingest_s = time.monotonic() - began
    assert reference.count() >= 2 * _WRITE_BATCH_CHUNKS   # several batches: kills fall between and in them

    store = ChunkStore(own)
    kills = []
    for n in range(4):   # each run starts from what the killed one before it left
        run = subprocess.Popen([sys.executable, "-m", "qa", "ingest", "--prune", str(folder)],
                               env={**os.environ, **_env_of(own)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        start = store.count()
        if n == 0:   # while it loads the model and reads the articles, or in its first half (a fast
            # machine embeds the 200 articles in under 5 s, and a run that has finished was not killed)
            delay = rng.uniform(0.5, min(5.0, 1.0 + 0.5 * ingest_s))
        else:        # after its first batch: while it embeds or writes the next one
            while run.poll() is None and store.count() == start:
                time.sleep(0.1)
                store.refresh()
            delay = rng.uniform(0, 0.5 * ingest_s * _WRITE_BATCH_CHUNKS / reference.count())
        try:
            run.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
        store.refresh()
        kills.append((round(delay, 1), run.returncode, store.count()))
    final = _qa("ingest", "--prune", str(folder), env=_env_of(own))
    assert final.returncode == 0, (seed, kills, final.stderr)
    assert any(code == -9 and 0 < chunks < reference.count() for _, code, chunks in kills), (seed, kills)

    store.refresh()
    got = store.collection.get(include=["documents"])
    want = reference.collection.get(include=["documents"])
    assert sorted(zip(got["ids"], got["documents"])) == sorted(zip(want["ids"], want["documents"])), (seed, kills)
    assert all(s.complete for s in store.article_states().values()) and store.count() == reference.count()
    assert store.article_states().keys() == reference.article_states().keys()
    killed, fresh = Pipeline(own, embedder), Pipeline(clean, embedder)
    for question in ("Wie viel Euro soll die Brücke Nummer 17 kosten?", "Wem dankte die Bürgermeisterin in Fürth-2?",
                     "Was verlangte Müller-Lüdenscheidt von der Stadt Gießen-105?",
                     "Mit wie vielen Fahrgästen rechnet der Verkehrsverbund in Görlitz-142?"):
        a, b = killed.ask(question, mode="extractive"), fresh.ask(question, mode="extractive")
        assert (a.text, [c.article for c in a.citations]) == (b.text, [c.article for c in b.citations]), (seed, kills)
