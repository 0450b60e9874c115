"""GX Data Docs over http (issue 17): the server ``make dev`` starts, and the links to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from expectations.runner import data_docs_dir
from orchestration.data_docs import docs_url

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def test_docs_urls_are_http_addresses_inside_the_docs_folder(tmp_path: Path) -> None:
    page = data_docs_dir(tmp_path / "warehouse.duckdb") / "validations" / "feed x" / "a.html"
    assert docs_url(page, port=3001) == "http://127.0.0.1:3001/validations/feed%20x/a.html"
    assert docs_url(page.as_uri(), port=4000) == "http://127.0.0.1:4000/validations/feed%20x/a.html"
    assert docs_url(tmp_path / "elsewhere.html", port=3001) == str(tmp_path / "elsewhere.html")


def test_make_dev_serves_the_data_docs_over_http(tmp_path: Path) -> None:
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    folder = data_docs_dir(warehouse)
    (folder / "validations").mkdir(parents=True)
    (folder / "index.html").write_text("<html><body>CSP data docs index</body></html>")
    (folder / "validations" / "v1.html").write_text("<p>validation one</p>")
    port = _free_port()
    env = {
        **os.environ,
        "CSP_WAREHOUSE": str(warehouse),
        "CSP_DATA_DOCS_PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    # as the Makefile's dev target starts it, in its own session, stopped by its pid
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.data_docs"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_default_signals,
    )
    try:
        deadline, body = time.monotonic() + 20, None
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    body = answer.read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert body is not None and "CSP data docs index" in body
        link = docs_url(folder / "validations" / "v1.html", port=port)
        with urllib.request.urlopen(link, timeout=5) as answer:
            assert answer.status == 200 and "validation one" in answer.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing.html", timeout=5)
        assert missing.value.code == 404
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    assert server.returncode is not None
