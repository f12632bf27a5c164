"""Registered source locations: paths, file:// URLs and http(s) downloads into the data folder."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mfactory.errors import ImportFormatError
from mfactory.locations import local_copy


@pytest.fixture
def web_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server publishing ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_is_downloaded_under_its_own_name(web_folder: tuple[str, Path]) -> None:
    base, root = web_folder
    (root / "inventory export.csv").write_text("asset_name\nvm1\n", encoding="utf-8")
    copy = local_copy(f"{base}/inventory%20export.csv")
    assert copy.name == "inventory export.csv"
    assert copy.read_text(encoding="utf-8") == "asset_name\nvm1\n"


def test_a_missing_url_or_file_is_a_clear_error(web_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = web_folder
    with pytest.raises(ImportFormatError, match="404"):
        local_copy(f"{base}/nope.csv")
    with pytest.raises(ImportFormatError, match="does not exist"):
        local_copy(str(tmp_path / "nope.csv"))


def test_paths_and_file_urls_are_read_in_place(tmp_path: Path) -> None:
    export = tmp_path / "in place.csv"
    export.write_text("asset_name\n", encoding="utf-8")
    assert local_copy(str(export)) == export
    assert local_copy(export.as_uri()) == export
