"""Answering: rank evidence, answer (extractive or generative), verify, refuse."""
