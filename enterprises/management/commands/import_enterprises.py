"""`manage.py import_enterprises FILE`: import enterprises or annual reports from .xlsx or .csv (all or nothing)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.middleware import use_source
from core.models import User
from enterprises.importing import KINDS, import_file


class Command(BaseCommand):
    help = (
        "Import enterprises or annual reports from an Excel (.xlsx) or CSV file. Either every row is imported "
        "(upsert by USCC, changes audited) or nothing is, and every bad row is printed; exit status 1 on errors."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--actor", metavar="USERNAME", help="the account the import is recorded under")
        parser.add_argument("--kind", choices=KINDS, help="force the table kind instead of detecting it")

    def handle(self, *args, file: Path, dry_run: bool, actor: str | None, kind: str | None, **options) -> None:
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        user = None
        if actor:
            user = User.objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"用户不存在：{actor}")
        with use_source("command"):
            result = import_file(path=file, actor=user, dry_run=dry_run, kind=kind)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
            return
        for error in result.errors:
            self.stderr.write(str(error))
        if result.report_path:
            self.stderr.write(f"完整错误清单（{result.error_count} 条）：{result.report_path}")
        raise CommandError(result.summary())
