"""Evaluation of the pipeline against hand-written German question–answer pairs."""
