"""The data stages: ingest, dedupe, export, report, validate, and run (all of them in order)."""
