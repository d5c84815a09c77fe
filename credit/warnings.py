"""Warnings (失信警示, DESIGN.md §3.8; seed 003 §三(四): 7.3万 reminders): a daily job finds entities at risk of being
listed and queues one reminder per entity and cause through the outbox (SMS to the contact phone, else e-mail, else
a letter to the registered address).

Causes (CreditWarning.Cause):
- annual_report: within CREDIT_WARNING_ANNUAL_REPORT_DAYS (30) days before 30 June, the previous year's annual
  report is not filed (an operating entity registered by the end of that year) — otherwise it is listed (§3.3 (1));
- abnormal_expiry: 60 days before an open abnormal listing reaches 3 years (then the serious list, §3.3);
- unreachable: a published inspection result found the entity not reachable at its registered address (§3.3 (4));
- order_pending: a published inspection result found a problem and ordered it corrected (and disclosed).
The last two come from inspections through credit.sources (none until that app provides its results).

Idempotent by construction (core.nightly): every step selects candidates that have no CreditWarning for the same
(entity, cause, key) yet — the unique constraint — so a rerun, or a second run the same day, finds nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from core.models import JobRun, OutboxMessage
from core.nightly import run_job
from credit import sources
from credit.models import CreditWarning
from disclosure.models import AbnormalListing
from enterprises.masking import mask_phone
from enterprises.models import AnnualReport, Enterprise

JOB_NAME = "credit_warnings"
CHUNK = 2000
EXPIRY_LEAD_DAYS = 60
FINDING_LOOKBACK_DAYS = 30


def annual_report_days() -> int:
    return settings.CREDIT_WARNING_ANNUAL_REPORT_DAYS


@dataclass(frozen=True)
class Candidate:
    enterprise_id: int
    key: str
    detail: str


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _three_years_after(day: dt.date) -> dt.date:
    return _shift_years(day, 3)


def _not_warned(cause: str, key) -> Exists:
    return ~Exists(CreditWarning.objects.filter(enterprise_id=OuterRef("pk"), cause=cause, cause_key=key))


def annual_report_candidates(as_of: dt.date, limit: int) -> list[Candidate]:
    deadline = dt.date(as_of.year, 6, 30)
    if not (deadline - dt.timedelta(days=annual_report_days()) <= as_of <= deadline):
        return []
    year = as_of.year - 1
    filed = AnnualReport.objects.filter(enterprise_id=OuterRef("pk"), year=year)
    rows = (
        Enterprise.objects.filter(status=Enterprise.Status.OPERATING, registration_date__lte=dt.date(year, 12, 31))
        .filter(~Exists(filed), _not_warned(CreditWarning.Cause.ANNUAL_REPORT, str(year)))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return [Candidate(pk, str(year), f"{year} 年度报告") for pk in rows]


def abnormal_expiry_candidates(as_of: dt.date, limit: int) -> list[Candidate]:
    # decided_on + 3 years − 60 days ≤ as_of < decided_on + 3 years
    earliest = _shift_years(as_of, -3) + dt.timedelta(days=1)
    latest = _shift_years(as_of + dt.timedelta(days=EXPIRY_LEAD_DAYS), -3)
    warned = CreditWarning.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        cause=CreditWarning.Cause.ABNORMAL_EXPIRY,
        cause_key=OuterRef("key"),
    )
    rows = (
        AbnormalListing.objects.filter(
            status=AbnormalListing.Status.LISTED, decided_on__gte=earliest, decided_on__lte=latest
        )
        .annotate(key=Concat(Value("listing:"), Cast("pk", CharField()), output_field=CharField()))
        .filter(~Exists(warned))
        .order_by("pk")
        .values_list("enterprise_id", "key", "decision_number", "decided_on")[:limit]
    )
    return [
        Candidate(ent, key, f"{number}（{_three_years_after(decided):%Y-%m-%d} 满三年）")
        for ent, key, number, decided in rows
    ]


def _finding_candidates(outcomes: frozenset[str], cause: str) -> Callable[[dt.date, int], list[Candidate]]:
    def candidates(as_of: dt.date, limit: int) -> list[Candidate]:
        results = [
            r
            for r in sources.published_results(start=as_of - dt.timedelta(days=FINDING_LOOKBACK_DAYS), end=as_of)
            if r.outcome in outcomes and (cause != CreditWarning.Cause.ORDER_PENDING or r.problem_found)
        ]
        if not results:
            return []
        keys = {(r.enterprise_id, f"result:{r.result_id}") for r in results}
        done = set(
            CreditWarning.objects.filter(cause=cause, enterprise_id__in={e for e, _k in keys}).values_list(
                "enterprise_id", "cause_key"
            )
        )
        out = [
            Candidate(
                r.enterprise_id, f"result:{r.result_id}", f"{r.inspected_on:%Y-%m-%d} {r.plan_name}：{r.outcome_label}"
            )
            for r in results
            if (r.enterprise_id, f"result:{r.result_id}") not in done
        ]
        return out[:limit]

    return candidates


CAUSES: list[tuple[str, Callable[[dt.date, int], list[Candidate]]]] = [
    (CreditWarning.Cause.ANNUAL_REPORT, annual_report_candidates),
    (CreditWarning.Cause.ABNORMAL_EXPIRY, abnormal_expiry_candidates),
    (
        CreditWarning.Cause.UNREACHABLE,
        _finding_candidates(sources.UNREACHABLE_OUTCOMES, CreditWarning.Cause.UNREACHABLE),
    ),
    (CreditWarning.Cause.ORDER_PENDING, _finding_candidates(sources.ORDER_OUTCOMES, CreditWarning.Cause.ORDER_PENDING)),
]

TEXTS = {
    CreditWarning.Cause.ANNUAL_REPORT: (
        "{name}：您尚未报送{detail}。请于6月30日前登录国家企业信用信息公示系统报送并公示，"
        "逾期未报将被列入经营异常名录（个体工商户标记为经营异常状态）。"
    ),
    CreditWarning.Cause.ABNORMAL_EXPIRY: (
        "{name}：您被列入经营异常名录（{detail}）。满三年仍未移出的，将被列入严重违法失信名单。"
        "如已履行相关义务，请及时申请移出（信用修复免费办理）。"
    ),
    CreditWarning.Cause.UNREACHABLE: (
        "{name}：抽查检查中通过登记的住所（经营场所）无法联系到您（{detail}）。请及时办理住所变更登记或与监管部门联系，"
        "否则将被列入经营异常名录。"
    ),
    CreditWarning.Cause.ORDER_PENDING: (
        "{name}：抽查检查发现问题并责令改正（{detail}）。请在规定期限内改正并按要求公示相关信息，"
        "逾期未改正的将依法处理。"
    ),
}
SUBJECT = "{bureau}失信风险提醒"


def _channel_of(enterprise: Enterprise) -> tuple[str, str]:
    phone = "".join((enterprise.contact_phone or "").split())
    if len(phone) == 11 and phone.startswith("1"):
        return OutboxMessage.Channel.SMS, phone
    if enterprise.contact_email:
        return OutboxMessage.Channel.EMAIL, enterprise.contact_email
    return OutboxMessage.Channel.LETTER, f"{enterprise.name}（{enterprise.address}）"


def _queue(cause: str, candidates: list[Candidate], as_of: dt.date) -> int:
    """One warning and one outbox message per candidate (bulk; in the step's transaction)."""
    entities = Enterprise.objects.only("name", "address", "contact_phone", "contact_email").in_bulk(
        {c.enterprise_id for c in candidates}
    )
    bureau = settings.PORTAL_BUREAU_NAME
    messages, warnings = [], []
    for c in candidates:
        enterprise = entities[c.enterprise_id]
        channel, recipient = _channel_of(enterprise)
        messages.append(
            OutboxMessage(
                channel=channel,
                recipient=recipient,
                subject=SUBJECT.format(bureau=bureau),
                body=TEXTS[cause].format(name=enterprise.name, detail=c.detail) + f"【{bureau}】",
                dedupe_key=f"credit-warning:{cause}:{c.enterprise_id}:{c.key}",
                related_type="enterprises.enterprise",
                related_id=str(c.enterprise_id),
            )
        )
        warnings.append(
            CreditWarning(
                enterprise_id=c.enterprise_id,
                cause=cause,
                cause_key=c.key,
                found_on=as_of,
                channel=channel,
                recipient=recipient,
            )
        )
    created = OutboxMessage.objects.bulk_create(messages)
    if any(m.pk is None for m in created):  # a backend that does not return ids: look them up by dedupe key
        ids = dict(
            OutboxMessage.objects.filter(dedupe_key__in=[m.dedupe_key for m in messages]).values_list(
                "dedupe_key", "pk"
            )
        )
        for m in created:
            m.pk = ids[m.dedupe_key]
    for warning, message in zip(warnings, created, strict=True):
        warning.message_id = message.pk
    CreditWarning.objects.bulk_create(warnings)
    return len(warnings)


def warnings_step(as_of: dt.date) -> dict[str, int] | None:
    """One chunk of the first cause that still has candidates; None when no cause has any."""
    for cause, candidates_of in CAUSES:
        candidates = candidates_of(as_of, CHUNK)
        if candidates:
            return {str(cause): _queue(cause, candidates, as_of)}
    return None


def run_warnings(*, as_of: dt.date | None = None, source: str = "command") -> JobRun:
    """The daily warnings job (Celery beat and `manage.py credit_warnings --as-of`)."""
    return run_job(JOB_NAME, warnings_step, as_of=as_of or timezone.localdate(), source=source)


def masked_recipient(warning: CreditWarning) -> str:
    return mask_phone(warning.recipient) if warning.channel == OutboxMessage.Channel.SMS else warning.recipient
