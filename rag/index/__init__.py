"""The index on disk and its searches: embeddings, FAISS index types, BM25 terms, vector stores."""
