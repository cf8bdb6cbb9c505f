"""Real Redis and PostgreSQL servers for the fleet tests, on free loopback ports in temp dirs.

Each server is a child process of the test session: Redis with persistence off,
PostgreSQL initialised with ``initdb`` (as the ``postgres`` user when the tests
run as root, because PostgreSQL refuses to run as root) with fsync off and a
small buffer pool, so both stay light on a shared machine. ``stop()`` and
``start()`` again on the same port are how the fault tests kill and restore them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresServer", "RedisServer", "find_postgres_bin", "find_redis", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_redis() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )


def find_postgres_bin() -> str | None:
    """The folder holding initdb and pg_ctl (Debian keeps them off PATH)."""
    initdb = shutil.which("initdb")
    if initdb:
        return str(Path(initdb).parent)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(found[-1]).parent) if found else None


def _wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tierrouter-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--maxmemory", "64mb", "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_port(self.port, 10, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # a crash, not a clean shutdown: what the fault tests mean
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """One cluster in a temp dir; ``database()`` makes a fresh database per test."""

    def __init__(self, bindir: str, *, fsync: bool = False) -> None:
        self.bindir = bindir
        self.fsync = fsync  # the benchmark can measure with the production default too
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tierrouter-pg-")
        self.data = os.path.join(self.dir, "data")
        self._user: str | None = "postgres" if os.geteuid() == 0 else None
        self._databases = 0
        if self._user is not None:
            shutil.chown(self.dir, self._user)
            os.chmod(self.dir, 0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if self._user is not None:
            cmd = ["setpriv", f"--reuid={self._user}", f"--regid={self._user}",
                   "--init-groups", *cmd]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, check=check, cwd=self.dir, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://tierrouter@127.0.0.1:{self.port}/{database}"

    def init(self) -> PostgresServer:
        self._run("initdb", "-D", self.data, "-U", "tierrouter", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        return self

    def start(self) -> PostgresServer:
        # fsync off: a killed server still has every commit in the OS cache. Commits
        # stay synchronous, or a kill would lose the last ones the tests count.
        disk = "on" if self.fsync else "off"
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync={disk} "
            f"-c full_page_writes={disk} -c shared_buffers=16MB "
            "-c max_connections=60 -c max_wal_size=64MB"
        )
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l",
                  os.path.join(self.dir, "log"), "-w", "start")  # fmt: skip
        _wait_port(self.port, 20)
        return self

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def stop(self) -> None:
        # Immediate: connections are cut as in a crash or a network loss.
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def database(self) -> str:
        import psycopg

        self._databases += 1
        name = f"t{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        pid_file = os.path.join(self.data, "postmaster.pid")
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(Path(pid_file).read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
