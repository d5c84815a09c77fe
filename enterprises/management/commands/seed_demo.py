"""`manage.py seed_demo`: load the deterministic demo population of 晋中市 and the demo accounts."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from enterprises import demo


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from exc


class Command(BaseCommand):
    help = (
        "Load the synthetic population of 晋中市 (seed 003 proportions) and demo users of every role. "
        "Deterministic: the same --enterprises, --seed and --today give identical data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=20_000, help="number of market entities (20000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
        parser.add_argument(
            "--password", default=demo.DEMO_PASSWORD, help=f"password of the demo users ({demo.DEMO_PASSWORD})"
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing when entities already exist")
        parser.add_argument("--force", action="store_true", help="add a population even when entities exist")
        parser.add_argument("--list-users", action="store_true", help="print the demo logins and exit")
        parser.add_argument(
            "--today", type=_date, default=None, help="the date the population is generated for (default: today)"
        )
        parser.add_argument("--chunk-size", type=int, default=10_000, help="entities per transaction (10000)")

    def handle(self, *args: Any, **options: Any) -> None:
        from enterprises.models import Enterprise

        if options["list_users"]:
            for line in demo.demo_user_lines():
                self.stdout.write(line)
            return
        entities: int = options["enterprises"]
        if entities < 0:
            raise CommandError("--enterprises 不能为负数")
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size 至少为 1")

        existing = Enterprise.objects.count()
        if existing:
            if options["if_empty"]:
                self.stdout.write(f"数据库中已有 {existing:,} 个经营主体，跳过演示数据加载（--if-empty）。")
                return
            if not options["force"]:
                raise CommandError(
                    f"数据库中已有 {existing:,} 个经营主体：为避免重复，未加载演示数据。"
                    "确需再追加一批（代码不重复），请加 --force；只在空库加载请用 --if-empty。"
                )

        ctx = demo.SeedContext(
            entities=entities,
            seed=options["seed"],
            today=options["today"] or timezone.localdate(),
            password=options["password"],
            # A second population (--force) continues the serial numbers, so its USCCs cannot collide.
            serial_offset=existing,
            chunk_size=options["chunk_size"],
            log=self.stdout.write,
        )
        self.stdout.write(f"加载演示数据：{entities:,} 个经营主体（seed {ctx.seed}，日期 {ctx.today:%Y-%m-%d}）…")
        started = time.perf_counter()
        demo.run_steps(ctx)
        elapsed = time.perf_counter() - started
        self._report(ctx, elapsed)

    def _report(self, ctx: demo.SeedContext, elapsed: float) -> None:
        counts = ctx.summary.get("counts", {})
        if counts:
            self.stdout.write("  已写入：" + "，".join(f"{name} {value:,}" for name, value in counts.items()))
        timings = ctx.summary.get("timings", {})
        self.stdout.write(
            f"  用时 {elapsed:.1f} 秒（" + "，".join(f"{name} {sec:.1f} 秒" for name, sec in timings.items()) + "）"
        )
        created = ctx.summary.get("users_created", [])
        if created:
            self.stdout.write(f"  新建演示账号：{'、'.join(created)}（密码：{ctx.password}）")
        else:
            self.stdout.write("  演示账号已存在，未改动。")
        for line in demo.demo_user_lines():
            self.stdout.write(line)
        if ctx.summary.get("api_token"):
            self.stdout.write(f"  api-health 的 API 令牌：{ctx.summary['api_token']}")
        self.stdout.write(self.style.SUCCESS("演示数据加载完成。"))
