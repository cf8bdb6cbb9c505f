"""`tierrouter datasets list|verify|fetch`, against a local HTTP server only.

Every download here goes to a `http.server` on 127.0.0.1 serving small fixture
files; the manifest is swapped for one pointing there. Nothing reaches the internet.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router.cli.app import app
from training.sources import SOURCES, location, origins
from training.sources.origins import DataFile, DataSet

runner = CliRunner()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder; yields its base URL and the folder."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fixture_sets(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, DataSet], Path]:
    """Three sets: plain files, a gzip-served file, and one that cannot be fetched."""
    base, served = server
    plain = b'{"question": "1+1?"}\n'
    nested = b"a,b\n1,2\n"
    content = b'{"task_id": "x/0"}\n'
    (served / "q.jsonl").write_bytes(plain)
    (served / "n.csv").write_bytes(nested)
    (served / "h.jsonl.gz").write_bytes(gzip.compress(content))
    sets = {
        "plain_set": DataSet(
            "plain_set", "https://example.invalid/plain", "c0ffee", True,
            (DataFile("q.jsonl", len(plain), _sha(plain), f"{base}/q.jsonl"),
             DataFile("sub/n.csv", len(nested), _sha(nested), f"{base}/n.csv")),
            "train", "MIT", ("plain",),
        ),
        "gz_set": DataSet(
            "gz_set", "https://example.invalid/gz", "c0ffee", True,
            (DataFile("h.jsonl", len(content), _sha(content), f"{base}/h.jsonl.gz", True),),
            "eval", "MIT", ("gz",),
        ),
        "derived_set": DataSet(
            "derived_set", "https://example.invalid/derived", None, False,
            (DataFile("d.jsonl", 3, _sha(b"abc")),), "eval", "CC-BY-NC-4.0", ("derived",),
        ),
    }  # fmt: skip
    monkeypatch.setattr(origins, "load_manifest", lambda *a, **k: sets)
    root = tmp_path / "datasets"
    monkeypatch.setenv(location.ENV_VAR, str(root))
    return sets, root


def test_fetch_all_downloads_checks_and_lists_present(
    fixture_sets: tuple[dict[str, DataSet], Path],
) -> None:
    """--all fetches every fetchable set into TIERROUTER_DATASETS and names the rest."""
    _, root = fixture_sets
    result = runner.invoke(app, ["datasets", "fetch", "--all"])
    assert result.exit_code == 0, result.output
    assert (root / "plain_set" / "q.jsonl").read_bytes() == b'{"question": "1+1?"}\n'
    assert (root / "plain_set" / "sub" / "n.csv").read_bytes() == b"a,b\n1,2\n"
    assert (root / "gz_set" / "h.jsonl").read_bytes() == b'{"task_id": "x/0"}\n'
    assert not (root / "derived_set").exists()
    assert "derived_set" in result.output  # named as not fetchable
    listing = json.loads(runner.invoke(app, ["datasets", "list", "--json"]).output)
    status = {s["name"]: s["status"] for s in listing["sets"]}
    assert status == {"plain_set": "present", "gz_set": "present", "derived_set": "missing"}
    verify = runner.invoke(app, ["datasets", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "plain_set: ok" in verify.output


def test_a_sha256_mismatch_installs_nothing(
    fixture_sets: tuple[dict[str, DataSet], Path], server: tuple[str, Path]
) -> None:
    """A file whose bytes differ from the recorded hash fails the set, leaving no folder."""
    _, root = fixture_sets
    (server[1] / "n.csv").write_bytes(b"a,b\n1,3\n")  # same size, other bytes
    result = runner.invoke(app, ["datasets", "fetch", "plain_set"])
    assert result.exit_code == 1
    assert "plain_set/sub/n.csv: sha256" in result.output
    assert not (root / "plain_set").exists()
    assert not (root / "plain_set.partial").exists()


def test_a_missing_file_on_the_server_is_named(
    fixture_sets: tuple[dict[str, DataSet], Path], server: tuple[str, Path]
) -> None:
    (server[1] / "q.jsonl").unlink()
    result = runner.invoke(app, ["datasets", "fetch", "plain_set"])
    assert result.exit_code == 1
    assert "q.jsonl" in result.output and "404" in result.output


def test_a_derived_set_is_refused_by_name(
    fixture_sets: tuple[dict[str, DataSet], Path],
) -> None:
    result = runner.invoke(app, ["datasets", "fetch", "derived_set"])
    assert result.exit_code == 1
    assert "derived_set: cannot be fetched" in result.output


def test_verify_reports_a_modified_file(fixture_sets: tuple[dict[str, DataSet], Path]) -> None:
    _, root = fixture_sets
    assert runner.invoke(app, ["datasets", "fetch", "gz_set"]).exit_code == 0
    target = root / "gz_set" / "h.jsonl"
    target.write_bytes(target.read_bytes().upper())
    result = runner.invoke(app, ["datasets", "verify", "gz_set"])
    assert result.exit_code == 1
    assert "gz_set: modified; sha256 differs: h.jsonl" in result.output


def test_unknown_set_and_no_choice_are_usage_errors(
    fixture_sets: tuple[dict[str, DataSet], Path],
) -> None:
    assert "unknown set nope" in runner.invoke(app, ["datasets", "fetch", "nope"]).output
    assert runner.invoke(app, ["datasets", "fetch"]).exit_code == 2


def test_the_manifest_covers_every_folder_the_trainer_reads() -> None:
    """Every loader's folder and companion is listed, with use and licence from SOURCES."""
    sets = origins.load_manifest()
    folders = {s.folder for s in SOURCES.values()} | {
        c for s in SOURCES.values() for c in s.companions
    }
    assert folders == set(sets)
    for ds in sets.values():
        assert ds.use in {"train", "eval", "mixed"}, ds
        assert ds.origin.startswith("https://github.com/"), ds
        assert all(len(f.sha256) == 64 and f.size > 0 for f in ds.files), ds
        # A fetchable set downloads every file from a pinned commit of its origin.
        if ds.fetchable:
            assert ds.commit and all(f.url and ds.commit in f.url for f in ds.files), ds
    assert sets["gsm8k_test"].use == "eval" and sets["math_hendrycks"].use == "train"


def _fake_clone(folder: Path) -> Path:
    (folder / "training" / "sources").mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "tierrouter"\n')
    return folder


def test_the_datasets_folder_is_never_derived_from_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed into a venv, the code finds the clone from the working directory, else
    uses the user data dir, and never <venv>/lib/pythonX.Y/shared/datasets."""
    site = tmp_path / "clone" / ".venv" / "lib" / "python3.11"
    monkeypatch.setattr(location, "_PACKAGE_TREE", site)
    monkeypatch.delenv(location.ENV_VAR, raising=False)
    monkeypatch.setenv("TIERROUTER_DATA_DIR", str(tmp_path / "userdata"))
    clone = _fake_clone(tmp_path / "clone")
    (tmp_path / "shared" / "datasets").mkdir(parents=True)
    where = location.locate(cwd=clone / "docs")
    assert where.root == tmp_path / "shared" / "datasets"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = location.locate(cwd=elsewhere)
    assert where.root == tmp_path / "userdata" / "datasets"
    assert "site" not in str(where.root) and ".venv" not in where.not_found()
    assert "tierrouter datasets fetch --all" in where.not_found()


def _small_data(folder: Path) -> Path:
    """64 labelled rows from four of the project's files (four sources to hold out)."""
    data = Path(__file__).resolve().parents[1] / "data"
    folder.mkdir()
    for name in ("en_a", "de", "ja", "zh"):
        lines = (data / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        (folder / f"{name}.jsonl").write_text("\n".join(lines[::7][:16]) + "\n")
    return folder


def test_train_without_public_sets_says_so_and_warns_on_small_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No public set present: a note naming the folder and the fetch command, then a
    model on the given data alone, whose too-small splits get a warning, never `nan`."""
    monkeypatch.setenv(location.ENV_VAR, str(tmp_path / "empty"))
    data = _small_data(tmp_path / "small")
    result = runner.invoke(
        app, ["train", "--data", str(data), "--out", str(tmp_path / "m" / "model.json")]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps at the terminal width
    assert "training on the given --data alone" in out
    assert str(tmp_path / "empty") in out
    assert "tierrouter datasets fetch --all" in out
    assert "nan" not in out
    assert "too few to measure the model" in out
    assert (tmp_path / "m" / "model.json").is_file()


def test_train_public_demanded_but_absent_is_an_error_naming_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(location.ENV_VAR, str(tmp_path / "empty"))
    result = runner.invoke(app, ["train", "--public", "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert str(tmp_path / "empty") in result.output
    assert "tierrouter datasets fetch --all" in result.output
    assert not (tmp_path / "x.json").exists()


def test_eval_without_public_sets_falls_back_to_data_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(location.ENV_VAR, str(tmp_path / "empty"))
    result = runner.invoke(app, ["eval", "--out-dir", str(tmp_path / "rep"), "--json"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "evaluating on data/ alone" in out and "measures fit, not generalisation" in out
    assert "missing 19 public sets" in out
    assert not (tmp_path / "rep" / "eval.png").exists()
