"""GX Data Docs over http: a static server for the Data Docs folder, and the links to it.

A browser will not open a ``file://`` link from the Dagster UI page, so ``make dev`` also
starts ``python -m orchestration.data_docs``: Python's ``http.server`` serving
``gx_data_docs/`` (next to the warehouse file, ``expectations.runner.data_docs_dir``) on
127.0.0.1, port ``CSP_DATA_DOCS_PORT`` (default 3001).  The checks' ``data_docs`` and
``data_docs_failed_validation`` metadata are ``http://127.0.0.1:<port>/...`` links to it
(``docs_link``), made from the file path GX gives; the path inside the folder is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import dagster as dg

from expectations.runner import DATA_DOCS_DIRNAME, data_docs_dir
from ingest.config import Settings

DEFAULT_PORT = 3001
HOST = "127.0.0.1"


def docs_port() -> int:
    return int(os.environ.get("CSP_DATA_DOCS_PORT") or DEFAULT_PORT)


def docs_url(target: Path | str, port: int | None = None) -> str:
    """The http:// address of a Data Docs page given as a path or a ``file://`` URL
    (``.../gx_data_docs/validations/x.html`` -> ``http://127.0.0.1:3001/validations/x.html``);
    anything outside a Data Docs folder is returned unchanged."""
    text = str(target)
    path = unquote(urlparse(text).path) if text.startswith("file://") else text
    parts = Path(path).parts
    if DATA_DOCS_DIRNAME not in parts:
        return text
    inside = parts[len(parts) - parts[::-1].index(DATA_DOCS_DIRNAME) :]
    return f"http://{HOST}:{port or docs_port()}/{quote('/'.join(inside))}"


def docs_link(target: Path | str) -> dg.MetadataValue:
    """Dagster metadata: a clickable http:// link to a Data Docs page."""
    return dg.MetadataValue.url(docs_url(target))


def make_server(folder: Path, port: int, host: str = HOST) -> http.server.ThreadingHTTPServer:
    """An http.server serving ``folder`` (created if missing, so it can start before the
    first run renders the Data Docs)."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the GX Data Docs on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=None, help="default CSP_DATA_DOCS_PORT")
    args = parser.parse_args(argv)
    folder = data_docs_dir(Settings.from_env().warehouse)
    port = args.port or docs_port()
    with make_server(folder, port) as server:
        print(f"GX Data Docs of {folder} on http://{HOST}:{port}/", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


if __name__ == "__main__":
    main()
