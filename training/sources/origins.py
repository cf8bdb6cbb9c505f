"""The public datasets the trainer knows: where each came from, its files and their sha256.

``origins.json`` lists, per folder of the shared layout, the origin repository and
commit, and every file with its size and sha256 as the model card's numbers were
made from. A set is *fetchable* when its files are byte-for-byte copies of files at
that commit (checked when the list was written), so ``tierrouter datasets fetch``
can download them from the origin and check them. The other sets were derived from
their origin by conversions this project does not publish (joins, de-duplication,
removal of GSM8K/MMLU overlap); they are listed with their hashes so ``verify`` can
check a copy, but cannot be fetched.

Licence and use come from :data:`training.sources.SOURCES`, the one place the
licence rule lives; a companion folder (the AlpacaEval outcome matrix) takes its
set's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DataFile",
    "DataSet",
    "SetState",
    "load_manifest",
    "state",
    "verify",
]

MANIFEST = Path(__file__).with_name("origins.json")


@dataclass(frozen=True)
class DataFile:
    name: str  # path inside the set's folder, "/"-separated
    size: int
    sha256: str
    url: str | None = None
    gunzip: bool = False  # the origin serves it gzip-compressed; the sha256 is of the content


@dataclass(frozen=True)
class DataSet:
    folder: str
    origin: str
    commit: str | None
    fetchable: bool
    files: tuple[DataFile, ...]
    use: str
    licence: str
    loaders: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def load_manifest(path: Path = MANIFEST) -> dict[str, DataSet]:
    from training.sources import SOURCES

    raw = json.loads(path.read_text(encoding="utf-8"))
    by_folder: dict[str, list[Any]] = {}
    for spec in SOURCES.values():
        by_folder.setdefault(spec.folder, []).append(spec)
        for companion in spec.companions:
            by_folder.setdefault(companion, []).append(spec)
    out: dict[str, DataSet] = {}
    for folder, entry in raw.items():
        specs = by_folder.get(folder, [])
        out[folder] = DataSet(
            folder=folder,
            origin=entry["origin"],
            commit=entry.get("commit"),
            fetchable=bool(entry["fetch"]),
            files=tuple(DataFile(**f) for f in entry["files"]),
            use="/".join(sorted({s.use for s in specs})) or "none",
            licence="; ".join(sorted({s.licence for s in specs})) or "unknown",
            loaders=tuple(s.name for s in specs),
        )
    return out


@dataclass(frozen=True)
class SetState:
    """``present`` (every file, right size), ``incomplete``, ``missing``; after a hash
    check also ``modified`` (a file whose sha256 differs)."""

    status: str
    missing: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state(dataset: DataSet, root: Path, *, hashes: bool = False) -> SetState:
    folder = root / dataset.folder
    if not folder.is_dir():
        return SetState("missing", tuple(f.name for f in dataset.files))
    missing: list[str] = []
    modified: list[str] = []
    for f in dataset.files:
        path = folder / f.name
        if not path.is_file():
            missing.append(f.name)
        elif path.stat().st_size != f.size or (hashes and _sha256(path) != f.sha256):
            modified.append(f.name)
    if missing:
        return SetState("incomplete", tuple(missing), tuple(modified))
    if modified:
        return SetState("modified", (), tuple(modified))
    return SetState("present")


def verify(root: Path, sets: Mapping[str, DataSet]) -> dict[str, SetState]:
    return {name: state(ds, root, hashes=True) for name, ds in sets.items()}
