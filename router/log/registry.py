"""The user's model registry: retrained models side by side, one of them promoted.

Layout under :func:`router.log.paths.model_dir`::

    models/
      20250101-120000-<version>/   model.json, model.npz, metrics.json   (a full model)
      20250101-130000-layer-<id>/  layer.json, metrics.json              (a user layer)
      promoted                     one line: the folder name of the promoted model
      history.json                 {"promoted": [older, ..., current]}: what rollback undoes

``Router()`` (with ``model=None``) loads the promoted model when there is one,
else the bundled model. A promoted *user layer* (router/decision/user_layer.py)
sits on the model it was fitted on: the bundled one, or the full model named by
its ``base_entry``. Standard library only: the router reads the pointer
on every construction, and ``tierrouter models`` needs no training extras.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError
from router.log.paths import model_dir

if TYPE_CHECKING:
    from router.decision.artifact import ModelArtifact
    from router.decision.user_layer import UserLayer

__all__ = [
    "ModelEntry",
    "list_models",
    "promote",
    "promoted_artifact",
    "promoted_layer",
    "promoted_version",
    "registry_root",
    "rollback",
]

ARTIFACT = "model.json"
LAYER = "layer.json"
METRICS = "metrics.json"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    metrics: dict[str, Any]
    promoted: bool

    @property
    def artifact(self) -> Path:
        return self.path / ARTIFACT

    @property
    def kind(self) -> str:
        return "model" if (self.path / ARTIFACT).is_file() else "user layer"


def _is_entry(folder: Path) -> bool:
    return (folder / ARTIFACT).is_file() or (folder / LAYER).is_file()


def registry_root(root: str | Path | None = None) -> Path:
    """The registry folder: ``root`` or the default model directory."""
    return Path(root).expanduser() if root is not None else model_dir()


def _write(path: Path, text: str) -> None:
    # Replace atomically: a Router() starting mid-write reads the old or the new pointer.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def promoted_version(root: str | Path | None = None) -> str | None:
    pointer = registry_root(root) / "promoted"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name or None


def _history(root: Path) -> list[str]:
    try:
        data = json.loads((root / "history.json").read_text(encoding="utf-8"))
        return [str(x) for x in data.get("promoted", [])]
    except (OSError, ValueError, AttributeError):
        return []


def list_models(root: str | Path | None = None) -> list[ModelEntry]:
    """Every model in the registry, oldest first."""
    base = registry_root(root)
    current = promoted_version(base)
    out = []
    for folder in sorted(p for p in base.glob("*") if _is_entry(p)):
        try:
            metrics = json.loads((folder / METRICS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            metrics = {}
        out.append(ModelEntry(folder.name, folder, metrics, folder.name == current))
    return out


def _find(base: Path, name: str) -> Path:
    folder = base / name
    if not _is_entry(folder):
        known = ", ".join(e.name for e in list_models(base)) or "none"
        raise ConfigError(f"model {name!r} is not in the registry {base} (known: {known})")
    return folder


def promote(name: str, root: str | Path | None = None) -> ModelEntry:
    """Make ``name`` the model new routers load; the previous one is kept for rollback."""
    base = registry_root(root)
    folder = _find(base, name)
    history = [n for n in _history(base) if n != name]
    history.append(name)
    _write(base / "history.json", json.dumps({"promoted": history}, indent=1) + "\n")
    _write(base / "promoted", name + "\n")
    metrics = json.loads((folder / METRICS).read_text(encoding="utf-8")) if (
        folder / METRICS).exists() else {}  # fmt: skip
    return ModelEntry(name, folder, metrics, True)


def rollback(root: str | Path | None = None) -> str | None:
    """Go back to the previously promoted model; None means back to the bundled model."""
    base = registry_root(root)
    current = promoted_version(base)
    history = [n for n in _history(base) if _is_entry(base / n)]
    if current in history:
        history = history[: history.index(current)]
    previous = history[-1] if history else None
    _write(base / "history.json", json.dumps({"promoted": history}, indent=1) + "\n")
    if previous is None:
        (base / "promoted").unlink(missing_ok=True)
    else:
        _write(base / "promoted", previous + "\n")
    return previous


def promoted_artifact(root: str | Path | None = None) -> ModelArtifact | None:
    """The promoted model, loaded; None when there is none or it cannot be used (with a warning)."""
    base = registry_root(root)
    name = promoted_version(base)
    if name is None:
        return None
    from router.decision.artifact import load_artifact
    from router.errors import ModelArtifactError

    if not (base / name / ARTIFACT).is_file() and (base / name / LAYER).is_file():
        # A user layer: the model under it is the one it was fitted on.
        name = _layer_base(base / name)
        if name is None:
            return None
    try:
        return load_artifact(base / name / ARTIFACT)
    except ModelArtifactError as exc:
        warnings.warn(
            f"promoted model {name!r} in {base} is unusable, using the bundled model: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def _layer_base(folder: Path) -> str | None:
    try:
        data = json.loads((folder / LAYER).read_text(encoding="utf-8"))
        base = data.get("info", {}).get("base_entry")
    except (OSError, ValueError, AttributeError):
        return None
    return str(base) if base else None


def promoted_layer(root: str | Path | None = None) -> UserLayer | None:
    """The promoted user layer, loaded; None when the promoted entry is a model or unusable."""
    base = registry_root(root)
    name = promoted_version(base)
    if name is None or not (base / name / LAYER).is_file():
        return None
    from router.decision.user_layer import load_layer
    from router.errors import ModelArtifactError

    try:
        return load_layer(base / name / LAYER)
    except ModelArtifactError as exc:
        warnings.warn(
            f"promoted user layer {name!r} in {base} is unusable, deciding without it: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
