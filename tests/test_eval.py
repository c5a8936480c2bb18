"""The eval suite: each metric on small hand-made cases, the loader's errors, the pairs themselves, and the
fast run (retrieval and extractive answers over every pair) against eval/thresholds.toml."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eval import metrics as m
from eval.dataset import KINDS, QUESTIONS, DatasetError, load_pairs, unquoted
from eval.gate import failures, parse_thresholds
from eval.run import evaluate
from eval.systems import FAST
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
SOLDIERS = "US-Geheimdienstlern zufolge hat Moskau dort 70.000 Soldaten zusammengezogen."
CLAIM = "Moskau wirft der Ukraine vor, mehr als 120.000 Soldaten an die Linie verlegt zu haben."


# --- metrics -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["70.000", "70 000", "70,000", "70\u202f000", "70000"])
def test_german_and_english_number_formats_are_one_number(written):
    assert m.has_fact("70.000", f"Russland hat {written} Soldaten zusammengezogen [1].")


@pytest.mark.parametrize("fact, text, expected", [
    ("16.00", "Die Videokonferenz begann um 16:00 Uhr MEZ.", True),
    ("21:30", "um 21.30 Uhr", True),
    ("30", "Die Generalstabschefs der 30 NATO-Staaten", True),
    ("30", "mehr als 130 Staaten", False),              # whole numbers only
    ("13.000", "Mehr als 1.300 Menschen", False),
    ("Peskow", "sagte Kreml-Sprecher Dmitri Peskow.", True),
    ("Putin", "auf Putins Initiative", True),            # a German genitive still names him
    ("Genf", "in Genfer Verhandlungen", False),
    ("Großbritannien", "Frankreich, Italien, Grossbritannien", True),  # ß = ss
    ("„Sicherheitsgarantien“", "Es geht um Sicherheitsgarantien.", True),  # quotes are punctuation
])
def test_a_fact_is_found_after_normalisation(fact, text, expected):
    assert m.has_fact(fact, text) is expected


def test_normalisation_drops_articles_punctuation_case_and_markers():
    assert m.normalise("Die „Initiative“ ging von Putin aus [1].") == "initiative ging von putin aus"
    assert m.normalise("Um 16.00 Uhr begann der Gipfel, 1,5 Stunden lang.") == "um 16:00 uhr begann gipfel 1,5 stunden lang"


def test_token_f1_on_german_answers():
    assert m.token_f1("Die Initiative ging von Putin aus [1].", "Von Putin ging die Initiative aus.") == 1.0
    assert m.token_f1("Laut Kreml 70 000 Soldaten.", "70.000 Soldaten") == pytest.approx(2 * 2 / 4 * 1 / (2 / 4 + 1))
    assert m.token_f1("Dazu steht nichts in den Artikeln.", "70.000 Soldaten") == 0.0
    assert m.token_f1("", "") == 1.0


def test_fact_recall_counts_each_fact():
    assert m.fact_recall(["Frankreich", "Italien", "Großbritannien"], "Frankreich und Italien") == pytest.approx(2 / 3)
    assert m.fact_recall([], "anything") == 1.0


def test_retrieval_ranks_hits_and_reciprocal_rank():
    ranked = ["Ein Absatz über Genf.", "Noch einer.", f"Davor. {SOLDIERS} Danach."]
    rank = m.first_hit(ranked, ["Moskau dort 70.000 Soldaten"])
    assert rank == 3 and m.hit_at(rank, 1) == 0.0 and m.hit_at(rank, 3) == 1.0
    assert m.reciprocal_rank(rank) == pytest.approx(1 / 3)
    assert m.first_hit(ranked, ["nicht da"]) is None and m.reciprocal_rank(None) == 0.0
    # A quote across a line break in the passage still matches.
    assert m.first_hit(["Moskau dort\n70.000 Soldaten"], ["Moskau dort 70.000 Soldaten"]) == 1


def test_an_answer_citing_the_wrong_passage_loses_citation_precision_and_recall():
    quotes, facts = ["Moskau dort 70.000 Soldaten zusammengezogen"], ["70.000"]
    answer = "Russland hat 70.000 Soldaten zusammengezogen [1]."
    assert m.citation_precision([SOLDIERS], quotes, facts) == 1.0
    assert m.citation_recall(answer, [SOLDIERS], facts) == 1.0
    assert m.citation_precision([CLAIM], quotes, facts) == 0.0         # cites the 120.000 passage
    assert m.citation_recall(answer, [CLAIM], facts) == 0.0            # the 70.000 it states is not cited
    assert m.citation_precision([SOLDIERS, CLAIM], quotes, facts) == 0.5
    assert m.citation_precision([], quotes, facts) is None
    assert m.citation_recall("Dazu steht nichts in den Artikeln.", [CLAIM], facts) is None


def test_percentile_and_mean_skip_what_does_not_apply():
    assert m.percentile([3.0, 1.0, 2.0, 10.0], 0.5) in (2.0, 3.0) and m.percentile([1.0, 5.0], 0.95) == 5.0
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert str(m.mean([None])) == "nan" and str(m.percentile([], .5)) == "nan"


# --- the loader ----------------------------------------------------------------------------------------

GOOD = {"id": "p1", "question": "Wie viele?", "answer": "70.000.", "facts": ["70.000"],
        "passages": ["70.000 Soldaten"], "kind": "number"}


@pytest.mark.parametrize("change, message", [
    ({"kind": "zahl"}, r"\"kind\" is 'zahl'; it must be one of number"),
    ({"facts": "70.000"}, r"\"facts\" must be a list of non-empty texts"),
    ({"facts": []}, r"an answerable pair needs at least one fact and one supporting passage"),
    ({"answer": None}, r"an unanswerable pair .* must have no facts and no passages"),
    ({"question": " "}, r"\"question\" must be a non-empty text"),
    ({"kind": "follow_up"}, r"a follow_up pair needs a \"history\""),
    ({"history": [["nur eine Frage"]]}, r"\"history\" must be a list of \[question, answer\] pairs"),
    ({"quelle": "x"}, r"unknown field\(s\) quelle"),
    ({"answer": None, "facts": [], "passages": []}, r"kind 'number' does not fit \"answer\": null"),
])
def test_a_malformed_pair_is_refused_with_its_line_and_id(tmp_path, change, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "id": "p2", **change}) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"pairs.jsonl:2 \(pair 'p2'\): {message}"):
        load_pairs(path)


@pytest.mark.parametrize("text, message", [
    ('{"id": "p1", "question": ', r"pairs.jsonl:1: not valid JSON"),
    ("[1, 2]", r"pairs.jsonl:1: a pair must be a JSON object"),
    ('{"question": "Wer?"}', r"pairs.jsonl:1: the pair has no \"id\""),
    (json.dumps(GOOD) + "\n" + json.dumps(GOOD), r"pairs.jsonl:2 \(pair 'p1'\): .* same id as line 1"),
    ("\n# nur ein Kommentar\n", r"no pairs in the file"),
])
def test_broken_files_are_refused_with_a_message_naming_the_line(tmp_path, text, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_pairs(path)


def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b"\xff\xfe kaputt")
    with pytest.raises(DatasetError, match=r"pairs.jsonl: cannot read the pairs"):
        load_pairs(path)
    with pytest.raises(DatasetError, match=r"cannot read"):
        load_pairs(tmp_path / "missing.jsonl")


# --- the pairs -----------------------------------------------------------------------------------------

def test_the_pairs_cover_every_kind_and_enough_unanswerable_questions():
    pairs = load_pairs()
    assert len(pairs) >= 60
    assert sum(not p.answerable for p in pairs) >= 10
    assert {p.kind for p in pairs} == set(KINDS)
    assert all(p.history for p in pairs if p.kind == "follow_up")


def test_every_quote_is_in_an_article_and_every_fact_in_a_quote():
    pairs = load_pairs()
    assert unquoted(pairs, [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")]) == []
    for pair in pairs:
        for fact in pair.facts:
            assert any(m.has_fact(fact, quote) for quote in pair.passages), (pair.id, fact)


# --- thresholds and the command ------------------------------------------------------------------------

def test_thresholds_come_from_the_command_line_and_toml(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text('[extractive]\n"hit@3" = 0.9\nfalse_abstain = 0.05\n', encoding="utf-8")
    limits = parse_thresholds(["llm.correct=0.7"], toml)
    assert limits == {("extractive", "hit@3"): 0.9, ("extractive", "false_abstain"): 0.05,
                      ("llm", "correct"): 0.7}
    summaries = {"extractive": {"hit@3": 0.85, "false_abstain": 0.10}}
    assert failures(summaries, limits) == [
        "extractive.false_abstain = 0.100 is above the threshold 0.05",
        "extractive.hit@3 = 0.850 is below the threshold 0.9",
    ]  # the llm threshold is skipped: that system did not run


@pytest.mark.parametrize("spec, message", [
    ("nope.correct=1", "unknown system 'nope'"),
    ("llm.korrekt=1", "unknown metric 'korrekt'"),
    ("llm.correct=viel", "the value must be a number"),
])
def test_a_wrong_threshold_is_named(spec, message):
    with pytest.raises(SystemExit, match=message):
        parse_thresholds([spec], None)


def test_qa_eval_refuses_an_unknown_system_before_loading_anything():
    done = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--systems", "extractive,gpt"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "unknown system(s) gpt" in done.stderr


@pytest.mark.slow
def test_the_fast_run_meets_the_ci_thresholds_and_writes_the_report(tmp_path):
    """Retrieval and extractive answers over every pair, with the baselines: no LLM, about 30 s."""
    thresholds = parse_thresholds([], ROOT / "eval" / "thresholds.toml")
    assert thresholds, "eval/thresholds.toml holds no thresholds"
    code = evaluate(load_pairs(QUESTIONS), list(FAST), thresholds, tmp_path, progress=False, with_llm=False)
    folder = next(tmp_path.iterdir())
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert code == 0, report
    assert (folder / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if re.match(r"\| \w+ \| [\d—]", line)}
    assert set(FAST) <= set(rows) and "Weakest kind for extractive" in report
    answers = [json.loads(line) for line in (folder / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(answers) == len(FAST) * len(load_pairs())


def test_a_declined_part_of_a_question_is_no_unsupported_statement():
    from eval.checks import unsupported
    from qa.answer import Answer, Citation

    cited = ("Putin hatte zuletzt die NATO zu einem Ende ihrer Osterweiterung aufgefordert und dafür "
             "schriftliche Garantien verlangt.")
    citation = Citation(number=1, text=cited, article="000.txt", title="Putin", date="2021-12-13", score=1.0,
                        quote=cited, end=len(cited))
    question = "Was hat Putin von der NATO gefordert, und wann soll Selenskyj in Genf antworten?"
    text = f"{cited} [1] Zu „Wann soll Selenskyj in Genf antworten?“ steht nichts in den Artikeln."
    assert unsupported(Answer(text=text, citations=[citation], question=question), question) == []
    # A name the product states in its own words is still caught.
    text = f"{cited} [1] Selenskyj will am 21. Dezember in Genf antworten."
    assert unsupported(Answer(text=text, citations=[citation], question=question), question)


def test_the_models_none_is_replayed_as_the_fast_answer_from_the_trust_point_on():
    from eval.fit_trust import figures, replay

    def row(system, abstained, answer, confidence, generated="", references=("70.000",)):
        return {"system": system, "part": "calibration", "abstained": abstained, "answer": answer,
                "confidence": confidence, "generated": generated, "references": list(references),
                "source": "xquad", "answerable": bool(references)}

    fast = row("extractive", False, "Russland hat 70.000 Soldaten zusammengezogen. [1]", 0.9)
    said_none = {"extractive": fast, "llm": row("llm", True, "Dazu steht nichts in den Artikeln.", 0.9, "0")}
    assert replay(said_none, 0.95)["abstained"] and replay(said_none, 0.9) is fast
    absent = {"extractive": row("extractive", False, "Die Inflation steigt. [1]", 0.6, references=()),
              "llm": row("llm", True, "Dazu steht nichts in den Artikeln.", 0.6, "0", references=())}
    strict, trusting = figures([said_none, absent], 1.01), figures([said_none, absent], 0.5)
    assert (strict["contains"], strict["declined_absent"]) == (0.0, 1.0)
    assert (trusting["contains"], trusting["declined_absent"]) == (1.0, 0.0)
    # A run whose point overruled the „0“ (the fast answer given) replays as declined below a higher point.
    overruled = {"extractive": fast, "llm": {**fast, "system": "llm", "generated": "0"}}
    assert replay(overruled, 0.95)["abstained"] and replay(overruled, 0.5) is overruled["llm"]
    # Overruled and asked again: the first line is the model's „0“, the second its copy from one sentence.
    asked_again = {"extractive": fast, "llm": {**fast, "system": "llm", "generated": "0\n70.000"}}
    assert replay(asked_again, 0.95)["abstained"] and replay(asked_again, 0.5) is asked_again["llm"]
    # A question asked in parts is left as it was answered: its „0“ was one part's.
    in_parts = {"extractive": fast, "llm": {**said_none["llm"], "generated": "0 / 70.000"}}
    assert replay(in_parts, 0.5) is in_parts["llm"]


def test_the_trust_point_weighs_news_pairs_as_much_as_wikipedia_questions():
    from eval.fit_trust import balanced_right

    def question(source, right_from):
        """A question the model said „0“ to, at confidence 0.7: right when declined (``right_from`` above 0.7)
        or when answered (``right_from`` at or below it), by its fast answer."""
        answerable = right_from <= 0.7
        fast = {"system": "extractive", "abstained": False, "answer": "70.000 [1]", "references": ["70.000"],
                "scores": {"correct": 1.0}, "source": source, "answerable": answerable}
        if not answerable:
            fast["references"] = []
        llm = {**fast, "system": "llm", "abstained": True, "answer": "", "generated": "0", "confidence": 0.7}
        return {"extractive": fast, "llm": llm}

    # Ten Wikipedia questions better declined and one better answered; two news pairs better answered. Counted
    # together, declining is right 10 times in 13; averaged over the sources, answering is right more often.
    questions = [question("xquad", 1.0) for _ in range(10)] + [question("xquad", 0.0)] + \
        [question("pairs", 0.0) for _ in range(2)]
    answering, declining = balanced_right(questions, 0.5), balanced_right(questions, 0.9)
    assert round(answering, 3) == round((1 / 11 + 1) / 2, 3) and round(declining, 3) == round(10 / 11 / 2, 3)
    assert answering > declining


def test_llm_outcomes_are_counted_by_what_happened_with_the_fast_answer_beside_them():
    from eval.outcomes import outcome, table

    def row(system, answer, short="", reason="", abstained=False):
        return {"system": system, "abstained": abstained, "answer": answer, "short": short, "fallback_reason": reason,
                "references": ["70.000"], "source": "xquad", "answerable": True}

    fast = row("extractive", "Russland hat 70.000 Soldaten zusammengezogen. [1]")
    copied = {"extractive": fast, "llm": row("llm", "70.000 – „Russland hat …“ [1]", short="70.000")}
    fell_back = {"extractive": fast, "llm": row("llm", fast["answer"], reason="the short answer „120.000“ is in none "
                                                "of the sentences shown; asked again, no usable copy either")}
    declined = {"extractive": fast, "llm": row("llm", "Dazu steht nichts in den Artikeln.", abstained=True)}
    assert outcome(fell_back["llm"]).startswith("the short answer … is in none")   # the copied words left out
    lines = table([copied, copied, fell_back, declined])
    assert lines[2] == "| the model's copy used | yes | 2 | 2 | 2 | 1.00 |"
    assert "| declined | yes | 1 | 0 | 1 | 0.00 |" in lines
    # The fallback quotes the fast answer's sentence: right, but with no short answer its F1 is the whole
    # text's: one reference token among five (2 · 1/5 · 1 / (1/5 + 1) = 0.33).
    fallback = next(line for line in lines if line.startswith("| the short answer"))
    assert "| 1 | 1 | 1 | 0.33 |" in fallback


def test_answers_citing_an_article_outside_the_pairs_own_are_counted():
    from eval.baselines import Result
    from eval.scoring import summarise

    pair = next(p for p in load_pairs() if p.answerable)
    own = {"000_seed.txt"}
    rows = [(pair, Result(retrieved=[SOLDIERS], answer="70.000 [1]", cited=[SOLDIERS], language_ok=True,
                          cited_articles=("000_seed.txt",))),
            (pair, Result(retrieved=[SOLDIERS], answer="1,5 Millionen [1]", cited=["…"], language_ok=True,
                          cited_articles=("000_seed.txt", "wiki_000339.txt"))),
            (pair, Result(retrieved=[SOLDIERS], answer="Dazu steht nichts in den Artikeln.", cited=[],
                          abstained=True, language_ok=True))]
    assert summarise(rows, own)["unrelated"] == 1
    assert summarise(rows)["unrelated"] != summarise(rows)["unrelated"]   # nan: no distractors, not counted


def test_qa_eval_names_a_missing_distractor_folder(tmp_path):
    done = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--fast", "--distractors", str(tmp_path / "nah")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "no such folder" in done.stderr and "eval/distractors.py" in done.stderr


def test_a_quote_inside_a_quote_is_still_quoted_text_for_the_language_check():
    from eval.checks import answer_language

    english = ("According to the articles (quoted in German): „Biden hatte Putin im Gespräch mit „starken "
               "Wirtschaftsmaßnahmen“ der USA und deren europäischen Verbündeten gedroht.“ [1]")
    assert answer_language(english) == "en"
    assert answer_language("Laut den Artikeln drohte Biden mit „starken Wirtschaftsmaßnahmen“. [1]") == "de"


def test_a_short_answer_copied_from_the_cited_text_keeps_the_articles_spelling():
    from eval.checks import language_matches
    from qa.answer import Answer, Citation

    sentence = "Insbesondere ist bekannt, dass Gandhi Shelley's Mask of Anarchy oft einem breiten Publikum vorstellte."
    cited = [Citation(1, sentence, "Civil_disobedience.txt", "Ziviler Ungehorsam", "", 0.9, sentence)]
    question = "Welches Gedicht stellte Gandhi oft vor?"
    assert language_matches(Answer(f"Mask of Anarchy – „{sentence}“ [1]", cited, short="Mask of Anarchy"), question)
    # Words of its own in English still count, and so does a short answer the cited text does not hold.
    assert not language_matches(Answer(f"The poem Mask of Anarchy – „{sentence}“ [1]", cited,
                                       short="Mask of Anarchy"), question)
    assert not language_matches(Answer(f"Mask of the Red Death – „{sentence}“ [1]", cited,
                                       short="Mask of the Red Death"), question)


def test_the_decisions_out_of_fold_probabilities_come_from_fits_without_the_questions_article():
    """Two articles with opposite labels for the same evidence: fitted on both, each question gets about 0.5;
    out of fold, each article is scored by the other's fit and gets the other's label."""
    from eval.calibrate import balanced_log_loss, fit_logistic, out_of_fold, tradeoff

    import numpy as np

    x = np.array([[1.0], [1.1], [0.0], [0.1]] * 2)
    y = np.array([1, 1, 0, 0, 0, 0, 1, 1], dtype=float)
    groups = ["a"] * 4 + ["b"] * 4
    w, b = fit_logistic(x, y)
    in_sample = 1 / (1 + np.exp(-(x @ w + b)))
    assert np.allclose(in_sample, 0.5, atol=0.05)
    oof = out_of_fold(x, y, groups, 0.01)
    assert (oof[y == 1] < 0.1).all() and (oof[y == 0] > 0.9).all()
    assert balanced_log_loss(oof, y) > balanced_log_loss(in_sample, y)
    answerable = y == 1
    assert tradeoff(oof, answerable, 0.5) == "0.000 of 4 | 1.000 of 4"
    assert tradeoff(oof[:2], answerable[:2], 0.5) == "— | 1.000 of 2"
