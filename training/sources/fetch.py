"""Download a fetchable public set from its origin and check every file's sha256.

Only bytes are written: nothing downloaded is imported, unpickled or executed, and
a ``gunzip`` file is decompressed with :mod:`gzip` into a size-capped buffer. Each
file goes to ``<folder>.partial/`` first and the folder is renamed into place only
when every file matched its sha256, so a failed or interrupted fetch never leaves a
set that looks present.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

from training.sources.origins import DataFile, DataSet

__all__ = ["FetchError", "fetch_set"]

_CHUNK = 1 << 16
_ALLOWED = ("https://", "http://")


class FetchError(RuntimeError):
    """A download failed or did not match the recorded sha256; nothing was installed."""


def _download(url: str, limit: int, timeout: float) -> bytes:
    if not url.startswith(_ALLOWED):
        raise FetchError(f"{url}: only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "tierrouter-datasets"})
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while block := response.read(_CHUNK):
                size += len(block)
                if size > limit:
                    raise FetchError(f"{url}: larger than the {limit} bytes expected")
                chunks.append(block)
    except OSError as exc:  # URLError, HTTPError and timeouts are all OSErrors
        raise FetchError(f"{url}: {exc}") from exc
    return b"".join(chunks)


def _content(f: DataFile, timeout: float) -> bytes:
    assert f.url is not None
    # The cap only stops a runaway body; gzip of a tiny file can exceed its content.
    raw = _download(f.url, f.size + 65536, timeout)
    if not f.gunzip:
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            data = stream.read(f.size + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FetchError(f"{f.url}: not a valid gzip file ({exc})") from exc
    if len(data) > f.size:
        raise FetchError(f"{f.url}: decompresses to more than the {f.size} bytes expected")
    return data


def fetch_set(
    dataset: DataSet,
    root: Path,
    *,
    timeout: float = 60.0,
    progress: Callable[[str], None] = lambda _: None,
) -> Path:
    """Download ``dataset`` into ``root/<folder>``; returns the folder.

    Raises :class:`FetchError` naming the file when a download fails or a sha256
    differs; an existing folder is replaced only after every file checked out.
    """
    if not dataset.fetchable:
        raise FetchError(
            f"{dataset.folder}: derived from {dataset.origin} by a conversion this project "
            "does not publish; it cannot be downloaded, only copied from a checkout of the "
            "project's shared datasets"
        )
    root.mkdir(parents=True, exist_ok=True)
    final = root / dataset.folder
    partial = root / f"{dataset.folder}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        for number, f in enumerate(dataset.files, start=1):
            progress(f"{dataset.folder}: {number}/{len(dataset.files)} {f.name}")
            data = _content(f, timeout)
            digest = hashlib.sha256(data).hexdigest()
            if digest != f.sha256:
                raise FetchError(
                    f"{dataset.folder}/{f.name}: sha256 {digest} differs from the recorded "
                    f"{f.sha256} ({f.url}); nothing installed"
                )
            target = partial / f.name
            if partial.resolve() not in target.resolve().parents:
                raise FetchError(f"{dataset.folder}: file name {f.name!r} leaves its folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final
