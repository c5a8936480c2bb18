"""Write a set of distractor articles for ``qa eval --distractors FOLDER``: real German prose about other things.

The 24 XQuAD dev articles as they are, and ``--wiki`` articles made of their paragraphs (some two to five each,
years shifted and other numbers changed, under a news date; ``bench/scale.py`` makes its corpus the same way).
None is about the seeds' subject (Russia, Ukraine and the United States in December 2021), so an answer to a
seed question that cites one of them cites an unrelated article. Not written: the seed paragraphs with varied
names and numbers that ``bench/bench.py`` generates: those are contradicting copies of the seeds, not unrelated
articles, and a question about the seeds cannot tell which copy it means.

    python eval/distractors.py /tmp/distractors --wiki 1000
    qa eval --distractors /tmp/distractors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval import xquad  # noqa: E402
from scale import wiki_corpus  # noqa: E402  (bench/scale.py)


def write(folder: Path, wiki: int, seed: int = 1) -> int:
    """The distractor articles in ``folder``; how many files it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    articles, _ = xquad.load()
    for article in articles:
        (folder / article.file_name).write_text(article.text(), encoding="utf-8")
    if wiki:
        wiki_corpus(folder, wiki, seed)
    return len(list(folder.glob("*.txt")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--wiki", type=int, default=1000, help="articles made of XQuAD paragraphs (default 1000)")
    args = parser.parse_args()
    print(f"{write(args.folder, args.wiki)} articles in {args.folder}")


if __name__ == "__main__":
    main()
