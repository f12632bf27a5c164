"""Turn a registered source location (path, file:// or http(s) URL) into a local file to read."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from mfactory.errors import ImportFormatError
from mfactory.settings import get_settings


def local_copy(location: str, *, timeout: float = 60.0) -> Path:
    """A readable local path for ``location``; URLs are downloaded into the data folder.

    Downloads keep the URL's file name (readers detect formats by content, but the name is what
    users see in reports) under a folder named by the URL's hash, so two sources never collide.
    """
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        name = Path(unquote(parsed.path)).name or "download"
        target = get_settings().home / "sources" / hashlib.sha256(location.encode()).hexdigest()[:16] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with httpx.stream("GET", location, timeout=timeout, follow_redirects=True) as response:
                response.raise_for_status()
                with target.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise ImportFormatError(f"cannot download source: {exc}", file=location) from exc
        return target
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(location)
    if not path.is_file():
        raise ImportFormatError("source file does not exist", file=location)
    return path
