"""``tierrouter datasets list|verify|fetch``: the public sets the trainer knows, and getting them.

The catalogue and the downloader live in ``training.sources`` (``origins``,
``fetch``, ``location``) and are imported inside each command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["FETCH_HINT", "register"]

FETCH_HINT = "tierrouter datasets fetch --all"

datasets_app = typer.Typer(
    help="The public datasets train and eval read: list, verify, fetch.", no_args_is_help=True
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer) -> None:
    app.add_typer(datasets_app, name="datasets")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _catalogue() -> tuple[Any, dict[str, Any]]:
    from training.sources.location import locate
    from training.sources.origins import load_manifest

    return locate(), load_manifest()


def _set_json(ds: Any, st: Any, root: Path) -> dict[str, Any]:
    return {
        "name": ds.folder,
        "loaders": list(ds.loaders),
        "use": ds.use,
        "licence": ds.licence,
        "origin": ds.origin,
        "commit": ds.commit,
        "fetchable": ds.fetchable,
        "size": ds.size,
        "path": str(root / ds.folder),
        "status": st.status,
        "missing_files": list(st.missing),
        "modified_files": list(st.modified),
        "files": [
            {"name": f.name, "size": f.size, "sha256": f.sha256, "url": f.url} for f in ds.files
        ],
    }


@datasets_app.command("list")
def list_sets(
    files: Annotated[
        bool, typer.Option("--files", help="Also list every file with its size and sha256.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Every public set: use, licence, size, origin, whether it can be fetched and is present.

    Presence is checked by file sizes; `tierrouter datasets verify` checks sha256.
    """
    from training.sources.origins import state

    where, sets = _catalogue()
    states = {name: state(ds, where.root) for name, ds in sets.items()}
    if as_json:
        payload = {
            "root": str(where.root),
            "root_from": where.how,
            "fetch_target": str(where.fetch_target),
            "sets": [_set_json(ds, states[n], where.root) for n, ds in sets.items()],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(f"datasets folder: {where.describe()}")
    if not where.exists:
        typer.echo("  (does not exist yet)")
    # One set per block, names first and nothing cut: the name is what `fetch` takes
    # and the origin what a reader follows, so neither may be truncated at 80 columns.
    for name, ds in sets.items():
        get = "fetch" if ds.fetchable else "derived: copy only"
        typer.echo(f"\n{name}  [{states[name].status}]")
        typer.echo(f"  use {ds.use}, {_mb(ds.size)}, {len(ds.files)} files, {get}")
        typer.echo(f"  licence: {ds.licence}")
        typer.echo(f"  origin: {ds.origin}" + (f" @ {ds.commit[:12]}" if ds.commit else ""))
        if files or len(ds.files) == 1:
            for f in ds.files:
                typer.echo(f"  {f.name}  {f.size} bytes\n    sha256 {f.sha256}")
    present = sum(st.status == "present" for st in states.values())
    fetchable = [n for n, ds in sets.items() if ds.fetchable and states[n].status != "present"]
    typer.echo(f"\n{present} of {len(sets)} sets present.")
    if fetchable:
        typer.echo(f"`{FETCH_HINT}` downloads {len(fetchable)}: {', '.join(fetchable)}")


@datasets_app.command("verify")
def verify_sets(
    names: Annotated[
        list[str] | None, typer.Argument(help="Sets to check (default: every present set).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Check the sha256 of every file of the present sets (or of NAMES); exit 1 on a mismatch."""
    from training.sources.origins import state

    where, sets = _catalogue()
    chosen = _choose(sets, names)
    results: dict[str, Any] = {}
    for name in chosen:
        if not names and state(sets[name], where.root).status == "missing":
            continue
        typer.echo(f"verifying {name}", err=True)
        results[name] = state(sets[name], where.root, hashes=True)
    bad = [n for n, st in results.items() if st.status != "present"]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "root": str(where.root),
                    "sets": [_set_json(sets[n], st, where.root) for n, st in results.items()],
                },
                indent=2,
            )
        )
    else:
        typer.echo(f"datasets folder: {where.describe()}")
        for name, st in results.items():
            detail = ""
            if st.missing:
                detail += f"; missing: {', '.join(st.missing)}"
            if st.modified:
                detail += f"; sha256 differs: {', '.join(st.modified)}"
            typer.echo(f"{name}: {'ok' if st.status == 'present' else st.status}{detail}")
        if not results:
            typer.echo(f"no set present; `{FETCH_HINT}` gets the fetchable ones")
    raise typer.Exit(code=1 if bad else 0)


def _choose(sets: dict[str, Any], names: list[str] | None) -> list[str]:
    unknown = [n for n in names or [] if n not in sets]
    if unknown:
        raise typer.BadParameter(
            f"unknown set {', '.join(unknown)}; known: {', '.join(sets)}", param_hint="NAMES"
        )
    return list(names) if names else list(sets)


@datasets_app.command("fetch")
def fetch_sets(
    names: Annotated[list[str] | None, typer.Argument(help="Sets to download.")] = None,
    all_sets: Annotated[
        bool, typer.Option("--all", help="Every set that has a public origin to fetch from.")
    ] = False,
    into: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Where to put them (default: $TIERROUTER_DATASETS, else the user data dir).",
            file_okay=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.", min=1)] = 60.0,
) -> None:
    """Download sets from their public origin and check each file's sha256.

    Only bytes are written; nothing downloaded is run. Sets derived by the project
    from their origin cannot be fetched and are named.
    """
    from training.sources.fetch import FetchError, fetch_set

    where, sets = _catalogue()
    if bool(names) == all_sets:
        raise typer.BadParameter("give set NAMES or --all (not both)")
    chosen = [n for n in sets if sets[n].fetchable] if all_sets else _choose(sets, names)
    target = into or where.fetch_target
    failed = 0
    for name in chosen:
        ds = sets[name]
        if not ds.fetchable:
            typer.echo(
                f"{name}: cannot be fetched: derived from {ds.origin} by a conversion this "
                "project does not publish; copy it from a checkout of the shared datasets",
                err=True,
            )
            failed += 1
            continue
        typer.echo(f"fetching {name} ({_mb(ds.size)}) from {ds.origin}", err=True)
        try:
            folder = fetch_set(
                ds, target, timeout=timeout, progress=lambda s: typer.echo(f"  {s}", err=True)
            )
        except FetchError as exc:
            typer.echo(f"Error: {exc}", err=True)
            failed += 1
            continue
        typer.echo(f"{name}: {len(ds.files)} files, sha256 checked, in {folder}")
    if all_sets:
        derived = [n for n, ds in sets.items() if not ds.fetchable]
        typer.echo(
            f"not fetchable (derived by the project; copy them from the shared datasets): "
            f"{', '.join(derived)}",
            err=True,
        )
    if target != where.root and not failed:
        from training.sources.location import ENV_VAR

        typer.echo(
            f"note: train and eval read {where.root}; set {ENV_VAR}={target} to use these",
            err=True,
        )
    raise typer.Exit(code=1 if failed else 0)
