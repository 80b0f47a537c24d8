"""Evaluation suite: datasets as data, small deterministic evaluators, a harness that gates CI."""
