"""A real PostgreSQL server for the tests, started and stopped by the tests themselves.

The server binaries are Debian's (``apt-get install postgresql``; ``.ci/run`` and
``make test`` install them on a fresh machine): docs/bi.md says why not a wheel.
``postgres_server`` (session scope) runs ``initdb`` on a temporary folder and starts
``postgres`` on a free port of 127.0.0.1 (no Unix socket, ``trust`` authentication on
loopback, fsync off: a throw-away cluster); ``postgres_url`` gives each test its own
empty database on it.  As root (CI), the server runs as the ``postgres`` user the
Debian package creates, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "csp_admin"


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``postgres``: PG_BINDIR, else Debian's newest
    /usr/lib/postgresql/<major>/bin, else the PATH."""
    if configured := os.environ.get("PG_BINDIR"):
        return Path(configured)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if debian:
        return Path(debian[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install Debian's postgresql package"
        " (apt-get install postgresql; .ci/run does) or set PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    process: subprocess.Popen
    folder: Path
    port: int

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown, by our own PID
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    bindir = postgres_bindir()
    folder = Path(tempfile.mkdtemp(prefix="csp-postgres-"))
    data = folder / "data"
    run_as: dict = {}
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    subprocess.run(
        [bindir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "--no-sync"],
        check=True,
        capture_output=True,
        cwd=folder,
        **run_as,
    )
    port = free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - the server's own log
    process = subprocess.Popen(
        [bindir / "postgres", "-D", data, "-p", str(port), "-c", "listen_addresses=127.0.0.1"]
        + ["-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "max_connections=40"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
        start_new_session=True,
        **run_as,
    )
    log.close()
    server = PostgresServer(process, folder, port)
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(server.url(), connect_timeout=2).close()
            return server
        if process.poll() is not None or time.monotonic() > deadline:
            text = (folder / "server.log").read_text(errors="replace")
            server.stop()
            raise RuntimeError(f"PostgreSQL did not start on port {port}:\n{text}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new empty database on the session's server, owned by the superuser."""
    name = f"csp_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"create database {name}")
    return postgres_server.url(name)
