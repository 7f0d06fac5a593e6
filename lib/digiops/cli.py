"""The ``digiops`` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from digiops import paths
from digiops.errors import DigiopsError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Parameterized notebooks for digital-operation consulting engagements.")
console = Console(stderr=True)
out = Console()


def _fail(error: DigiopsError, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def run(engagements: Annotated[list[str], typer.Argument(help="Client names or engagement files")],
        stages: Annotated[Optional[str], typer.Option(help="Comma-separated subset of stages")] = None,
        out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder (default reports/)")] = None,
        jobs: Annotated[int, typer.Option(help="Engagements run in parallel processes")] = 1) -> None:
    """Run every stage of one or more engagements into new archived run folders."""
    from digiops.runner import run_many

    selected = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    progress = sys.stdout.isatty()

    def log(line: str) -> None:
        (out.print(line, highlight=False) if progress else print(line, flush=True))
    try:
        results = run_many(engagements, stages=selected, out=out_dir, jobs=jobs, log=log, progress=progress)
    except DigiopsError as exc:
        _fail(exc)
    for result in results:
        print(f"{result.client}: {result.status} — {result.index}", flush=True)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def validate(engagement: Annotated[str, typer.Argument(help="Client name or engagement file")]) -> None:
    """Check an engagement file and every source it names, without running anything."""
    from digiops.engagement import load_engagement

    try:
        loaded = load_engagement(engagement)
    except DigiopsError as exc:
        _fail(exc)
    print(f"{loaded.file}: valid — {len(loaded.sources)} sources, stages {', '.join(loaded.stages)}")


@app.command()
def schema(as_markdown: Annotated[bool, typer.Option("--markdown", help="The field reference of docs/engagement.md")] = False) -> None:
    """Print the JSON Schema of the engagement file (or its Markdown reference)."""
    if as_markdown:
        from digiops.schema_doc import markdown

        print(markdown(), end="")
        return
    from digiops.engagement import json_schema

    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))


@app.command("new-client")
def new_client(name: Annotated[str, typer.Argument(help="Client id (folder name)")],
               directory: Annotated[Optional[Path], typer.Option("--dir", help="Parent folder (default data/clients)")] = None) -> None:
    """Scaffold a client folder with an engagement file from templates/ and an empty raw/ folder."""
    from digiops.scaffold import new_client as scaffold

    try:
        created = scaffold(name, directory)
    except DigiopsError as exc:
        _fail(exc)
    print(f"created {created} — put the client's exports in {created.parent / 'raw'} and map them in sources:")


@app.command("list")
def list_runs(client: Annotated[str, typer.Argument(help="Client id")],
              out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder")] = None) -> None:
    """List every run of a client (the same as reports/<client>/index.html)."""
    from digiops.archive import list_runs as runs_of

    runs = runs_of((out_dir or paths.reports_dir()) / client)
    if not runs:
        print(f"no runs for {client}")
        return
    table = Table("run", "started", "status", "stages")
    for r in runs:
        table.add_row(r["run_id"], r["started_at"], r["status"],
                      " ".join(f"{s['name']}:{s['status']}" for s in r["stages"]))
    out.print(table)


@app.command()
def dashboard(engagement: Annotated[str, typer.Argument(help="Client name or engagement file")],
              run: Annotated[Optional[str], typer.Option(help="Run id (default: the latest successful run)")] = None,
              host: Annotated[str, typer.Option(help="Address to listen on (localhost unless told)")] = "127.0.0.1",
              port: Annotated[Optional[int], typer.Option(help="Port (default: a free one)")] = None) -> None:
    """Serve a run's dashboard with Voila and print its URL with the access token (Ctrl-C stops it)."""
    from digiops.dashboard import serve

    try:
        serve(engagement, run=run, host=host, port=port, log=lambda line: print(line, flush=True))
    except DigiopsError as exc:
        _fail(exc)


@app.command("demo-data")
def demo_data(people: Annotated[int, typer.Option(help="Number of real people")] = 20000,
              seed: Annotated[Optional[int], typer.Option(help="Random seed (same seed, same bytes)")] = None,
              out_dir: Annotated[Optional[Path], typer.Option("--out", help="Client folder to write raw/ and truth/ into")] = None,
              if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing when the raw files exist")] = False) -> None:
    """Generate the demo client's raw exports and ground truth."""
    from digiops import demo
    from digiops.engagement import load_engagement

    target = out_dir or paths.demo_client_dir()
    if if_missing:
        try:
            load_engagement(target)
            print(f"demo data present in {target}")
            return
        except DigiopsError:
            pass  # something is missing or stale: generate
    demo.generate(target, people=people, **({"seed": seed} if seed is not None else {}))
    print(f"demo data written to {target}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
