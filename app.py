"""The web UI: `python app.py [--host H] [--port P] [--auth USER:PASSWORD] [--with-api]`, on 127.0.0.1:7860.

A thin entry point; the UI lives in rag/serve/webui.py (`rag serve` runs the same
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
    parser.add_argument("--with-api", action="store_true", help="also serve the HTTP API (OpenAI-compatible) under /v1")
    parser.add_argument("--api-key-env", metavar="NAME", help="with --with-api: the API requires the key in this variable")
    args = parser.parse_args(argv)

    from rag.core.openmp import choose_wait_policy

    choose_wait_policy()  # as `rag serve` does, before llama.cpp or FAISS loads (rag/core/openmp.py)
    from rag.core.errors import ConfigError
    from rag.core.settings import load_settings
    from rag.serve.webui import serve

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.api_key_env and not args.with_api:
        print("error: --api-key-env is for the API: add --with-api", file=sys.stderr)
        return 2
    return serve(settings, host=args.host, port=args.port, auth=args.auth, with_api=args.with_api,
                 api_key_env=args.api_key_env)


if __name__ == "__main__":
    sys.exit(main())
