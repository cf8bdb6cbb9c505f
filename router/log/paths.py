"""Where the user's decision log and retrained models live.

``$TIERROUTER_DATA_DIR``, else ``$XDG_DATA_HOME/tierrouter``, else
``~/.local/share/tierrouter``: the log is ``decisions.db`` there and the model
registry ``models/`` (``$TIERROUTER_MODEL_DIR`` overrides the latter alone).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "default_log_path", "model_dir"]


def data_dir() -> Path:
    explicit = os.environ.get("TIERROUTER_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "tierrouter"


def default_log_path() -> Path:
    return data_dir() / "decisions.db"


def model_dir() -> Path:
    explicit = os.environ.get("TIERROUTER_MODEL_DIR")
    return Path(explicit).expanduser() if explicit else data_dir() / "models"
