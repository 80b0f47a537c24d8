"""``python -m evals`` is ``qa-service eval``."""

from evals.cli import eval_app

eval_app(prog_name="python -m evals")
