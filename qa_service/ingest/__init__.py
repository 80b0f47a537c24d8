"""Ingestion: load -> clean -> chunk -> embed -> store."""
