"""`manage.py import_inspections roster|items FILE`: import the inspector roster or the item list (all or nothing)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.middleware import use_source
from core.models import User
from inspections.importing import KINDS, import_file


class Command(BaseCommand):
    help = (
        "Import the inspector roster (roster) or the inspection item list (items) from an Excel (.xlsx) or CSV file. "
        "Either every row is imported (upsert by warrant number / item code, changes audited) or nothing is, and "
        "every bad row is printed; exit status 1 on errors."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=KINDS, help="roster or items")
        parser.add_argument("file", type=Path, help="the .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--actor", metavar="USERNAME", help="the account the import is recorded under")

    def handle(self, *args, kind: str, file: Path, dry_run: bool, actor: str | None, **options) -> None:
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        user = None
        if actor:
            user = User.objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"用户不存在：{actor}")
        with use_source("command"):
            result = import_file(kind=kind, path=file, actor=user, dry_run=dry_run)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
            return
        for error in result.errors:
            self.stderr.write(str(error))
        raise CommandError(result.summary())
