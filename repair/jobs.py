"""The background jobs of credit repair, run by core.nightly.run_job (advisory lock, chunks each in their own
transaction, a JobRun row):

- `revoke_broken_commitments` (nightly): applications accepted on a 容缺 commitment whose material did not arrive
  by its due day are revoked (approved) or rejected (undecided), the record restored, the commitment recorded as
  broken. A handful a day: each goes through the service (documents, notifications), a chunk at a time.
- `issue_notices` (every few minutes, and nightly): the repair notice of every disclosed penalty and every active
  listing that has none yet (两书同达); sent through the outbox when the decision is recent.

Both select their work with the predicate their change removes (material still missing and due day passed; no
notice yet), so a second run finds nothing and a killed run's rerun does the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db.models import Exists, OuterRef

from core.models import JobRun
from core.nightly import run_job
from disclosure import selectors as public
from disclosure.models import AbnormalListing
from repair.models import RepairApplication, RepairNotice
from repair.services import applications as application_services
from repair.services import notices as notice_services

CHUNK_SIZE = 200  # revocations: each renders a PDF (~50 ms)
NOTICE_CHUNK_SIZE = 2_000


def _broken_commitments(as_of: dt.date):
    return RepairApplication.objects.filter(
        tolerance=True,
        materials_completed_on__isnull=True,
        materials_due__lt=as_of,
        status__in=[
            RepairApplication.Status.APPROVED,
            RepairApplication.Status.ACCEPTED,
            RepairApplication.Status.MATERIALS_REQUESTED,
        ],
    )


def revoke_step(as_of: dt.date, *, chunk_size: int = CHUNK_SIZE) -> dict[str, int] | None:
    """One chunk of broken 容缺 commitments (runs inside the chunk's transaction)."""
    ids = list(
        _broken_commitments(as_of)
        .order_by("id")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:chunk_size]
    )
    if not ids:
        return None
    counts = {"revoked": 0, "rejected": 0}
    for application in RepairApplication.objects.filter(pk__in=ids).order_by("id"):
        result = application_services.application_revoke_broken_commitment(
            actor=None, application=application, on=as_of
        )
        if result is None:
            continue
        counts["revoked" if result.status == RepairApplication.Status.REVOKED else "rejected"] += 1
    return counts


def _without_notice(queryset, field: str):
    return queryset.filter(~Exists(RepairNotice.objects.filter(**{field: OuterRef("pk")})))


def notice_candidates(as_of: dt.date) -> list[tuple[str, object]]:
    """The querysets of records that need a notice on `as_of`: (notice field, queryset)."""
    return [
        ("penalty", _without_notice(public.public_penalties(on=as_of), "penalty")),
        (
            "abnormal_listing",
            _without_notice(
                AbnormalListing.objects.filter(status=AbnormalListing.Status.LISTED, decided_on__lte=as_of),
                "abnormal_listing",
            ),
        ),
        ("serious_listing", _without_notice(public.public_serious(on=as_of), "serious_listing")),
    ]


def notices_step(as_of: dt.date, *, chunk_size: int = NOTICE_CHUNK_SIZE) -> dict[str, int] | None:
    """One chunk of notices: the first record type with records lacking one, up to `chunk_size` of them."""
    send_since = as_of - dt.timedelta(days=settings.REPAIR_NOTICE_SEND_DAYS)
    for field, queryset in notice_candidates(as_of):
        related = ("enterprise", "policy", "department") if field == "penalty" else ("enterprise",)
        records = list(queryset.select_related(*related).order_by("id")[:chunk_size])
        if not records:
            continue
        notices = []
        for record in records:
            notice = notice_services.notice_for(record, on=as_of)
            # Records decided long ago (the history there was when the sweep first ran) get their notice in the
            # portal only: no message storm about old decisions.
            notice.sent = notice_services.decided_on(record) >= send_since
            notices.append((notice, record))
        RepairNotice.objects.bulk_create([notice for notice, _record in notices])
        for notice, record in notices:
            if notice.sent:
                notice_services.send(notice, enterprise=record.enterprise)
        return {f"{field}_notices": len(notices), "sent": sum(1 for notice, _r in notices if notice.sent)}
    return None


JOBS: dict[str, Callable[..., dict[str, int] | None]] = {
    "repair_revoke_broken_commitments": revoke_step,
    "repair_issue_notices": notices_step,
}


def run(
    name: str,
    *,
    as_of: dt.date,
    source: str = "command",
    chunk_size: int | None = None,
    max_chunks: int | None = None,
) -> JobRun:
    step = JOBS[name]
    if chunk_size:
        return run_job(
            name, lambda day: step(day, chunk_size=chunk_size), as_of=as_of, source=source, max_chunks=max_chunks
        )
    return run_job(name, step, as_of=as_of, source=source, max_chunks=max_chunks)


def notices_pending(as_of: dt.date) -> bool:
    """Is there any record without a notice? (The frequent sweep starts a run only then: no empty run rows.)"""
    return any(queryset.exists() for _field, queryset in notice_candidates(as_of))
