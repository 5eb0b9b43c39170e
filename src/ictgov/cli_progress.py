"""Progress bars for the commands that take more than a second.

The domain reports its progress with `ictgov.jobs.progress(fraction, message)` — to a job's
page when it runs as a background job — and a command shows the same calls as a rich bar on
stderr (stdout stays clean for --json), gone once the work is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ictgov import jobs


@contextmanager
def progress_bar(title: str, console: Console | None = None) -> Iterator[None]:
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=console or Console(stderr=True), transient=True) as bar:
        task = bar.add_task(title, total=1.0)

        def report(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=f"{title}: {message}" if message else title)

        with jobs.reporting(report):
            yield
