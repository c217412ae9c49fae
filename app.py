"""The web UI: `python app.py [--host H] [--port P] [--auth USER:PASSWORD]`, on 127.0.0.1:7860 by default.

A thin entry point; the UI lives in rag/webui.py (`rag serve` runs the same
code). Settings come from the usual layers (config file, RAG_* environment).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require this login")
    args = parser.parse_args(argv)

    from rag.openmp import choose_wait_policy

    choose_wait_policy()  # as `rag serve` does, before llama.cpp or FAISS loads (rag/openmp.py)
    from rag.config import ConfigError, load_settings
    from rag.webui import serve

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return serve(settings, host=args.host, port=args.port, auth=args.auth)


if __name__ == "__main__":
    sys.exit(main())
