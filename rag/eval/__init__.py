"""Scoring against gold QA sets: gold files, metrics, evaluation runs, the `rag eval` session, reports."""
