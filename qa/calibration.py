"""Every fitted number of the answer path, in one object, with the data it was fitted on.

``eval/calibrate.py`` fits them on the calibration part of the dev data (by article) and writes
``qa/calibration.json``; the eval reports on the other part. Code receives a ``Calibration`` instead of
reading module constants, so a test or a user can pass another one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from qa.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent / "calibration.json"
# The features the decision weighs, in the order of ``decision_weights`` (``qa.decision.Evidence``).
FEATURES = ("score", "similarity", "coverage", "typed", "english", "near", "named")


@dataclass(frozen=True)
class Calibration:
    # Retrieval: a chunk's fused score = w_dense × dense cosine + (1 − w_dense) × BM25 + w_sentences × its best
    # sentence's cosine, each min-max scaled over the question's candidates; w_sentences 0 leaves it out.
    w_dense: float = 0.5
    w_sentences: float = 0.0
    # Sentence score = e5 similarity + w_lexical × shared words + w_type × holds the asked kind
    #                  + w_rank / (passage rank + 1)
    w_lexical: float = 0.15
    w_type: float = 0.03
    w_rank: float = 0.02
    # Answer or decline (``qa.decision``): a logistic model over ``FEATURES``; answer when its probability is
    # at least ``answer_at``.
    decision_weights: tuple[float, ...] = (30.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    decision_bias: float = -26.5
    answer_at: float = 0.5
    # LLM mode: when the model finds no answer among the sentences, it declines, unless the evidence is at
    # least this strong (then the best sentence is quoted). Above 1: the model's "none" always declines.
    llm_trust_at: float = 1.01
    # LLM mode: the model picks from the best ``llm_candidates`` sentences that score within ``llm_margin`` of
    # the best one (1 keeps them all); fitted together: the fewest on average that hold the answer about as
    # often as six do. Every sentence is ~60 prompt tokens, close to a second on 2 cores.
    llm_candidates: int = 3
    llm_margin: float = 1.0
    # A part of a question, or a follow-up's cheap form, counts as found when its best sentence holds this
    # share of the words it asks for.
    found_share: float = 0.5
    # A question that asks several things is retrieved part by part only when the whole is covered: its
    # probability is at least this (``Decision.covers``). Not fitted on its own; None (a file written before
    # it existed): answer_at's value.
    plan_at: float | None = None
    fitted_on: dict = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Calibration":
        """The fitted numbers in ``path`` (default: the ones shipped in ``qa/calibration.json``)."""
        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if path == DEFAULT_PATH:
                return cls()
            raise ConfigError(f"the calibration file {path} does not exist; run `python eval/calibrate.py`") \
                from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the calibration file {path} ({exc}); run `python eval/calibrate.py` "
                              "to write it again") from None
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"the calibration file {path} has unknown fields {', '.join(sorted(unknown))}")
        if "decision_weights" in data:
            data["decision_weights"] = tuple(data["decision_weights"])
        calibration = cls(**data)
        fitted = calibration.fitted_on.get("features")
        if fitted is not None and list(fitted) != list(FEATURES):
            raise ConfigError(f"the calibration file {path} weighs the features {', '.join(fitted)}; the decision "
                              f"has {', '.join(FEATURES)}; run `python eval/calibrate.py` to fit it again")
        if len(calibration.decision_weights) != len(FEATURES):
            raise ConfigError(f"the calibration file {path} weighs {len(calibration.decision_weights)} features, "
                              f"the decision has {len(FEATURES)} ({', '.join(FEATURES)}); "
                              "run `python eval/calibrate.py` to fit it again")
        return calibration

    def save(self, path: Path | str = DEFAULT_PATH) -> None:
        data = asdict(self)
        data["decision_weights"] = list(self.decision_weights)
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
