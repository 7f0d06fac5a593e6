"""The ``digiops`` command: a thin layer that parses arguments and calls the library.

No command prints a Python traceback: a :class:`~digiops.errors.DigiopsError` is one line naming file, field and
fix (exit 2), a run stopped by a signal says so (exit 128 + the signal number), anything else is reported as a bug
in one line (exit 1). ``digiops --debug COMMAND …`` shows the traceback as well.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from digiops import paths
from digiops.errors import DigiopsError, RunInterrupted

if TYPE_CHECKING:
    from digiops.engagement import Engagement
    from digiops.runner import RunResult

BUG = "this is a bug in digiops: run the command again with --debug and report the traceback"
_STATE = {"debug": False}


class _App(typer.Typer):
    """The Typer app with the last word on errors that no command handled (see the module docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except RunInterrupted as exc:
            _error(str(exc), exc)
            sys.exit(exc.exit_code)
        except DigiopsError as exc:
            _error(str(exc), exc)
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a message
            _error(f"unexpected {type(exc).__name__}: {exc} ({BUG})", exc)
            sys.exit(1)


app = _App(add_completion=False, no_args_is_help=True,
           help="Parameterized notebooks for digital-operation consulting engagements.")
console = Console(stderr=True)
out = Console()


def _error(text: str, exc: BaseException | None = None) -> None:
    """``error: text`` on stderr; with ``--debug`` the traceback of ``exc`` first."""
    if exc is not None and _STATE["debug"]:
        traceback.print_exception(exc, file=sys.stderr)
    console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, markup=True, soft_wrap=True)


def _fail(error: DigiopsError, code: int = 2) -> None:
    _error(str(error), error)
    raise typer.Exit(code)


@app.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="On an error, show the Python traceback too (for "
                                                                 "a bug report)")] = False) -> None:
    _STATE["debug"] = debug


@app.command()
def run(engagements: Annotated[list[str], typer.Argument(help="Client names or engagement files")],
        stages: Annotated[Optional[str], typer.Option(help="Comma-separated subset of stages")] = None,
        out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder (default reports/)")] = None,
        jobs: Annotated[int, typer.Option(help="Engagements run in parallel processes")] = 1,
        from_run: Annotated[Optional[str], typer.Option(
            "--from-run", help="With --stages: take the stages they read from this run (default: the latest "
                               "successful one), when their inputs are unchanged")] = None) -> None:
    """Run every stage of one or more engagements into new archived run folders.

    With --stages, a stage left out that a chosen one reads (merge, for labels) is taken from an earlier run when
    its inputs and settings are unchanged; otherwise the run is refused, naming what changed.

    Every engagement given is run, and its outcome reported by name, even when another one cannot start. Exit
    status: 0 all succeeded, 1 a run failed, 2 an engagement was refused (its file, a source or the reports folder
    is wrong), 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM) after the run recorded itself as failed.
    """
    from digiops.runner import run_many

    selected = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    progress = sys.stdout.isatty()
    batch = len(engagements) > 1

    def log(line: str) -> None:
        (out.print(line, highlight=False) if progress else print(line, flush=True))

    def show(result: RunResult) -> None:
        if result.status == "refused":
            _error(f"{result.client}: {result.error}" if batch else str(result.error), result.exception)
        elif result.status == "error":
            _error(f"{result.client + ': ' if batch else ''}unexpected {result.error} ({BUG})", result.exception)
        else:
            print(f"{result.client}: {result.status} — {result.index}", flush=True)

    try:
        results = run_many(engagements, stages=selected, out=out_dir, jobs=jobs, log=log, progress=progress,
                           done=show, from_run=from_run)
    except RunInterrupted as exc:
        recorded = f"the run is recorded as failed in {exc.run_dir}" if exc.run_dir else \
            "every run under way is recorded as failed"
        _error(f"{exc}; {recorded}", exc)
        raise typer.Exit(exc.exit_code)
    if batch:
        counts: dict[str, list[str]] = {}
        for result in results:
            counts.setdefault(result.status, []).append(result.client)
        print(f"{len(results)} engagements: " + "; ".join(f"{len(names)} {status} ({', '.join(names)})"
                                                          for status, names in counts.items()), flush=True)
    if any(r.status == "refused" for r in results):
        raise typer.Exit(2)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def validate(engagement: Annotated[str, typer.Argument(help="Client name or engagement file")]) -> None:
    """Check everything a run will need, without running anything: the engagement file, every source and mapped
    column, and what each stage it runs reads (the tag catalog, the KPI tree and the sources it names, the review
    file, the question bank); with engine: spark, that Spark can run (pyspark and SPARK_HOME of one version, the
    master reachable, the reports folder on storage the cluster reaches). Every problem is printed, each with its
    file, field or row and fix; exit status 1 when there is any. Also prints what reading the sources warns about
    (formula cells without a stored value, cells right of the header)."""
    from digiops.io import recorded_warnings

    with recorded_warnings() as warnings:
        loaded, problems = _checked(engagement)
    for problem in problems:
        _error(str(problem), problem)
    for warning in warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, markup=True, soft_wrap=True)
    if problems or loaded is None:
        console.print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", highlight=False)
        raise typer.Exit(1)
    print(f"{loaded.file}: valid — {len(loaded.sources)} sources, stages {', '.join(loaded.stages)}")


def validate_all(engagement_spec: str) -> list[DigiopsError]:
    """Every problem ``digiops validate`` reports for an engagement (a client name or an engagement file): the
    engagement file's, every source's, then those of each stage it runs, in that order; empty when it can run."""
    return _checked(engagement_spec)[1]


def _checked(engagement_spec: str) -> tuple[Engagement | None, list[DigiopsError]]:
    from digiops import deliver, kpi, labels, maturity, merge
    from digiops.engagement import check_engagement
    from digiops.engines import spark_problems
    from digiops.sources import source_problems
    from digiops.stages import ENGINE_STAGES

    stage_checks = {"merge": merge.check, "labels": labels.check, "maturity": maturity.check, "kpi": kpi.check}
    checked = check_engagement(engagement_spec)
    problems: list[DigiopsError] = list(checked.problems)
    engagement = checked.engagement
    if engagement is None:
        return None, problems
    problems += source_problems(engagement, skip={name.removeprefix("sources.") for name in checked.unchecked
                                                  if name.startswith("sources.")})
    if "deliver" not in checked.unchecked:  # every page shows the commentary and branding, whatever the stages
        problems += deliver.check(engagement)
    if "stages" not in checked.unchecked:
        for stage in engagement.stages:
            if stage in stage_checks and stage not in checked.unchecked:
                problems += stage_checks[stage](engagement)
        if any(stage in ENGINE_STAGES for stage in engagement.stages):  # on Spark: what a run would refuse
            problems += spark_problems(engagement.engine, paths.reports_dir() / engagement.client.id,
                                       location=engagement.file.name, client_folder=engagement.folder)
    return engagement, list({str(problem): problem for problem in problems}.values())


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
    """Scaffold a client folder from templates/new_client/: the engagement file, a starter tag catalog and KPI tree
    that work on orders alone, and an empty raw/ folder."""
    from digiops.scaffold import client_argument, new_client as scaffold

    try:
        created = scaffold(name, directory)
    except DigiopsError as exc:
        _fail(exc)
    print(f"created {created} (with tag_catalog.yaml and kpi_tree.yaml beside it) — put the client's exports in "
          f"{created.parent / 'raw'}, map them in sources:, then run `digiops validate "
          f"{client_argument(created.parent)}`")


@app.command("list")
def list_runs(client: Annotated[str, typer.Argument(help="Client id, client folder or engagement file")],
              out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder")] = None) -> None:
    """List every run of a client, newest first (the same as reports/<client>/index.html): run id, start, status
    and each stage's status, one run per line with the run id whole (to paste into --from-run or dashboard --run)."""
    from digiops.archive import list_runs as runs_of
    from digiops.engagement import ENGAGEMENT_FILE, load_engagement

    client_id = client  # a client folder's reports are under its engagement's client.id
    if Path(client).suffix in (".yaml", ".yml") or Path(client).is_dir():
        try:
            client_id = load_engagement(client).client.id
        except DigiopsError as exc:
            _fail(exc)
    elif (paths.clients_dir() / client / ENGAGEMENT_FILE).is_file():
        try:
            client_id = load_engagement(client).client.id
        except DigiopsError:
            pass  # an engagement file that does not load: its folder name is the best guess
    runs = runs_of((out_dir or paths.reports_dir()) / client_id)
    if not runs:
        print(f"no runs for {client_id}")
        return
    rows = [("run", "started", "status", "stages")] + [
        (r["run_id"], r["started_at"], r["status"], " ".join(f"{s['name']}:{s['status']}" for s in r["stages"]))
        for r in runs]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])


@app.command()
def dashboard(engagements: Annotated[list[str], typer.Argument(help="Client names or engagement files (one or more)",
                                                              show_default=False)],
              run: Annotated[Optional[str], typer.Option(help="Run id or run folder (one client only; default: the "
                                                             "latest successful run)")] = None,
              out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder the runs were written "
                                                                          "to (default reports/)")] = None,
              host: Annotated[str, typer.Option(help="Address to listen on (localhost unless told)")] = "127.0.0.1",
              port: Annotated[Optional[int], typer.Option(help="Port (default: a free one)")] = None,
              code_valid_for: Annotated[str, typer.Option(help="How long each access code works: 30m, 12h, 7d, 2w")]
              = "7d",
              viewers: Annotated[int, typer.Option(min=1, help="Viewers per client at once; one more is asked to "
                                                               "retry")] = 8,
              preheat: Annotated[int, typer.Option(min=0, help="Pre-heated kernels per client (each ≈ 350 MB)")] = 1,
              idle_minutes: Annotated[int, typer.Option(min=1, help="Shut a kernel nobody used for this many "
                                                                    "minutes")] = 30) -> None:
    """Serve the dashboards of one or more clients behind one sign-in page; print each client's address with a new
    access code (Ctrl-C stops it). Rotate a code while it runs with `digiops dashboard-code`."""
    from digiops.dashboard import access, serve

    try:
        serve(engagements, run=run, host=host, port=port, reports_root=out_dir,
              valid_for=access.parse_duration(code_valid_for), max_viewers=viewers, pool_size=preheat,
              idle_timeout=idle_minutes * 60, log=lambda line: print(line, flush=True))
    except DigiopsError as exc:
        _fail(exc)
    except RunInterrupted as exc:  # every Voila is stopped and its folder (with its token) removed
        print(f"dashboard stopped: {exc}", flush=True)
        raise typer.Exit(exc.exit_code)


@app.command("dashboard-code")
def dashboard_code(engagement: Annotated[str, typer.Argument(help="Client name or engagement file")],
                   run: Annotated[Optional[str], typer.Option(help="The run served with --run, if one was")] = None,
                   out_dir: Annotated[Optional[Path], typer.Option("--out", help="Reports folder the dashboard was "
                                                                               "served from")] = None,
                   valid_for: Annotated[str, typer.Option(help="How long the new code works: 30m, 12h, 7d, 2w")]
                   = "7d") -> None:
    """Issue a new access code for a client's dashboard: the old one stops working at once, also for those signed in
    with it (the served dashboard need not restart)."""
    from digiops.dashboard import access, rotate_code

    try:
        duration = access.parse_duration(valid_for)
        code, _folder = rotate_code(engagement, run=run, reports_root=out_dir, valid_for=duration)
    except DigiopsError as exc:
        _fail(exc)
    print(f"new access code: {code} (valid for {valid_for}); the previous code no longer opens the dashboard")


@app.command("demo-data")
def demo_data(people: Annotated[int, typer.Option(help="Number of real people")] = 20000,
              seed: Annotated[Optional[int], typer.Option(help="Random seed (same seed, same bytes)")] = None,
              out_dir: Annotated[Optional[Path], typer.Option("--out", help="Client folder to write raw/ and truth/ into")] = None,
              if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing when the raw files exist")] = False) -> None:
    """Generate the demo client's raw exports and ground truth."""
    from digiops import demo
    from digiops.engagement import load_engagement
    from digiops.sources import check_sources

    target = out_dir or paths.demo_client_dir()
    if if_missing:
        try:
            check_sources(load_engagement(target))
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
