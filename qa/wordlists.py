"""Every word list of the answer path, in one place: what the code treats as no content, no name, a question
word, a pointer back into the conversation, or the kind of fact a question asks for.

They are lists of the languages (German and English function words, months, days), not of any data set;
the numbers that weigh them are fitted in ``qa.calibration``.
"""

from __future__ import annotations

# Words that carry no topic: left out when questions and sentences are compared.
STOPWORDS = set("""
    a about according am an and are as at be between by did do does for from has have how in is it many much
    of on or the to was were what when where which who whom why with year time
    aber als am an auch auf aus bei bis da das dass dem den der des die dies diese dieser doch ein eine einem
    einen einer eines er es für gegen hat hatte haben im in ins ist kann laut mit nach nicht noch nur ob oder
    sein seine sich sie sind so soll um und uns von vor war waren was welche welcher welches welchem welchen
    wem wen wer wie viel viele wird wo zu zum zur wann warum heißt uhr gibt
""".split())

# Telling a text's language (``qa.questions.language_of``): function words of one language only ("in",
# "was" and "die" are words of both and count for neither).
ENGLISH_WORDS = {"what", "who", "whom", "when", "where", "which", "why", "how", "many", "much", "did", "does",
                 "do", "is", "are", "were", "the", "of", "on", "to", "and", "has", "have", "according", "at",
                 "between", "about", "with", "year", "time", "that", "for", "from", "by", "it", "its", "this",
                 "be", "been", "or", "not", "also", "there", "their", "they", "he", "she", "his", "her", "would",
                 "should", "can", "could", "after", "before", "than", "into", "over"}
GERMAN_WORDS = {"wer", "wem", "wen", "wann", "wo", "welche", "welcher", "welches", "warum", "wie", "viele",
                "viel", "der", "das", "des", "den", "dem", "und", "ist", "sind", "hat", "haben", "nach", "mit",
                "von", "zu", "im", "am", "um", "für", "auf", "sich", "ein", "eine", "einen", "nicht", "laut",
                "uhr", "oder", "ihr", "ihrem", "ihren", "ihrer", "sein", "seine", "seinem", "wird", "wurde",
                "werden", "auch", "nur", "noch", "bei", "aus", "als", "einer", "eines", "einem", "dass", "zum",
                "zur", "über", "sie", "er", "es", "wir", "war", "waren", "hatte", "nicht", "vor", "seit"}

MONTHS_DE = ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
             "november", "dezember"]
MONTHS_EN = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december"]
_MONTHS = "|".join(m.capitalize() for m in MONTHS_DE)
_DAYS = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
# A date given by a word: „im Juni“, „am Dienstag“, „Donnerstagmorgen“, „heute“ (not „Mainz“ nor „Juniorpartner“).
DATE_WORDS = rf"({_MONTHS}|({_DAYS})(morgen|vormittag|mittag|nachmittag|abend|nacht)?|heute|morgen|gestern)\b"
YEAR = r"\b(1[0-9]|20)\d\d(?!\d)"

# Numbers written as words: "die sechsmalige Grammy-Gewinnerin" answers "wie viele Grammys".
NUMBER_WORDS = (r"(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|hundert|"
                r"tausend|dutzend|million|milliard|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                r"twelve|twenty|hundred|thousand|million|billion)")
# A name and a place are only hinted at: German capitalises every noun („Videogipfel Putin“ passes for a
# name), so a sentence without one may still answer, and one with one says little (``SentenceRanker.kind_first``
# leaves them out).
_NAME = r"\b[A-ZÄÖÜ][a-zäöüß]+ [A-ZÄÖÜ][a-zäöüß]+\b"
PLACE = r"\b(in|nach|aus) [A-ZÄÖÜ]"
HINT_KINDS = {_NAME, PLACE}
# A number that counts: not an ordinal („beim 25. Herbstlauf“, „am 4. Oktober“) nor a time („16.00 Uhr“, „21:30“).
_COUNT = (rf"(?<![\d.,:])\d+(?:[.,]\d+)*(?![.,:]?\d)(?!\.\s)(?!\s?Uhr\b)"
          rf"|\b{NUMBER_WORDS}(?:e[rnms]?|en|mal|malige[rnms]?)?\b")
# An age: „74 Jahre alt“, „die 74-Jährige“, „im Alter von“, or news style's „Sabine Krüger (52, parteilos)“.
_AGE = (rf"(\d|\b{NUMBER_WORDS})\S*[ -]?([Jj]ahre?n?\b|[Jj]ährige)|\b[Aa]lter\b|\(\d{{1,3}}[,)]"
        r"|\b(aged?|years? old)\b")
_MONEY = r"\d\S* ?(Euro|Dollar|Franken|Pfund|Cent|Mio|Millionen|Milliarden|Mrd)\b|[€$£]|\b(Euro|Dollar)\b"
_TIME = r"\b\d{1,2}[:.]\d{2}\b"
# A day of a month as German writes it: „am 7. Dezember“, „30.Dezember“ (``about_another_day``); part of ``DATE``.
DAY_OF_MONTH = rf"\b(\d{{1,2}})\. ?({_MONTHS})\b"
# A date or a time: „am 16.07.2021“, „am 4. Oktober“, „2014“, „im Juni“, „am Dienstag“, „21:30“, „vor zwei
# Wochen“, „im 19. Jahrhundert“.
DATE = (rf"\b\d{{1,2}}\.\d{{1,2}}\.\d{{2,4}}(?!\d)|\b\d{{1,2}}[:.]\d{{2}}(?!\d|\.\d)|{DAY_OF_MONTH}|{YEAR}"
        rf"|\b{DATE_WORDS}|\b(vor|seit|nach) (\w+ )?(Tagen|Wochen|Monaten|Jahren|Jahrzehnten)\b"
        r"|\b\d{1,2}\. Jahrhunderts?\b")
# Kinds whose answer is a number or a date („wie viele“, „wie alt“, „was kostet“, „um wie viel Uhr“, „wann“): a
# sentence that holds none beyond what the question states cannot answer, however well it fits the question's
# words: „Wie viele Seiten umfassen die zwei Entwürfe?“ is not answered by „Russland legte zwei Entwürfe vor“,
# nor „An welchem Tag im Juni trafen sie sich?“ by „Sie trafen sich im Juni“ (``ExtractiveAnswerer`` declines).
FACT_KINDS = {_COUNT, _AGE, _MONEY, _TIME, DATE}
# A question that names the kind of place it asks for („In welcher Stadt …“) asks a place that a sentence gives
# as „in Genf“, „nach Moskau“, „aus Kiew“; „im Osten seines Landes“ names none. Not „wo“: „Wo liegt X?“ is also
# answered by „X liegt am Rhein“. Such a question is declined when the best sentence gives no place.
PLACE_QUESTION = (r"\b((in|aus|nach) welche[rmn]? (stadt|ort|land|gemeinde|dorf|hauptstadt|staat)|"
                  r"(in|from|to) which (town|city|country|village|capital|state))\b")
# (question pattern, what the answering sentence must contain)
ANSWER_KINDS = [
    # „um wie viel Uhr“ asks a time, „wie viel Zeit“ a span of it; „Anzahl“ is asked only as „welche Anzahl“
    # („eine unendliche Anzahl von Primzahlen“ in a question asks no number).
    (r"\b(wie ?viele?(?! uhr| zeit)|welche anzahl|how (many|much)(?! time))\b", _COUNT),
    # A measure is a number too („Wie hoch war …“); an age is one of years („74 Jahre alt“, „die 74-Jährige“), a
    # price one of money („4,2 Millionen Euro“), not any year the sentence names.
    (r"\b(wie (teuer|hoch|groß|lang|weit|schnell|schwer|tief|breit)|how (high|tall|big|large|far|fast|heavy|deep|"
     r"wide))\b", _COUNT),
    (r"\b(wie alt|how old)\b", _AGE),
    (r"\b(kostet|kosten|wie teuer|how much does|costs?)\b", _MONEY),
    # A reason: „Warum schließt die Bäckerei?“ is answered by the sentence that says why.
    (r"\b(warum|weshalb|wieso|weswegen|aus welchem grund|why)\b",
     r"\b([Ww]eil|[Dd]a|[Dd]enn|[Ww]egen|[Aa]ufgrund|[Ii]nfolge|[Dd]ank|[Dd]eshalb|[Dd]aher|[Dd]arum|[Dd]eswegen|"
     r"[Gg]rund|[Uu]rsache|[Ss]o ?dass|führte? (dazu|zu)|[Uu]m .{1,80} zu|[Bb]ecause|[Dd]ue to|[Ss]ince|"
     r"[Ll]ed to)\b"),
    (r"\b(uhrzeit|wie spät|what time|um wie ?viel uhr)\b", _TIME),
    # "when" as a question word comes with its verb ("when did", "when could"); "What did Biden say when he
    # called?" asks no date.
    (r"\b(wann|an welchem tag|in welchem jahr|seit wann|bis wann|which year|what year|what date|when (did|does|"
     r"do|is|was|were|will|would|could|can|should|shall|might|may|has|have|had|are))\b|^\W*when\b", DATE),
    (r"\b(wer|wie heißt|mit wem|von wem|who|whom)\b", _NAME),
    (r"\b(wo|wohin|woher|where)\b", PLACE),
    (r"\b(wie lange|wie ?viel zeit|welche[rmn]? frist|innerhalb welche[rmn]?|binnen welche[rmn]?|how long|"
     r"how much time|within)\b",
     r"\b(Sekunden?|Minuten?|Stunden?|Tagen?|Tage|Wochen?|Monat(e|en)?|Jahr(e|en)?)\b"),
]

# English names of things the German articles name in German: a check of "Moscow" looks for "Moskau".
EXONYMS = {
    "germany": "deutsch", "german": "deutsch", "greece": "griech", "greek": "griech", "turkey": "türk",
    "turkish": "türk", "moscow": "moskau", "kyiv": "kiew", "kiev": "kiew", "brussels": "brüssel",
    "geneva": "genf", "vienna": "wien", "munich": "münchen", "cologne": "köln", "austria": "österreich",
    "switzerland": "schweiz", "swiss": "schweiz", "france": "frankreich", "french": "franz",
    "britain": "brit", "british": "brit", "england": "england", "uk": "großbritannien", "spain": "spanien",
    "crimea": "krim", "kremlin": "kreml", "white": "weiß", "house": "haus", "cet": "mez", "us": "us",
    "usa": "usa", "america": "amerika", "american": "amerika", "united": "vereinigt", "states": "staat",
    "europe": "europ", "european": "europ", "eu": "eu", "nato": "nato", "russia": "russ", "russian": "russ",
    "ukraine": "ukrain", "ukrainian": "ukrain", "peskov": "peskow", "ushakov": "uschakow",
    "monday": "montag", "tuesday": "dienstag", "wednesday": "mittwoch", "thursday": "donnerstag",
    "friday": "freitag", "saturday": "samstag", "sunday": "sonntag", **dict(zip(MONTHS_EN, MONTHS_DE)),
}
# Capitalised words that are not names: sentence starts, pronouns, English function words.
NOT_NAMES = set("""
    der die das den dem des ein eine einen einem einer laut am im in an auf bei nach vor mit von zu zum zur
    er sie es wir ihr ich und oder aber dazu dort damit dafür daher demnach zudem außerdem so nein ja
    the a an and or but in on at by to of for from with according he she it they we i this that these those
    there yes no mr mrs
    um mehr als rund etwa knapp über seit bis ab kurz binnen innerhalb für insgesamt wie was wer wann wo nur
    noch bereits zunächst dann jedoch allerdings dies diese dieser ihm ihn sein seine ihre schon beide
    more about around nearly almost over since until within only also both its his her their on
""".split())
# How a model says that the passages do not answer.
ABSTAIN_PHRASES = ("dazu steht nichts in den artikeln", "the articles do not say", "steht nichts in den",
                   "enthalten keine information", "keine angaben", "nicht erwähnt", "do not mention",
                   "does not mention", "no information", "not mentioned", "do not contain")

# Words that ask rather than name a topic: carried over into a follow-up, they would change what it asks.
QUESTION_WORDS = set("""
    wer wie was wann wo woher wohin warum weshalb wieso welche welcher welches welchem welchen wieviel viel
    viele uhr um und jahr who what when where why which how many much year
""".split())
# Words that point back into the conversation: they name nothing a passage could contain.
REFERENCE_WORDS = set("""
    dafür dazu dort dabei damit davon darüber daran darauf dagegen daraus darin dahin danach dann vorher
    ihn ihm ihr ihre ihren ihrem ihrer sein seine seinen seinem seiner diese dieser dieses diesem diesen
    dies jene jener jenes derselbe dieselbe he she it they them his her its their this that these those
    there then er sie ihnen him
""".split())
# First words that continue the conversation: „Und was ist zwei Tage später geplant?“
FOLLOW_UP_STARTS = {"und", "auch", "aber", "also", "and", "but", "so"}

# Words a copied list or range may leave out or put differently ("A, B, C" for „A, B und C“, "30.000-50.000"
# for „30.000 bis 50.000“, "das" for „die“): ``FactChecker.span_in`` skips them on both sides.
SPAN_JOINERS = {"und", "oder", "sowie", "bis", "zwischen", "der", "die", "das", "den", "dem", "des", "ein", "eine",
                "einen", "einem", "einer", "eines", "and", "or", "to", "the", "a", "an"}
# Small numbers a model writes as digits where the article spells them out, or the other way round.
DIGIT_WORDS = {"zwei": "2", "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7", "acht": "8",
               "neun": "9", "zehn": "10", "zwölf": "12"}
