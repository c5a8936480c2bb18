"""Vectors pooled from a model's token states: the normalized mean of the tokens inside each character span.

Both embedding backends (``qa.embedding``'s torch encoder and ``qa.onnx_e5``) read a chunk once and give each
of its sentences the mean of the token states that fall inside that sentence.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

Span = tuple[int, int]   # (start, end) of a piece of a text, in characters


def pool_spans(states: np.ndarray, offsets: np.ndarray, shift: int, spans: Sequence[Span]) -> np.ndarray:
    """Normalized mean of the token states inside each character span.

    ``states``: one row per token (padding removed); ``offsets``: each token's (start, end) in the encoded
    string; ``shift``: where the text starts in that string (after the prompt). A span whose tokens were cut
    off (beyond the model's length limit) gets the mean of the whole chunk.
    """
    out = np.empty((len(spans), states.shape[1]), dtype=np.float32)
    starts, ends = offsets[:, 0] - shift, offsets[:, 1] - shift
    real = offsets[:, 1] > offsets[:, 0]   # special tokens have empty offsets
    whole = states[real].mean(axis=0) if real.any() else states.mean(axis=0)
    for i, (start, end) in enumerate(spans):
        inside = real & (ends > start) & (starts < end)
        out[i] = states[inside].mean(axis=0) if inside.any() else whole
    return normalize(out)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1, as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
