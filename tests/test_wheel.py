"""The wheel, installed outside the checkout: it carries its prompts and calibration, and answers in both modes.

The wheel is built from a copy of the files its build reads (a build writes build/ and *.egg-info beside its
sources) and installed into a fresh venv in a temporary folder. That venv sees the checkout venv's installed
dependencies through a .pth file: a folder a .pth adds is no site folder, so the .pth files in it (the
checkout's editable install among them) are not run, and ``qa`` is the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BUILT_FROM = ["pyproject.toml", "README.md", "qa", "prompts"]
ARTICLES = {
    "brueckenbau.txt": " date 2022-03-15 Neue Fußgängerbrücke über den Main\n\nWürzburg. Der Stadtrat hat am "
                       "Dienstag den Bau einer Fußgängerbrücke über den Main beschlossen. „Die Brücke kostet "
                       "120.000 Euro“, sagte Oberbürgermeister Christian Schuchardt. Die Bauarbeiten sollen im "
                       "Herbst beginnen.\n",
    "stadtfest.txt": " date 2022-06-20 Stadtfest in Lübeck\n\nLübeck. Zum Stadtfest am Wochenende erwartet die "
                     "Stadt rund 80.000 Gäste. Auf dem Marktplatz spielen 25 Bands, sagte die Sprecherin der Stadt, "
                     "Anna Großmann. Die Straßen der Altstadt bleiben von Freitag bis Sonntag für Autos gesperrt.\n",
}
# One answer as JSON, from the installed package's public ``ask``.
ASK = """import json, sys, qa
a = qa.ask(sys.argv[1], mode=sys.argv[2])
print(json.dumps({"text": a.text, "abstained": a.abstained, "answerer": a.answerer,
                  "fallback": a.fallback_reason, "articles": [c.article for c in a.citations]}))
"""


@dataclass(frozen=True)
class Installed:
    bin: Path        # the fresh venv's scripts: python, qa
    site: Path       # its site-packages, where the wheel went
    cwd: Path        # an empty folder outside the checkout, where every command runs
    env: dict[str, str] = field(repr=False)

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout)


def _checked(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    """The wheel installed into a fresh venv, with the two articles ingested into an index of its own."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in BUILT_FROM:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    # --no-build-isolation and --no-index: the build uses the checkout venv's setuptools, nothing is downloaded.
    _checked(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
             "--no-cache-dir", "--disable-pip-version-check", "-w", tmp / "dist", source)
    (wheel,) = (tmp / "dist").glob("qa_news-*.whl")

    venv = tmp / "venv"
    _checked(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_checked(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (site / "checkout_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    _checked(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-cache-dir",
             "--disable-pip-version-check", wheel)

    cwd = tmp / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k != "PYTHONPATH"}
    env["QA_INDEX_DIR"] = str(tmp / "index")  # the model cache stays the default one
    setup = Installed(bin=venv / "bin", site=site, cwd=cwd, env=env)

    articles = tmp / "artikel"
    articles.mkdir()
    for name, text in ARTICLES.items():
        (articles / name).write_text(text, encoding="utf-8")
    done = setup.run(str(setup.bin / "qa"), "ingest", str(articles))
    assert done.returncode == 0 and "2 added" in done.stdout, done.stdout + done.stderr
    yield setup
    shutil.rmtree(tmp, ignore_errors=True)


def _ask(setup: Installed, question: str, mode: str) -> dict:
    done = setup.run(str(setup.bin / "python"), "-c", ASK, question, mode)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_installed_package_reads_nothing_from_the_checkout(installed):
    done = installed.run(str(installed.bin / "python"), "-c", "import qa, qa.prompts, qa.calibration; "
                         "print(qa.__file__, qa.prompts.PROMPTS_DIR, qa.calibration.DEFAULT_PATH, sep='\\n')")
    assert done.returncode == 0, done.stderr
    package, prompts, calibration = map(Path, done.stdout.split())
    assert package == installed.site / "qa" / "__init__.py"  # the wheel's, not the editable checkout's
    assert prompts == installed.site / "qa" / "prompt_files" and (prompts / "pick_system.txt").is_file()
    assert calibration == installed.site / "qa" / "calibration.json" and calibration.is_file()


def test_the_installed_qa_eval_and_ingest_without_a_folder_name_what_is_missing(installed):
    done = installed.run(str(installed.bin / "qa"), "eval", "--fast")
    assert done.returncode == 2 and done.stderr.startswith("error: qa eval needs a checkout of the repository")
    done = installed.run(str(installed.bin / "qa"), "ingest")  # no seeds/ beside an installed package
    assert done.returncode == 2 and "give a folder or a file of articles" in done.stderr, done.stderr


def test_the_installed_package_keeps_its_default_index_in_the_user_s_data_folder(installed, tmp_path):
    env = {k: v for k, v in installed.env.items() if k != "QA_INDEX_DIR"} | {"XDG_DATA_HOME": str(tmp_path)}
    where = subprocess.run([str(installed.bin / "python"), "-c", "from qa.config import Settings; "
                            "s = Settings.from_env(); print(s.index_dir, s.default_index)"],
                           cwd=installed.cwd, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.split() == [str(tmp_path / "qa-news" / "index"), "False"], where.stderr  # not site-packages
    done = subprocess.run([str(installed.bin / "qa"), "ask", "Wer baut die Brücke?"], cwd=installed.cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "holds no articles yet" in done.stderr, done.stderr  # no seeds/ to build it from
    assert not (installed.site / ".index").exists()


def test_the_installed_wheel_answers_in_fast_mode_with_a_citation(installed):
    answer = _ask(installed, "Wie viel kostet die Fußgängerbrücke über den Main?", "extractive")
    assert not answer["abstained"] and "120.000 Euro" in answer["text"] and "[1]" in answer["text"], answer
    assert answer["articles"][0] == "brueckenbau.txt", answer


@pytest.mark.llm
def test_the_installed_wheel_answers_in_llm_mode_with_a_citation(installed):
    answer = _ask(installed, "Wie viele Gäste erwartet Lübeck zum Stadtfest?", "llm")
    assert answer["answerer"] == "llm" and not answer["abstained"] and "[1]" in answer["text"], answer
    assert answer["articles"][0] == "stadtfest.txt", answer
