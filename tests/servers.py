"""Real server processes for the tests and benchmarks: started on a free loopback port, stopped afterwards.

- `running()`: any command, ready once a URL answers 200 (the UI fixture, bench/run.py);
- `llama_server()`: llama-cpp-python's own OpenAI-compatible server
  (`python -m llama_cpp.server`) serving the packaged SmolLM2 GGUF.
- `rag_api_server()`: `rag serve --api` over a given index and collection.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # seconds: CI machines are shared, loading is slow there


class ServerStartError(RuntimeError):
    """The server exited or never answered; the message ends with its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(config: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without RAG_* settings, offline, with an empty config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_CONFIG=str(config),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra,
    )
    return env


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:<port>
    port: int
    log: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        """The OpenAI-compatible API root."""
        return f"{self.base}/v1"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def start_app(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python app.py ARGS` run to its end under an empty config: for start-up failures."""
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        cwd=tmp_path,
        env=clean_env(config, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a run that failed as a user error (exit 2, no traceback)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@contextmanager
def running(cmd: list[str], env: dict[str, str], cwd: Path, port: int, ready_path: str, log: Path,
            name: str, headers: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `cmd`, wait until GET ready_path answers 200, yield, then stop it (terminate, then kill)."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, log, proc)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise ServerStartError(f"{name} exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                ready = urllib.request.Request(f"{server.base}{ready_path}", headers=headers or {})
                with urllib.request.urlopen(ready, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"{name} did not answer within {START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def llama_server(root: Path, api_key: str | None = None) -> Iterator[Server]:
    """`python -m llama_cpp.server` with the packaged SmolLM2 GGUF, one thread, on loopback.

    With `api_key`, the server refuses requests without `Authorization: Bearer <api_key>`.
    """
    from rag.answer.generation.llama import resolve_model

    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(resolve_model("smollm2")),
        "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048",
        # one thread: on a CI machine shared with other jobs, spinning threads slow generation down a lot
        "--n_threads", "1", "--n_threads_batch", "1",
    ]
    headers = {}
    if api_key:
        cmd += ["--api_key", api_key]
        headers["Authorization"] = f"Bearer {api_key}"
    with running(cmd, clean_env(root / "none.toml"), root, port, "/v1/models", root / "llama-server.log",
                 "llama_cpp.server", headers) as server:
        yield server


@contextmanager
def rag_api_server(root: Path, index_dir: Path, collection: Path, *extra_args: str, with_ui: bool = False,
                   **env: str) -> Iterator[Server]:
    """`rag serve --api` as a real subprocess over `index_dir`, with an empty config file;
    with `with_ui`, `python app.py --with-api`: the web UI at / and the API under /v1."""
    config = root / "empty.toml"
    config.write_text("", encoding="utf-8")
    port = free_port()
    full_env = clean_env(
        config, RAG_INDEX_DIR=str(index_dir), RAG_COLLECTION=str(collection), RAG_N_THREADS="1",
        GRADIO_TEMP_DIR=str(root / "gradio-tmp"), **env
    )
    if with_ui:
        cmd, name = [sys.executable, str(ROOT / "app.py"), "--with-api"], "app.py --with-api"
    else:
        cmd, name = [sys.executable, "-m", "rag.serve.cli", "serve", "--api"], "rag serve --api"
    cmd += ["--port", str(port), *extra_args]
    with running(cmd, full_env, root, port, "/healthz", root / "api-server.log", name) as server:
        yield server


__all__ = ["ROOT", "Server", "ServerStartError", "clean_env", "free_port", "llama_server", "rag_api_server", "running"]
