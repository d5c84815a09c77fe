"""`manage.py disclosure_nightly [--as-of YYYY-MM-DD]`: every disclosure job in the nightly order, as the beat task
runs them; a failed job is reported and the others still run (the command then exits non-zero)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from disclosure import jobs
from disclosure.management.commands._nightly import add_job_arguments, describe, job_options


class Command(BaseCommand):
    help = "Run every disclosure nightly job in order for --as-of (default today)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        as_of, chunk_size = job_options(options)
        outcomes = jobs.run_nightly(as_of=as_of, source="command", chunk_size=chunk_size)
        failed = []
        for outcome in outcomes:
            if outcome.run is None:
                failed.append(outcome.name)
                self.stderr.write(f"{outcome.name}：失败：{outcome.error}")
                continue
            for line in describe(outcome.run, jobs.JOBS[outcome.name].title):
                self.stdout.write(line)
        if failed:
            raise CommandError(f"以下任务失败（已记录在任务运行记录中）：{'、'.join(failed)}")
