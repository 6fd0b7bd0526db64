"""``interview-lab demo list`` and ``interview-lab demo run NAME --set key=value``:
the demos in the terminal, with a progress bar (on stderr when the output is JSON).

Running a demo here loads torch in this process (through ``app.worker.inline``; the
CLI is not the web process)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.demos import get_demo, registry
from app.demos.base import params_schema, validate_params
from app.errors import AppError
from app.worker.inline import run_inline

demo_cli = typer.Typer(help="List and run the live demos.", no_args_is_help=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``["m=64", "noise=0.1"]`` -> ``{"m": "64", "noise": "0.1"}`` (the demo's pydantic
    model converts the strings)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        values[key.strip()] = value.strip()
    return values


@demo_cli.command("list")
def list_command(
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """The demos with their parameters and bounds."""
    catalogue: list[dict[str, Any]] = [
        {
            "name": d.name,
            "title": d.title,
            "summary": d.summary,
            "claims": list(d.claims),
            "params": params_schema(d),
        }
        for d in registry().values()
    ]
    if output is OutputFormat.json:
        typer.echo(json.dumps(catalogue, ensure_ascii=False, indent=2))
        return
    console = Console()
    for entry in catalogue:
        table = Table(title=f"{entry['name']}: {entry['title']}", title_justify="left")
        for column in ("parameter", "type", "default", "bounds", "description"):
            table.add_column(column)
        for p in entry["params"]:
            lo, hi = p.get("minimum"), p.get("maximum")
            bounds = (
                ""
                if lo is None and hi is None
                else f"{lo if lo is not None else ''}..{hi if hi is not None else ''}"
            )
            if p.get("choices"):
                bounds = ", ".join(map(str, p["choices"]))
            table.add_row(
                p["name"], p["type"], str(p.get("default")), bounds, p.get("description") or ""
            )
        console.print(table)


@demo_cli.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="The demo's name (see `demo list`).")],
    sets: Annotated[list[str] | None, typer.Option("--set", help="key=value, repeatable")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or gpu")] = "auto",
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """Run a demo here and print its result."""
    err = Console(stderr=True)
    try:
        demo = get_demo(name)
        params = validate_params(demo, parse_sets(sets or []))
    except AppError as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task(demo.name, total=None, metrics="")

        def report(step: int, total: int, metrics: dict[str, float]) -> None:
            shown = " ".join(f"{k}={v:.4g}" for k, v in metrics.items())
            progress.update(task, completed=step, total=total, metrics=shown)

        data = run_inline(demo, params, device=device, report=report)
    if output is OutputFormat.json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table("figure", "value", title=demo.title, title_justify="left")
    for key, value in data["figures"].items():
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    console.print(table)
    for check in data.get("checks", []):
        mark = "[green]✓[/green]" if check["passed"] else "[red]✗[/red]"
        console.print(f"{mark} {check['name']} {check.get('detail', '')}")
    console.print(data["conclusion"])
    meta = data["meta"]
    console.print(
        f"[dim]{meta['device']} ({meta['device_name']}), torch {meta['torch_version']}, "
        f"{meta['wall_seconds']} s[/dim]"
    )
