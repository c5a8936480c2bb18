"""``python -m eval``: the same as ``qa eval`` (which runs it), and as ``python eval/run.py``."""

from eval.run import cli

cli()
