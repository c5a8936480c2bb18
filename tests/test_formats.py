"""The article formats beyond .txt: Markdown, saved web pages, JSON Lines and CSV, read through read_articles."""

import hashlib
import json
import socket
from pathlib import Path

import pytest

import qa.formats
from qa.articles import belongs_to, find_article_files, read_articles
from qa.formats import SUPPORTED_SUFFIXES


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Reading a file never reaches the network: any attempt fails the test, even one a library swallows."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("the network is off in these tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield
    assert attempts == [], "reading articles tried to reach the network"


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _read_one(path: Path):
    articles, problems = read_articles([path])
    assert problems == [] and len(articles) == 1
    return articles[0]


def _reasons(problems) -> list[str]:
    return [p.reason for p in problems]


# --- web pages ---------------------------------------------------------------------------------------------

PARAGRAPHS = [
    "Angesichts der angespannten Lage an der ukrainischen Grenze wollen Russlands Präsident Wladimir Putin und "
    "US-Präsident Joe Biden heute Abend erneut miteinander sprechen. Das Gespräch soll um 21:30 Uhr MEZ beginnen.",
    "Nach Angaben aus Washington hat Russland mehr als 120.000 Soldaten an der Grenze zusammengezogen. Kremlsprecher "
    "Dmitri Peskow sagte, Moskau wolle „eine Struktur schaffen, die für beide Seiten verlässlich ist“.",
    "Die Außenministerin forderte, die Gespräche müssten ohne Vorbedingungen geführt werden. Für Freitag ist ein "
    "weiteres Treffen der Unterhändler in Genf geplant, heißt es aus dem Weißen Haus.",
]

PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
  <meta charset="{charset}">
  <title>Putin und Biden telefonieren erneut | tagesschau.de</title>
  <meta property="og:title" content="Putin und Biden telefonieren erneut">
  <meta property="og:site_name" content="tagesschau.de">
  {date_meta}
  <link rel="canonical" href="{url}">
  <script>window.dataLayer = window.dataLayer || []; trackPage("Startseite Überblick");</script>
</head>
<body>
  <div id="cookie-banner" class="cookie-consent">Wir verwenden Cookies, um Ihnen ein optimales
    Nutzungserlebnis zu bieten. <button>Alle akzeptieren</button></div>
  <header><nav class="main-nav"><ul>
    <li><a href="/">Startseite</a></li><li><a href="/inland">Inland</a></li>
    <li><a href="/ausland">Ausland</a></li><li><a href="/wirtschaft">Wirtschaft</a></li>
  </ul></nav></header>
  <main>
    <article>
      <h1>Putin und Biden telefonieren erneut</h1>
      {byline}
      <p>Angesichts der angespannten Lage an der ukrainischen Grenze wollen Russlands Pr&auml;sident Wladimir
         Putin und US-Pr&auml;sident Joe Biden heute Abend erneut miteinander sprechen. Das Gespr&auml;ch soll
         um 21:30&nbsp;Uhr MEZ beginnen.</p>
      <div class="ad" id="ad-slot-1"><span>Anzeige</span>
        <p>Jetzt Girokonto er&ouml;ffnen und 120&nbsp;Euro Pr&auml;mie sichern!</p></div>
      <p>Nach Angaben aus Washington hat Russland mehr als 120.000&nbsp;Soldaten an der Grenze zusammengezogen.
         Kremlsprecher Dmitri Peskow sagte, Moskau wolle „eine Struktur schaffen, die f&uuml;r beide Seiten
         verl&auml;sslich ist“.</p>
      <p>Die Au&szlig;enministerin forderte, die Gespr&auml;che m&uuml;ssten    ohne Vorbedingungen
         gef&uuml;hrt werden. F&uuml;r Freitag ist ein weiteres Treffen der Unterh&auml;ndler in Genf geplant,
         hei&szlig;t es aus dem Wei&szlig;en Haus.</p>
      <script>loadWidget("Mehr zum Thema: Weitere Nachrichten aus aller Welt");</script>
    </article>
  </main>
  <footer><p>© ARD-aktuell / tagesschau.de 2021</p>
    <a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a></footer>
</body>
</html>
"""
URL = "https://www.tagesschau.de/ausland/putin-biden-telefonat-101.html"
DATE_META = '<meta property="article:published_time" content="2021-12-30T09:15:00+01:00">'
BOILERPLATE = ["Cookies", "akzeptieren", "Startseite", "Wirtschaft", "dataLayer", "trackPage", "loadWidget",
               "Mehr zum Thema", "Anzeige", "Girokonto", "Prämie", "ARD-aktuell", "Impressum", "Datenschutz"]


def _page(charset="utf-8", date_meta=DATE_META, url=URL, byline="") -> str:
    return PAGE.format(charset=charset, date_meta=date_meta, url=url, byline=byline)


def test_a_news_page_gives_its_article_without_menus_scripts_ads_or_footer(tmp_path):
    article = _read_one(_write(tmp_path, "putin-biden.html", _page()))
    assert article.id == "putin-biden.html"
    assert article.title == "Putin und Biden telefonieren erneut"
    assert article.date == "2021-12-30"
    assert article.url == URL
    assert article.source == "tagesschau.de"
    assert article.text == "\n\n".join(PARAGRAPHS)
    assert [word for word in BOILERPLATE if word in article.text] == []
    assert len(article.sha256) == 64


def test_a_page_in_windows_1252_labelled_latin_1_keeps_its_quotes_and_umlauts(tmp_path):
    # What older German sites send: the label says ISO-8859-1, the bytes of „“ are Windows-1252's.
    path = _write(tmp_path, "ALT.HTM", _page(charset="iso-8859-1").encode("cp1252", errors="xmlcharrefreplace"))
    assert _read_one(path).text == "\n\n".join(PARAGRAPHS)


def test_a_page_without_date_markup_takes_the_date_from_its_text_or_address(tmp_path):
    in_text = _page(date_meta="", byline='<p class="byline">Berlin, 30. Dezember 2021</p>')
    in_address = _page(date_meta="", url="https://www.tagesschau.de/ausland/2021/12/30/putin-biden.html")
    assert _read_one(_write(tmp_path, "text.html", in_text)).date == "2021-12-30"
    assert _read_one(_write(tmp_path, "adresse.html", in_address)).date == "2021-12-30"


def test_a_page_without_any_date_is_a_problem_saying_how_to_add_one(tmp_path):
    # The footer's "© … 2021" is a year, not the day the article appeared: htmldate's guess 2021-01-01 is refused.
    articles, problems = read_articles([_write(tmp_path, "ohne-datum.html", _page(date_meta=""))])
    assert articles == []
    assert _reasons(problems) == [
        'no publication date found in the page; add <meta property="article:published_time" '
        'content="YYYY-MM-DD"> to the page\'s <head>, or save the article as .txt with a \'date YYYY-MM\' line']


def test_a_page_of_navigation_only_has_no_article_text(tmp_path):
    page = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Übersicht | tagesschau.de</title>
      <meta property="article:published_time" content="2021-12-30"></head><body>
      <div class="cookie-consent">Wir verwenden Cookies. <button>Akzeptieren</button></div>
      <header><nav><ul><li><a href="/">Startseite</a></li><li><a href="/inland">Inland</a></li>
      <li><a href="/ausland">Ausland</a></li><li><a href="/wirtschaft">Wirtschaft</a></li>
      <li><a href="/sport">Sport</a></li></ul></nav></header>
      <footer><a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a></footer></body></html>"""
    articles, problems = read_articles([_write(tmp_path, "menue.html", page)])
    assert articles == []
    assert _reasons(problems) == ["no article text found in the page (only menus, banners or scripts); save the "
                                  "article's own page, or its text as .txt"]


def test_line_breaks_stay_in_their_paragraph_and_items_and_rows_are_paragraphs(tmp_path):
    page = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
      <meta property="article:published_time" content="2021-09-27"><title>Wahlergebnis</title></head><body>
      <article><h1>Das vorl&auml;ufige Ergebnis der Bundestags&shy;wahl</h1>
      <p>Die SPD liegt knapp vor der Union.<br>Die Gr&uuml;nen erreichen ihr bestes Ergebnis.</p>
      <ul><li>Wahlbeteiligung: 76,6 Prozent</li><li>Stimmberechtigte: rund 61,2 Millionen</li></ul>
      <table><tr><td>SPD</td><td>25,7 %</td></tr><tr><td>CDU/CSU</td><td>24,1 %</td></tr></table>
      <p>Die Sondierungs&shy;gespr&auml;che beginnen nach Angaben der Parteien am Sonntag um 18:00&nbsp;Uhr.</p>
      </article></body></html>"""
    article = _read_one(_write(tmp_path, "wahl.html", page))
    assert article.title == "Das vorläufige Ergebnis der Bundestagswahl"
    assert article.text.split("\n\n") == [
        "Die SPD liegt knapp vor der Union. Die Grünen erreichen ihr bestes Ergebnis.",
        "Wahlbeteiligung: 76,6 Prozent",
        "Stimmberechtigte: rund 61,2 Millionen",
        "SPD 25,7 %",
        "CDU/CSU 24,1 %",
        "Die Sondierungsgespräche beginnen nach Angaben der Parteien am Sonntag um 18:00 Uhr.",
    ]


@pytest.mark.parametrize("data, reason", [
    (b"", "the file is empty"),
    (URL.encode(), "not an HTML page (no <html> markup found)"),  # a bare address is never fetched
    ("<html><head><meta charset='utf-8'></head><body><p>Gr\u00fc\u00dfe</p></body></html>".encode("latin-1"),
     "not utf-8 text (byte 0xfc at offset 52), and the page declares charset utf-8; save the page as UTF-8 or "
     'declare its charset (<meta charset="…">)'),
    (b"<html><head><meta charset='klingon'></head></html>",
     "the page declares the charset 'klingon', which is unknown; save it as UTF-8"),
])
def test_pages_that_cannot_be_read_are_problems_with_a_reason(tmp_path, data, reason):
    articles, problems = read_articles([_write(tmp_path, "seite.html", data)])
    assert articles == [] and _reasons(problems) == [reason]


# --- Markdown ----------------------------------------------------------------------------------------------

MARKDOWN_FRONT_MATTER = """---
title: "Scholz reist zu seinem ersten Auslandsbesuch nach Paris"
date: 2021-12-10
url: https://www.example.de/politik/scholz-paris
source: Beispiel-Zeitung
tags:
  - Politik
---
# Scholz in Paris

Bundeskanzler **Olaf Scholz** ist am Freitag zu seinem *ersten* Auslandsbesuch
nach [Paris](https://de.wikipedia.org/wiki/Paris) gereist. ![Foto: Scholz und Macron](bild.jpg)

## Treffen mit Macron

- Gespräch über die Lage an der Grenze zur Ukraine
- Gespräch über Hilfen für Bürger*innen und *kleine* Betriebe, etwa 120.000

> „Wir stehen fest zusammen“, sagte Scholz um 21:30 Uhr.

```
Pressekonferenz: 16_00_Uhr
```
Der 2\\. Besuch ist für _Januar_ geplant.
"""


def test_markdown_with_front_matter_loses_its_syntax_and_keeps_its_text(tmp_path):
    article = _read_one(_write(tmp_path, "scholz.md", MARKDOWN_FRONT_MATTER))
    assert (article.id, article.title, article.date) == (
        "scholz.md", "Scholz reist zu seinem ersten Auslandsbesuch nach Paris", "2021-12-10")
    assert (article.url, article.source) == ("https://www.example.de/politik/scholz-paris", "Beispiel-Zeitung")
    assert article.text.split("\n\n") == [
        "Bundeskanzler Olaf Scholz ist am Freitag zu seinem ersten Auslandsbesuch nach Paris gereist.",
        "Treffen mit Macron",
        "Gespräch über die Lage an der Grenze zur Ukraine",
        "Gespräch über Hilfen für Bürger*innen und kleine Betriebe, etwa 120.000",
        "„Wir stehen fest zusammen“, sagte Scholz um 21:30 Uhr.",
        "Pressekonferenz: 16_00_Uhr",
        "Der 2. Besuch ist für Januar geplant.",
    ]


def test_markdown_with_a_date_line_takes_its_heading_as_title(tmp_path):
    data = ("date 2021-12\n\n# Große Koalition verhandelt weiter\n\nDie Gespräche über den Haushalt "
            "dauerten bis 21:30 Uhr. Es geht um 120.000 Stellen.\n")
    article = _read_one(_write(tmp_path, "KOALITION.MARKDOWN", data))
    assert (article.title, article.date, article.url, article.source) == (
        "Große Koalition verhandelt weiter", "2021-12", "", "")
    assert article.text == "Die Gespräche über den Haushalt dauerten bis 21:30 Uhr. Es geht um 120.000 Stellen."


@pytest.mark.parametrize("data, reason", [
    ("# Überschrift\n\nText ohne Datum.", "no date: start the file with a line 'date YYYY-MM-DD', or with a "
                                          "front matter block ('---', 'title: …', 'date: YYYY-MM-DD', '---')"),
    ("---\ntitle: Ohne Datum\n---\nText.", "the front matter has no 'date:' line; add one, e.g. 'date: 2021-12-07'"),
    ("---\ndate: 2021-12-07\nText.", "the front matter that starts with '---' on line 1 is never closed; end it "
                                     "with another '---' line"),
    ("---\ndate: 7. Dezember\n---\nText.", "the date '7. Dezember' is not a date; write it as YYYY-MM-DD "
                                           "(YYYY-MM, DD.MM.YYYY and ISO date-times are read too)"),
    ("date 2021-12-07\n\n# Nur eine Überschrift\n", "the article has a date but no text"),
])
def test_markdown_without_a_usable_date_or_text_is_a_problem(tmp_path, data, reason):
    articles, problems = read_articles([_write(tmp_path, "notiz.md", data)])
    assert articles == [] and _reasons(problems) == [reason]


# --- JSON Lines --------------------------------------------------------------------------------------------

RECORDS = [
    {"title": "Biden droht mit Sanktionen", "date": "2021-12-07T21:30:00+01:00",
     "text": "Washington. US-Präsident Joe Biden hat Russland mit „harten Sanktionen“ gedroht.\n\n"
             "Russland hat   mehr als 120.000 Soldaten an der Grenze zusammengezogen.",
     "url": "https://www.example.de/biden-sanktionen", "source": "Beispiel-Zeitung"},
    {"title": "Scholz im Bundestag", "date": "08.12.2021", "text": "Olaf Scholz ist zum Bundeskanzler gewählt.",
     "url": "https://www.example.de/scholz-kanzler", "source": "Beispiel-Zeitung"},
    {"date": "2021-12", "text": "Die Straßenbahn fährt wieder. Ab Montag gilt der neue Fahrplan.",
     "url": "https://www.lokal.de/strassenbahn", "source": "Lokalblatt"},
]


def _jsonl(*lines: dict | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
                   for line in lines)


def test_a_jsonl_file_gives_one_article_per_record_and_a_problem_per_broken_line(tmp_path):
    data = _jsonl(RECORDS[0],
                  '{"title": "Kaputt", "date": "2021-12-07" "text": "fehlt ein Komma"}',
                  RECORDS[1],
                  {"title": "Ohne Text", "date": "2021-12-07", "url": "https://www.example.de/leer"},
                  "",
                  {"title": "Falsches Datum", "date": "7. Dezember 2021", "text": "Ein Satz."},
                  RECORDS[2],
                  '["keine", "Zeile", "als", "Objekt"]')
    articles, problems = read_articles([_write(tmp_path, "archiv.jsonl", data)])

    assert [(a.title, a.date, a.url, a.source) for a in articles] == [
        ("Biden droht mit Sanktionen", "2021-12-07", "https://www.example.de/biden-sanktionen", "Beispiel-Zeitung"),
        ("Scholz im Bundestag", "2021-12-08", "https://www.example.de/scholz-kanzler", "Beispiel-Zeitung"),
        ("Die Straßenbahn fährt wieder.", "2021-12", "https://www.lokal.de/strassenbahn", "Lokalblatt"),
    ]
    assert articles[0].text == ("Washington. US-Präsident Joe Biden hat Russland mit „harten Sanktionen“ gedroht."
                                "\n\nRussland hat mehr als 120.000 Soldaten an der Grenze zusammengezogen.")
    key = hashlib.sha1(b"https://www.example.de/biden-sanktionen").hexdigest()[:10]
    assert articles[0].id == f"archiv.jsonl:{key}"
    assert all(a.path.name == "archiv.jsonl" and belongs_to(a.id, "archiv.jsonl") for a in articles)
    assert [str(p) for p in problems] == [f"{tmp_path / 'archiv.jsonl'}: {reason}" for reason in [
        "line 2: not valid JSON (Expecting ',' delimiter, column 42); each line must be one "
        '{"title": …, "date": …, "text": …} object',
        "line 4: the record has no text; give it a 'text' field",
        "line 6: the date '7. Dezember 2021' is not a date; write it as YYYY-MM-DD (YYYY-MM, DD.MM.YYYY and "
        "ISO date-times are read too)",
        'line 8: not a JSON object; each line must be one {"title": …, "date": …, "text": …} object',
    ]]


def test_record_ids_stay_when_rows_are_inserted_or_reordered(tmp_path):
    path = _write(tmp_path, "archiv.jsonl", _jsonl(*RECORDS))
    before = {a.title: a.id for a in read_articles([path])[0]}
    new = {"title": "Neue Meldung", "date": "2021-12-09", "text": "Eine neue Meldung über Köln."}
    _write(tmp_path, "archiv.jsonl", _jsonl(new, RECORDS[2], RECORDS[0], RECORDS[1]))
    after = {a.title: a.id for a in read_articles([path])[0]}
    assert {title: after[title] for title in before} == before
    assert after["Neue Meldung"] not in before.values()


def test_records_without_an_address_are_told_apart_by_title_date_and_a_counter(tmp_path):
    twice = {"title": "Eilmeldung", "date": "2021-12-07", "text": "Der Bundestag tagt um 21:30 Uhr."}
    other_day = {**twice, "date": "2021-12-08"}
    articles, problems = read_articles([_write(tmp_path, "eil.jsonl", _jsonl(twice, other_day, twice))])
    key = hashlib.sha1(b"Eilmeldung|2021-12-07").hexdigest()[:10]
    assert problems == [] and articles[0].id == f"eil.jsonl:{key}" and articles[2].id == f"eil.jsonl:{key}-2"
    assert len({a.id for a in articles}) == 3
    assert belongs_to(articles[2].id, "eil.jsonl")


def test_an_edited_record_changes_only_its_own_hash(tmp_path):
    path = _write(tmp_path, "archiv.jsonl", _jsonl(*RECORDS))
    before = read_articles([path])[0]
    edited = {**RECORDS[1], "text": RECORDS[1]["text"] + " Er erhielt 395 Stimmen."}
    _write(tmp_path, "archiv.jsonl", _jsonl(RECORDS[0], edited, RECORDS[2]))
    after = read_articles([path])[0]
    assert [a.id for a in after] == [a.id for a in before]
    assert [a.sha256 == b.sha256 for a, b in zip(after, before)] == [True, False, True]


def test_a_record_field_that_is_not_text_is_named(tmp_path):
    record = {"title": "Zahl", "date": 2021, "text": "Ein Satz."}
    articles, problems = read_articles([_write(tmp_path, "zahlen.jsonl", _jsonl(record))])
    assert articles == [] and _reasons(problems) == ["line 1: the 'date' field is 2021, not text; put it in quotes"]


# --- CSV ---------------------------------------------------------------------------------------------------

CSV_SEMICOLONS = (
    "\ufefftitle;date;text;url;source\r\n"
    'Biden droht mit Sanktionen;07.12.2021;"Washington. Biden sagte: ""Wir sind bereit; '
    'jederzeit.""\r\n\r\nRussland hat mehr als 120.000 Soldaten zusammengezogen.";'
    "https://www.example.de/biden-sanktionen;Beispiel-Zeitung\r\n"
    "Kaputte Zeile;2021-12-07;Ein Satz; mit Semikolon;https://www.example.de/kaputt;Beispiel-Zeitung\r\n"
    ";;;;\r\n"
    ";2021-12-08T08:00:00Z;Die Straßenbahn fährt wieder. Ab Montag gilt der neue Fahrplan.;;Lokalblatt\r\n"
)


def test_a_csv_file_with_semicolons_and_a_multiline_field_gives_one_article_per_row(tmp_path):
    articles, problems = read_articles([_write(tmp_path, "export.csv", CSV_SEMICOLONS)])
    assert [(a.title, a.date, a.url, a.source) for a in articles] == [
        ("Biden droht mit Sanktionen", "2021-12-07", "https://www.example.de/biden-sanktionen", "Beispiel-Zeitung"),
        ("Die Straßenbahn fährt wieder.", "2021-12-08", "", "Lokalblatt"),
    ]
    assert articles[0].text == ('Washington. Biden sagte: "Wir sind bereit; jederzeit."\n\n'
                                "Russland hat mehr als 120.000 Soldaten zusammengezogen.")
    assert _reasons(problems) == ["row 3: 6 fields where the header has 5; put quotes around a field that "
                                  "holds a ';'"]


def test_a_csv_file_with_commas_and_capitalised_columns_is_read(tmp_path):
    data = 'Date,Title,Text\n2021-12-07,Gipfel,"Putin und Biden sprachen, wie geplant, um 16 Uhr."\n'
    article = _read_one(_write(tmp_path, "gipfel.CSV", data))
    assert (article.title, article.date, article.text) == (
        "Gipfel", "2021-12-07", "Putin und Biden sprachen, wie geplant, um 16 Uhr.")


@pytest.mark.parametrize("data, reason", [
    ("title;datum;text\nA;2021-12-07;B\n", "the header row (title;datum;text) has no 'date' column; the first row "
                                           "must name the columns title, date, text (and url, source if known)"),
    ("title;date;text\nA;2021-12-07;Gr\u00fc\u00dfe\nB;2021-12-08;Stra\u00dfe\n".encode("cp1252"),
     "line 2 is not UTF-8 text (byte 0xfc); save the file as UTF-8 (in Excel: 'CSV UTF-8')"),
    ("\n".encode("utf-16"), "a UTF-16 or UTF-32 file; save .jsonl and .csv files as UTF-8"),
    ("   \n", "the file is empty"),
])
def test_a_csv_file_that_cannot_be_read_is_one_problem(tmp_path, data, reason):
    articles, problems = read_articles([_write(tmp_path, "export.csv", data)])
    assert articles == [] and _reasons(problems) == [reason]


def test_a_records_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(qa.formats, "MAX_RECORDS_BYTES", 100)
    articles, problems = read_articles([_write(tmp_path, "gross.jsonl", _jsonl(*RECORDS))])
    size = (tmp_path / "gross.jsonl").stat().st_size
    assert articles == [] and _reasons(problems) == [f"the file has {size:,} bytes; files of records over 100 "
                                                     "bytes are refused"]


# --- finding files -----------------------------------------------------------------------------------------

def test_a_folder_gives_every_supported_format_and_leaves_other_files_out(tmp_path):
    _write(tmp_path, "a.txt", " date 2021-12 Überschrift\n\nEin Satz über 120.000 Soldaten.")
    _write(tmp_path, "b.md", "date 2021-12-07\n\nEin Satz über die Straße.")
    _write(tmp_path, "c.html", _page())
    _write(tmp_path, "d.jsonl", _jsonl(*RECORDS))
    _write(tmp_path, "e.csv", CSV_SEMICOLONS)
    _write(tmp_path, "f.docx", "not an article format")
    _write(tmp_path, "g.json", "{}")
    assert [p.name for p in find_article_files([tmp_path])] == ["a.txt", "b.md", "c.html", "d.jsonl", "e.csv"]
    articles, problems = read_articles([tmp_path])
    assert [a.path.name for a in articles] == ["a.txt", "b.md", "c.html"] + ["d.jsonl"] * 3 + ["e.csv"] * 2
    assert [p.path.name for p in problems] == ["e.csv"]


def test_a_file_of_another_type_named_on_its_own_is_a_problem(tmp_path):
    articles, problems = read_articles([_write(tmp_path, "bericht.docx", "Text")])
    assert articles == []
    assert _reasons(problems) == ["unsupported file type .docx; articles are one of .txt, .md, .html, .jsonl, .csv"]


def test_supported_suffixes_and_belongs_to():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".csv")
    assert belongs_to("a.txt", "a.txt") and belongs_to("archiv.jsonl:0123456789", "archiv.jsonl")
    assert belongs_to("archiv.jsonl:0123456789-2", "archiv.jsonl")
    assert not belongs_to("archiv.jsonl:0123456789", "archiv.json")
    assert not belongs_to("archiv.jsonl.txt", "archiv.jsonl")
    assert not belongs_to("archiv.jsonl:notes.txt", "archiv.jsonl")  # a file may have a colon in its name


def test_a_csv_row_with_too_few_fields_is_told_to_give_one_per_column(tmp_path):
    data = "title;date;text;url\nFähre fällt aus;2024-05-02\nStraßenbau;2024-05-03;Die Straße bleibt gesperrt.;\n"
    articles, problems = read_articles([_write(tmp_path, "export.csv", data)])
    assert [a.title for a in articles] == ["Straßenbau"]
    assert _reasons(problems) == ["row 2: 2 fields where the header has 4; give every row one field per column, "
                                  "an empty one as nothing between two ';'"]
