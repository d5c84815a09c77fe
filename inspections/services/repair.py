"""Credit repair of a negative inspection result (2025 rules, DESIGN.md §3.7): the repair app decides; these two
writes take the result off the public record and, if the repair is revoked, put it back. The result itself is
never changed or deleted (the inspection happened); only whether the public sees it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.errors import ApplicationError
from core.models import User
from inspections.models import Result


def _locked(result: Result) -> Result:
    return Result.objects.select_for_update().get(pk=result.pk)


@transaction.atomic
def result_stop_publication(*, actor: User | None, result: Result, on: dt.date, note: str) -> Result:
    """From day `on` the result is no longer shown on the entity's public record (credit repair approved)."""
    if on > timezone.localdate():
        raise ApplicationError("停止公示日期不能晚于今天。", code="future_stop")
    locked = _locked(result)
    if locked.published_on is None:
        raise ApplicationError("该检查结果尚未公示，无需停止公示。", code="not_published")
    if locked.outcome not in Result.NEGATIVE_OUTCOMES:
        raise ApplicationError("只有发现问题等负面检查结果可以通过信用修复停止公示。", code="not_negative")
    if locked.publication_stopped_on is not None:
        raise ApplicationError("该检查结果已停止公示。", code="already_stopped")
    locked.publication_stopped_on = max(on, locked.published_on)
    locked.publication_stop_note = note[:255]
    locked.save(update_fields=["publication_stopped_on", "publication_stop_note", "updated_at"])
    audit_log(
        actor=actor,
        action="inspection_result.stop_publication",
        obj=locked,
        before={"publication_stopped_on": None},
        after={"publication_stopped_on": locked.publication_stopped_on.isoformat()},
        note=note,
    )
    result.refresh_from_db()
    return locked


@transaction.atomic
def result_restore_publication(*, actor: User | None, result: Result, reason: str) -> Result:
    """Show the result again: the repair that stopped its publication was revoked (a broken 容缺 commitment)."""
    if not reason.strip():
        raise ApplicationError("请填写恢复公示的原因。", code="reason_required")
    locked = _locked(result)
    if locked.publication_stopped_on is None:
        raise ApplicationError("该检查结果未停止公示，无需恢复。", code="not_stopped")
    before = {"publication_stopped_on": locked.publication_stopped_on.isoformat()}
    locked.publication_stopped_on = None
    locked.publication_stop_note = ""
    locked.save(update_fields=["publication_stopped_on", "publication_stop_note", "updated_at"])
    audit_log(
        actor=actor,
        action="inspection_result.restore_publication",
        obj=locked,
        before=before,
        after={"publication_stopped_on": None},
        note=reason,
    )
    result.refresh_from_db()
    return locked
