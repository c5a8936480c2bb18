"""Metrics of the eval suite: none needs a language model as judge.

* retrieval: hit@k and reciprocal rank of the first passage holding a supporting quote;
* answers: key facts found, and token F1 against the reference answer, both after German normalisation
  (articles, punctuation, case, number formats 70.000 = 70 000 = 70,000 = 70000, times 16.00 = 16:00);
* citations, in the spirit of ALCE (Gao et al., 2023): precision, the share of cited passages that
  support the answer; recall, the share of the key facts the answer states that a cited passage holds;
* abstention: declined when the articles do not answer; declined although they do.

Everything here works on plain strings, so a test can check it on hand-made cases.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

ARTICLES = set("""
    der die das den dem des ein eine einer eines einem einen the a an
""".split())


def normalise_numbers(text: str) -> str:
    """Numbers in one form: thousands separators removed, times as h:mm, decimal commas as points."""
    # 70.000 / 70 000 / 70,000 / 70 000 → 70000 (groups of exactly three digits)
    text = re.sub(r"\b\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+\b(?![.,]\d)",
                  lambda m: re.sub(r"\D", "", m.group()), text)
    # 16.00 Uhr / 16:00 / 21.30 → 16:00 / 21:30 (a time, not a decimal: two digits after the point)
    text = re.sub(r"\b([01]?\d|2[0-3])[.:]([0-5]\d)\b(?!\.\d)", r"\1:\2", text)
    return text


def normalise(text: str) -> str:
    """Lower case, numbers in one form, punctuation and articles removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).casefold()  # casefold: ß = ss, as Swiss German writes it
    text = re.sub(r"\[\d+\]", " ", text)  # citation markers are not part of the answer
    text = normalise_numbers(text)
    text = re.sub(r"(?<!\d)[^\w\s:]|[^\w\s:](?!\d)|(?<!\d):|:(?!\d)", " ", text)
    return " ".join(w for w in text.split() if w not in ARTICLES)


def tokens(text: str) -> list[str]:
    return normalise(text).split()


def has_fact(fact: str, text: str) -> bool:
    """Whether ``text`` states ``fact`` (whole words, after normalisation): "70.000" is in "70 000 Soldaten".

    A word may carry a German case ending: "Putin" is stated in "auf Putins Initiative".
    """
    fact, text = normalise(fact), normalise(text)
    ending = "(?:s|es|n|en)?" if fact[-1:].isalpha() else ""
    return bool(fact) and re.search(rf"(?<!\w){re.escape(fact)}{ending}(?!\w)", text) is not None


def fact_recall(facts: Sequence[str], text: str) -> float:
    """The share of ``facts`` the answer states; 1.0 when there are none to state."""
    return sum(has_fact(f, text) for f in facts) / len(facts) if facts else 1.0


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 after German normalisation."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def short_f1(short: str, text: str, abstained: bool, references: Sequence[str]) -> float:
    """SQuAD token F1 of an answer's short answer (its whole ``text`` where there is none; 0 when declined)
    against the best of ``references``."""
    if abstained:
        return 0.0
    return max(token_f1(short or text, reference) for reference in references)


def quoted(quotes: Iterable[str], text: str) -> bool:
    """Whether ``text`` (a passage) holds one of the supporting ``quotes`` (whitespace and case aside)."""
    text = " ".join(text.split()).lower()
    return any(" ".join(q.split()).lower() in text for q in quotes)


def first_hit(ranked: Sequence[str], quotes: Sequence[str]) -> int | None:
    """The 1-based rank of the first passage holding a supporting quote, or None."""
    return next((i for i, text in enumerate(ranked, 1) if quoted(quotes, text)), None)


def hit_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / rank


def citation_precision(cited: Sequence[str], quotes: Sequence[str], facts: Sequence[str]) -> float | None:
    """The share of cited passages that support the answer: they hold a supporting quote or a key fact.

    None when nothing is cited (there is nothing to be precise about; recall counts the miss).
    """
    if not cited:
        return None
    return sum(quoted(quotes, c) or any(has_fact(f, c) for f in facts) for c in cited) / len(cited)


def citation_recall(answer: str, cited: Sequence[str], facts: Sequence[str]) -> float | None:
    """The share of the key facts the answer states that one of its cited passages holds.

    None when the answer states none of the facts (correctness counts that miss).
    """
    stated = [f for f in facts if has_fact(f, answer)]
    if not stated:
        return None
    return sum(any(has_fact(f, c) for c in cited) for f in stated) / len(stated)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def mean(values: Iterable[float | None]) -> float:
    """Mean of the values that are not None; NaN when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else float("nan")
