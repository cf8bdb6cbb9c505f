"""Where the public datasets are looked for, and where ``tierrouter datasets fetch`` puts them.

Order: ``$TIERROUTER_DATASETS`` when set (and nothing else, so a user who sets it
gets exactly that folder); otherwise ``../shared/datasets`` beside a clone of this
repository (where CI and developers keep them), then ``datasets/`` in the user data
dir (``$TIERROUTER_DATA_DIR``, ``$XDG_DATA_HOME/tierrouter`` or
``~/.local/share/tierrouter``), which is where ``fetch`` writes. The clone is the
source tree this package was imported from (an editable install) or, for a regular
install, the working directory or one of its parents when it is a tierrouter clone:
never a folder derived from site-packages, which for a venv inside a clone would
point at ``.venv/lib/pythonX.Y/shared``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_VAR", "Location", "clone_root", "locate", "user_datasets_dir"]

ENV_VAR = "TIERROUTER_DATASETS"
_PACKAGE_TREE = Path(__file__).resolve().parents[2]


def _is_clone(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not (pyproject.is_file() and (folder / "training" / "sources").is_dir()):
        return False
    try:
        return 'name = "tierrouter"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def clone_root(cwd: Path | None = None) -> Path | None:
    """The tierrouter clone this code runs from, or the one the working directory is in."""
    if _is_clone(_PACKAGE_TREE):
        return _PACKAGE_TREE
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_clone(folder):
            return folder
    return None


def user_datasets_dir() -> Path:
    from router.log.paths import data_dir

    return data_dir() / "datasets"


@dataclass(frozen=True)
class Location:
    """The folder read (``root``), how it was chosen, and every folder considered."""

    root: Path
    how: str
    looked_in: tuple[tuple[Path, str], ...]
    fetch_target: Path

    @property
    def exists(self) -> bool:
        return self.root.is_dir()

    def describe(self) -> str:
        return f"{self.root} ({self.how})"

    def not_found(self) -> str:
        places = "; ".join(f"{path} ({how})" for path, how in self.looked_in)
        return (
            f"public datasets folder not found; looked in {places}. "
            f"`tierrouter datasets fetch --all` downloads the sets that have a public "
            f"origin into {self.fetch_target}, or set {ENV_VAR} to the folder that holds "
            f"math_hendrycks/, gsm8k_test/, ..."
        )


def locate(cwd: Path | None = None) -> Location:
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        return Location(root, f"from {ENV_VAR}", ((root, ENV_VAR),), root)
    user = user_datasets_dir()
    looked: list[tuple[Path, str]] = []
    clone = clone_root(cwd)
    if clone is not None:
        looked.append((clone.parent / "shared" / "datasets", "beside the clone"))
    looked.append((user, "user data dir"))
    for path, how in looked:
        if path.is_dir():
            return Location(path, how, tuple(looked), user)
    return Location(user, "user data dir", tuple(looked), user)
