"""LlamaIndex's default pipeline on the same models and collection (run by bench/run.py).

    bench/.venv-llamaindex/bin/python bench/llamaindex_baseline.py COLLECTION QUESTIONS.json [--chunk-size N]

Runs in its own venv (make bench-llamaindex-venv) so that LlamaIndex's
dependencies never enter the product's; that venv sees the product venv's
torch, sentence-transformers and llama-cpp-python through a .pth file, so
both sides run the very same builds. Models: the packaged MiniLM directory
(HuggingFaceEmbedding) and the packaged SmolLM2 GGUF (LlamaCPP), both by
path; nothing is downloaded (HF_HUB_OFFLINE=1; LlamaIndex ships its tiktoken
and NLTK data). Defaults otherwise: SimpleDirectoryReader, SentenceSplitter
(1024 tokens, overlap 200; or --chunk-size with overlap/4), in-memory
VectorStoreIndex, top-2 retrieval, the default "compact" response synthesis.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("collection", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--answers", type=int, default=8, help="questions answered with the LLM")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from rag.answer.generation.llama import resolve_model
    from rag.index.embedding import resolve_model_dir

    started = time.perf_counter()
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.llms.llama_cpp import LlamaCPP

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    Settings.embed_model = HuggingFaceEmbedding(
        model_name=str(resolve_model_dir("all-MiniLM-L6-v2")), device="cpu", embed_batch_size=64
    )
    Settings.llm = LlamaCPP(
        model_path=str(resolve_model("smollm2")),
        temperature=0.0,
        max_new_tokens=24,
        context_window=2048,
        model_kwargs={"n_threads": args.threads, "n_threads_batch": args.threads, "seed": 0},
        verbose=False,
    )
    if args.chunk_size:
        Settings.node_parser = SentenceSplitter(chunk_size=args.chunk_size, chunk_overlap=args.chunk_size // 4)
    models_s = time.perf_counter() - started

    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(args.collection)).load_data()
    index = VectorStoreIndex.from_documents(documents, show_progress=False)
    ingest_s = time.perf_counter() - started
    nodes = len(index.docstore.docs)

    questions = json.loads(args.questions.read_text())
    retriever = index.as_retriever()
    retriever.retrieve(questions[0])  # warm-up
    retrieve_ms = []
    for question in questions:
        t = time.perf_counter()
        retriever.retrieve(question)
        retrieve_ms.append((time.perf_counter() - t) * 1000)
    engine = index.as_query_engine()
    answer_ms, answers = [], []
    for question in questions[: args.answers]:
        t = time.perf_counter()
        answers.append(str(engine.query(question)).strip())
        answer_ms.append((time.perf_counter() - t) * 1000)
    import llama_index.core

    print(
        "RESULT "
        + json.dumps(
            {
                "llama_index_core": llama_index.core.__version__,
                "chunk_size": args.chunk_size or 1024,
                "import_s": import_s,
                "models_s": models_s,
                "documents": len(documents),
                "chunks": nodes,
                "ingest_s": ingest_s,
                "retrieve_p50_ms": statistics.median(retrieve_ms),
                "retrieve_p95_ms": sorted(retrieve_ms)[int(0.95 * (len(retrieve_ms) - 1))],
                "answer_p50_ms": statistics.median(answer_ms),
                "answers": answers,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
