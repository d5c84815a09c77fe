"""`manage.py reclassify [--as-of YYYY-MM-DD] [--model-version CODE]`: reclassify every entity.

With the live version (the default) the classes are written; with a draft version the run is a shadow run (counts
only, compared in the admin). `--tasks N` fans the chunks out to N Celery tasks as well (the nightly beat task does);
`--no-work` leaves all the work to them (the benchmark's "2 workers").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.errors import ApplicationError
from credit import services
from credit.models import CLASSES, ModelVersion, Run


class Command(BaseCommand):
    help = "Reclassify every market entity (credit-risk classes A/B/C/D) as of --as-of (default today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", default=None, help="the data date YYYY-MM-DD (default: today, Asia/Shanghai)")
        parser.add_argument("--model-version", default=None, help="model version code (default: the live one)")
        parser.add_argument("--chunk-size", type=int, default=services.DEFAULT_CHUNK_SIZE, help="entities per chunk")
        parser.add_argument("--tasks", type=int, default=0, help="Celery tasks to fan the chunks out to (0)")
        parser.add_argument("--no-work", action="store_true", help="only coordinate: the Celery tasks do the chunks")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['as_of']}") from exc
        version = None
        if options["model_version"]:
            version = ModelVersion.objects.filter(code=options["model_version"]).first()
            if version is None:
                raise CommandError(f"没有代码为 {options['model_version']} 的模型版本")
        if options["no_work"] and options["tasks"] < 1:
            raise CommandError("--no-work 需要 --tasks 至少为 1（否则无人处理分批）")
        try:
            run = services.reclassify(
                as_of=as_of,
                model_version=version,
                source="command",
                chunk_size=options["chunk_size"],
                tasks=options["tasks"],
                work=not options["no_work"],
            )
        except services.ReclassifyLocked as exc:
            raise CommandError(exc.message) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for line in describe(run):
            self.stdout.write(line)


def describe(run: Run) -> list[str]:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    mode = "现行模型" if run.mode == Run.Mode.LIVE else "影子运行（不改变现行分类）"
    lines = [
        f"信用风险分类 {run.model_version.code}（{mode}），数据截至 {run.as_of:%Y-%m-%d}："
        f"{run.get_status_display()}，{run.chunks_done}/{run.chunks_total} 批，用时 {seconds:.1f} 秒"
    ]
    for key, value in sorted(run.counts.items()):
        lines.append(f"  {key}: {value:,}")
    totals = dict.fromkeys(CLASSES, 0)
    for row in run.distribution.values():
        for k in CLASSES:
            totals[k] += row.get(k, 0)
    total = sum(totals.values()) or 1
    lines.append("  分布：" + "，".join(f"{k} {v:,}（{100 * v / total:.2f}%）" for k, v in totals.items()))
    return lines
