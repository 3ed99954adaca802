"""What every CLI command shares: one JSON document on stdout with --json, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")
stderr = Console(stderr=True)


def json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def emit(args, data: object, text: str | None = None) -> None:
    """Print the result: one JSON document when --json was given, else readable text."""
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    elif text is not None:
        print(text)


@contextmanager
def progress(description: str, total: int | None) -> Iterator:
    """A progress bar on stderr; yields a function advance(n=1)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=stderr, transient=False, disable=not stderr.is_terminal)
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def track(items: Iterable[T], description: str, total: int) -> Iterator[T]:
    with progress(description, total) as advance:
        for item in items:
            yield item
            advance()
