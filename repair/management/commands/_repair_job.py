"""What the repair job commands share: --as-of, --chunk-size, running the job and printing its run row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from disclosure.management.commands._nightly import describe, parse_date
from repair import jobs


class RepairJobCommand(BaseCommand):
    job_name = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", default=None, help="the run date YYYY-MM-DD (default: today, Asia/Shanghai)")
        parser.add_argument("--chunk-size", type=int, default=None, help="records per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_date(options["as_of"]) if options["as_of"] else timezone.localdate()
        chunk_size = options["chunk_size"]
        if chunk_size is not None and chunk_size < 1:
            raise CommandError("--chunk-size 至少为 1")
        try:
            run = jobs.run(self.job_name, as_of=as_of, source="command", chunk_size=chunk_size)
        except Exception as exc:
            raise CommandError(f"{self.job_name} 运行失败（已记录在任务运行记录中）：{exc}") from exc
        for line in describe(run, jobs.JOBS[self.job_name].title):
            self.stdout.write(line)
