"""`manage.py credit_warnings [--as-of YYYY-MM-DD]`: the daily warnings job (失信警示) for a day."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from credit.warnings import run_warnings


class Command(BaseCommand):
    help = "Find entities at risk of listing and queue one reminder per entity and cause (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="the day to run for (default: today)")

    def handle(self, *args, **options) -> None:
        as_of = timezone.localdate()
        if options.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError("--as-of 应为 YYYY-MM-DD 格式的日期") from exc
        run = run_warnings(as_of=as_of, source="command")
        counts = "，".join(f"{k} {v}" for k, v in run.counts.items()) or "无新增"
        self.stdout.write(f"失信警示 {as_of}：{run.get_status_display()}（{counts}）")
