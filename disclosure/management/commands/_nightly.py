"""What every nightly-job command shares: --as-of, --chunk-size, running the job and printing its run row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.models import JobRun
from disclosure import jobs

DATE_FORMAT_ERROR = "日期格式应为 YYYY-MM-DD"


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{DATE_FORMAT_ERROR}：{value}") from exc


def add_job_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--as-of",
        default=None,
        help="the run date YYYY-MM-DD (default: today, Asia/Shanghai); the job does what is due on that day",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=jobs.DEFAULT_CHUNK_SIZE,
        help=f"rows per transaction ({jobs.DEFAULT_CHUNK_SIZE})",
    )


def job_options(options: dict[str, Any]) -> tuple[dt.date, int]:
    # Parsed here, not with argparse's type=, so a bad date is a CommandError with our message (argparse would exit
    # with its own English usage error, and call_command would raise it as a different exception).
    as_of = parse_date(options["as_of"]) if options["as_of"] else timezone.localdate()
    if options["chunk_size"] < 1:
        raise CommandError("--chunk-size 至少为 1")
    return as_of, options["chunk_size"]


def describe(run: JobRun, title: str) -> list[str]:
    """The run row as the command prints it."""
    status = {
        JobRun.Status.SUCCEEDED: "完成",
        JobRun.Status.SKIPPED: "跳过（另一次运行正持有该任务的锁）",
        JobRun.Status.FAILED: "失败",
        JobRun.Status.RUNNING: "运行中",
    }[JobRun.Status(run.status)]
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    lines = [f"{run.name}（{title}），截至 {run.as_of:%Y-%m-%d}：{status}，{run.chunks_done} 批，用时 {seconds:.1f} 秒"]
    for key, value in sorted(run.counts.items()):
        lines.append(f"  {key}: {value:,}")
    if not run.counts and run.status == JobRun.Status.SUCCEEDED:
        lines.append("  没有需要处理的记录。")
    return lines


class JobCommand(BaseCommand):
    """A command that runs one nightly job (`job_name`) for --as-of."""

    job_name = ""

    def add_arguments(self, parser: CommandParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        as_of, chunk_size = job_options(options)
        job = jobs.JOBS[self.job_name]
        try:
            run = jobs.run(self.job_name, as_of=as_of, source="command", chunk_size=chunk_size)
        except Exception as exc:  # the run row says failed; the command says why and exits non-zero
            raise CommandError(f"{self.job_name} 运行失败（已记录在任务运行记录中）：{exc}") from exc
        for line in describe(run, job.title):
            self.stdout.write(line)
