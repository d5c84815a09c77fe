"""`manage.py verify_draw <plan> [--draw N]`: re-run a plan's draw from its stored snapshot, seed and algorithm
version and confirm the identical result; exits non-zero, loudly, when anything differs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inspections.models import Draw, Plan
from inspections.services.draws import draw_verify


class Command(BaseCommand):
    help = "Verify a plan's draw (default: the draw in force, else the latest made)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan", type=int, help="the plan id")
        parser.add_argument("--draw", type=int, default=None, help="the draw number (default: the draw in force)")

    def handle(self, *args: Any, **options: Any) -> None:
        plan = Plan.objects.filter(pk=options["plan"]).first()
        if plan is None:
            raise CommandError(f"抽查计划 {options['plan']} 不存在。")
        draws = plan.draws.exclude(drawn_at__isnull=True)
        if options["draw"] is not None:
            draw = draws.filter(number=options["draw"]).first()
        else:
            draw = draws.filter(status=Draw.Status.DRAWN).first() or draws.order_by("-number").first()
        if draw is None:
            raise CommandError(f"抽查计划“{plan}”没有已执行的抽取。")
        report = draw_verify(draw=draw)
        self.stdout.write(f"计划：{plan}（#{plan.pk}）  抽取：第 {draw.number} 次  算法：{draw.algorithm}")
        self.stdout.write(f"承诺值：{draw.commitment}\n种子：{draw.public_seed or '（未公开）'}")
        self.stdout.write(f"快照哈希：{draw.snapshot_hash}（{draw.snapshot_size} 户）\n结果哈希：{draw.result_hash}")
        for _name, passed, detail in report.checks:
            self.stdout.write(("  ✔ " if passed else "  ✘ ") + detail)
        if not report.ok:
            raise CommandError("验证失败：存储的抽取结果与按公开的快照、种子和算法重新运行的结果不一致！")
        self.stdout.write(self.style.SUCCESS("验证通过：重新运行得到完全相同的抽取结果。"))
