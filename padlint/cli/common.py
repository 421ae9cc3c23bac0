"""What every command shares: the console, the one-line error, the project's configuration
and the rule selection from flags over ``[tool.padlint]``."""
from __future__ import annotations

import os
import sys
import traceback

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from padlint.config import Config, load_config


def console(stream=None) -> Console:
    """The console on ``stream`` (stdout): on a terminal its width and colours; elsewhere
    (a pipe, a CI log) plain text, as wide as COLUMNS says when it is set (rich reads it),
    else 120."""
    stream = stream or sys.stdout
    tty = stream.isatty()
    columns = os.environ.get("COLUMNS", "")
    return Console(file=stream, highlight=False, soft_wrap=True, emoji=False,
                   width=None if tty or (columns.isdigit() and int(columns) > 0) else 120,
                   force_terminal=tty or None, no_color=not tty)


def error(message: str) -> None:
    print(f"padlint: error: {message}", file=sys.stderr)


def report_errors(errors: list[dict], debug: bool) -> None:
    """One ``padlint: error:`` line per error entry; with ``debug``, its traceback first
    (formatted in the child process, or the exception itself)."""
    for err in errors:
        if debug and err.get("traceback"):
            print(err["traceback"], file=sys.stderr, end="")
        elif debug and err.get("exception") is not None:
            traceback.print_exception(err["exception"])
        error(err["message"])


def project_config(args) -> Config:
    """``[tool.padlint]`` of the project (``--config`` names the file; ``--isolated`` ignores it)."""
    if getattr(args, "isolated", False):
        return Config(root=os.getcwd())
    return load_config(path=getattr(args, "config", None))


def selection(args, config) -> tuple[list[str] | None, list[str]]:
    """CLI --select replaces the file's select (and extend-select); --ignore its ignore."""
    extend = args.extend_select or []
    if args.select is not None:
        select = args.select + extend
    elif config.select is not None:
        select = config.rule_select + extend
    else:
        select = None
    ignore = args.ignore if args.ignore is not None else config.ignore
    return select, ignore


def progress_bar(what: str, unit: str, total: int | None = None):
    """A rich progress bar on stderr (a terminal only), and the callback that advances it:
    ``advance(done, known)``, ``known`` the total when only the run knows it."""
    if not sys.stderr.isatty():
        return None, None
    bar = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                   TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
    task = bar.add_task(what, total=total)
    return bar, lambda done, known=None: bar.update(task, completed=done, total=total or known)
