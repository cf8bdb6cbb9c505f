"""The model registry in the fleet's PostgreSQL store, and the watcher that serves its champion.

The file registry (:mod:`router.log.registry`) lives on one machine; in a fleet
every instance must serve the same champion. Here a model is a row (name,
metrics) with its artifact files as bytes, and the promotion history is one row
whose last name is the champion. ``tierrouter models promote NAME --store URL``
changes that row; every instance's :class:`ChampionWatcher` polls it (one cheap
query a second), downloads a new champion into a local cache once and reloads
its router's model: no restart, calls in flight finish on the old model.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from router.db.urls import redacted
from router.errors import ConfigError

__all__ = ["ChampionWatcher", "PgModel", "PgRegistry"]

_log = logging.getLogger("tierrouter.log")
ARTIFACT = "model.json"


@dataclass(frozen=True)
class PgModel:
    name: str
    created: float
    metrics: dict[str, Any]
    promoted: bool


class PgRegistry:
    def __init__(self, url: str) -> None:
        from router.db.postgres import shared_pool

        self.url = url
        self.shown = redacted(url)
        self._pool = shared_pool(url)

    @property
    def closed(self) -> bool:
        return bool(self._pool.closed)

    def publish(self, folder: str | Path, name: str | None = None) -> str:
        """Upload a registry folder (model.json and the files beside it); returns its name."""
        folder = Path(folder)
        if not (folder / ARTIFACT).is_file():
            raise ConfigError(f"{folder}: no {ARTIFACT}: not a trained model folder")
        name = name or folder.name
        try:
            metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            metrics = {}
        files = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO models (name, created, metrics) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET metrics = EXCLUDED.metrics",
                (name, float(metrics.get("created") or time.time()), json.dumps(metrics)),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO model_files (name, file, data) VALUES (%s, %s, %s) "
                    "ON CONFLICT (name, file) DO UPDATE SET data = EXCLUDED.data",
                    [(name, file, data) for file, data in files],
                )
        return name

    def _history(self, conn: Any) -> list[str]:
        row = conn.execute("SELECT history FROM model_champion").fetchone()
        return [str(n) for n in json.loads(row[0])] if row else []

    def _set_history(self, conn: Any, history: list[str]) -> None:
        conn.execute(
            "INSERT INTO model_champion (one, history, updated_at) VALUES (TRUE, %s, %s) "
            "ON CONFLICT (one) DO UPDATE SET history = EXCLUDED.history, "
            "updated_at = EXCLUDED.updated_at",
            (json.dumps(history), time.time()),
        )

    def champion(self) -> str | None:
        with self._pool.connection() as conn:
            history = self._history(conn)
        return history[-1] if history else None

    def list_models(self) -> list[PgModel]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT name, created, metrics FROM models ORDER BY name"
            ).fetchall()
            history = self._history(conn)
        current = history[-1] if history else None
        return [PgModel(n, float(c), json.loads(m), n == current) for n, c, m in rows]

    def promote(self, name: str) -> PgModel:
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT created, metrics FROM models WHERE name = %s", (name,)
            ).fetchone()
            if row is None:
                known = [r[0] for r in conn.execute("SELECT name FROM models ORDER BY name")]
                raise ConfigError(
                    f"model {name!r} is not in the registry of {self.shown} "
                    f"(known: {', '.join(known) or 'none'})"
                )
            conn.execute("SELECT 1 FROM models WHERE name = %s FOR UPDATE", (name,))
            history = [n for n in self._history(conn) if n != name] + [name]
            self._set_history(conn, history)
        return PgModel(name, float(row[0]), json.loads(row[1]), True)

    def rollback(self) -> str | None:
        """Back to the previously promoted model; None means the bundled model."""
        with self._pool.connection() as conn, conn.transaction():
            history = self._history(conn)[:-1]
            self._set_history(conn, history)
        return history[-1] if history else None

    def fetch(self, name: str, cache: str | Path | None = None) -> Path:
        """The model's folder on this machine, downloaded once; returns its model.json."""
        from router.log.paths import data_dir

        base = Path(cache) if cache is not None else data_dir() / "fleet-models"
        folder = base / name
        if (folder / ARTIFACT).is_file():
            return folder / ARTIFACT
        with self._pool.connection() as conn:
            files = conn.execute(
                "SELECT file, data FROM model_files WHERE name = %s", (name,)
            ).fetchall()
        if not any(f == ARTIFACT for f, _ in files):
            raise ConfigError(f"model {name!r} has no {ARTIFACT} in {self.shown}")
        # Written beside, then renamed: a reader never sees half a model.
        tmp = base / f".{name}.{os.getpid()}.tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        for file, data in files:
            (tmp / Path(file).name).write_bytes(bytes(data))
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / ARTIFACT).is_file():
                raise
        return folder / ARTIFACT


class ChampionWatcher:
    """Keeps a router on the store's champion: loads it now, then polls for promotions."""

    def __init__(self, router: Any, url: str, *, interval: float = 1.0) -> None:
        self.registry = PgRegistry(url)
        self.interval = interval
        self.serving: str | None = None
        self._router = weakref.ref(router)
        self._closed = threading.Event()
        self.check()
        threading.Thread(target=self._run, name="tierrouter-champion", daemon=True).start()

    def close(self) -> None:
        self._closed.set()

    def check(self) -> bool:
        """Load the champion if it changed; True when the router's model was replaced."""
        router = self._router()
        if router is None:
            self._closed.set()
            return False
        name = self.registry.champion()
        if name == self.serving:
            return False
        model: Any = self.registry.fetch(name) if name is not None else None
        version = router.reload_model(model) if model is not None else None
        if name is None:
            # Rolled back past the first promotion: the bundled model again.
            version = router.reload_model(None, bundled=True)
        _log.info("model registry %s: now serving %s (version %s)",
                     self.registry.shown, name or "the bundled model", version)  # fmt: skip
        self.serving = name
        return True

    def _run(self) -> None:
        failing = False
        while not self._closed.wait(self.interval):
            if self.registry.closed:
                return  # the process closed its pools: it is shutting down
            try:
                self.check()
                failing = False
            except Exception as exc:
                if not failing:
                    _log.warning("model registry %s: champion not checked (%s); serving %s",
                                 self.registry.shown, exc, self.serving)  # fmt: skip
                failing = True
