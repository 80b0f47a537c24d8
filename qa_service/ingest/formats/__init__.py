"""One loader per file format; ``qa_service.ingest.loaders.FORMATS`` maps suffixes to them."""
