"""qa-service: grounded question answering over your own documents, with exact citations."""

__version__ = "0.1.0"
