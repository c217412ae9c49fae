"""The doors: the `rag` CLI, the web UI, the HTTP API, and what they share (start-up, chat turns)."""
