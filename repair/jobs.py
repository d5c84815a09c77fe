"""The background jobs of credit repair, run by core.nightly.run_job (advisory lock, chunks each in their own
transaction, a JobRun row):

- `revoke_broken_commitments` (nightly): applications accepted on a 容缺 commitment whose material did not arrive
  by its due day are revoked (approved) or rejected (undecided), the record restored, the commitment recorded as
  broken. A handful a day: each goes through the service (documents, notifications), a chunk at a time.
- `issue_notices` (every few minutes, and nightly): the repair notice of every disclosed penalty and every active
  listing that has none yet (两书同达); sent through the outbox when the decision is recent.
- `overdue_digest` (every morning): the overdue applications of each office, flagged to its regulators by e-mail.

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
from disclosure.jobs import Job
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


class OverdueDigest:
    """Overdue applications flagged to the supervisors (DESIGN.md §3.7): once a day, one e-mail per office to its
    regulators (the county regulators of the office; the city regulators for the city's own office) listing the
    applications past their due day. One chunk per run; the dedupe key (office, day, recipient) makes a rerun of
    the same day send nothing new."""

    def __init__(self, chunk_size: int = 0) -> None:
        self.done = False

    def __call__(self, as_of: dt.date) -> dict[str, int] | None:
        from core.models import OutboxMessage, User
        from core.notifications import outbox_enqueue

        if self.done:
            return None
        self.done = True
        overdue = (
            RepairApplication.objects.filter(status__in=RepairApplication.OPEN_STATUSES, due_on__lt=as_of)
            .select_related("enterprise", "responsible_office")
            .order_by("responsible_office_id", "due_on", "id")
        )
        by_office: dict[str, list[RepairApplication]] = {}
        for application in overdue:
            by_office.setdefault(application.responsible_office_id, []).append(application)
        prefix = f"repair-overdue:{as_of}:"
        before = OutboxMessage.objects.filter(dedupe_key__startswith=prefix).count()
        for office, applications in by_office.items():
            regulators = User.objects.filter(is_active=True).exclude(email="")
            if office == settings.PORTAL_CITY_REGION_CODE:
                regulators = regulators.filter(role=User.Role.CITY_REGULATOR)
            else:
                regulators = regulators.filter(role=User.Role.COUNTY_REGULATOR, region_code=office)
            lines = [
                f"{a.number} {a.enterprise.name}（{a.get_status_display()}，应于{a.due_on}前办理）"
                for a in applications
            ]
            body = f"截至{as_of}，以下{len(applications)}件信用修复申请已超过办理期限：\n" + "\n".join(lines)
            subject = f"信用修复申请超期提醒（{applications[0].responsible_office.name}，{len(applications)}件）"
            for user in regulators:
                outbox_enqueue(
                    channel="email",
                    recipient=user.email,
                    subject=subject,
                    body=body,
                    dedupe_key=f"{prefix}{office}:{user.pk}",
                )
        sent = OutboxMessage.objects.filter(dedupe_key__startswith=prefix).count() - before
        overdue_count = sum(len(a) for a in by_office.values())
        return {"offices": len(by_office), "overdue": overdue_count, "messages": sent}


def _with_chunk(
    step: Callable[..., dict[str, int] | None],
) -> Callable[[int | None], Callable[[dt.date], dict[str, int] | None]]:
    def factory(chunk_size: int | None) -> Callable[[dt.date], dict[str, int] | None]:
        return (lambda day: step(day, chunk_size=chunk_size)) if chunk_size else step

    return factory


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("repair_revoke_broken_commitments", "撤销未履行容缺承诺的信用修复", _with_chunk(revoke_step)),
        Job("repair_issue_notices", "出具信用修复告知书（两书同达）", _with_chunk(notices_step)),
        Job("repair_overdue_digest", "信用修复申请超期提醒", OverdueDigest),
    )
}


def run(
    name: str,
    *,
    as_of: dt.date,
    source: str = "command",
    chunk_size: int | None = None,
    max_chunks: int | None = None,
) -> JobRun:
    """Run one job under its lock with a JobRun row (core.nightly.run_job)."""
    return run_job(name, JOBS[name].step(chunk_size), as_of=as_of, source=source, max_chunks=max_chunks)


def notices_pending(as_of: dt.date) -> bool:
    """Is there any record without a notice? (The frequent sweep starts a run only then: no empty run rows.)"""
    return any(queryset.exists() for _field, queryset in notice_candidates(as_of))
