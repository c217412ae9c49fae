"""Files to sections to chunks: loading, boilerplate removal, sentences, chunking, `ingest()`."""
