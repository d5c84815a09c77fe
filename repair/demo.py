"""The demo records of credit repair (`manage.py seed_demo`, step "repair", after disclosure).

- The repair notice of every current penalty and listing (两书同达), issued by the sweep the beat runs
  (repair.jobs), so each demo entity finds its notices in the portal (sent only for recent decisions).
- A 县局 that compressed its abnormal-list deadline to 3 working days (seed 003: 楚雄 did), as a county setting.
- A handful of entity accounts in 榆次区 (the demo reviewer's county), each with an application in another state
  — submitted, accepted, approved with its decision, accepted on a 容缺 commitment, handled at once (即申即办) —
  made through the services as a real entity and reviewer would, and one account with a repairable penalty and no
  application yet, to try the portal with. Their logins are printed with the other demo logins.

Deterministic in (population, seed, today): the entities are the first eligible ones by id. The work is constant
(a few applications) apart from the notice sweep, which is set-based per chunk.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from core.models import User
from disclosure import selectors as public
from disclosure.models import AbnormalListing, Penalty
from enterprises.demo import SeedContext, demo_login_lines, demo_step
from enterprises.models import AnnualReport, Enterprise, Region
from repair import jobs, selectors
from repair.models import CountyRepairSetting, EnterpriseAccount, RepairApplication
from repair.services import applications as services
from repair.services.applications import Upload

DEMO_COUNTY = "140702"  # 榆次区: the demo reviewer's county
COMPRESSED_COUNTY = "140781"  # 介休市 decides abnormal-list removals within 3 working days
STATES = ("try", "submitted", "accepted", "approved", "tolerance")


@dataclass
class _Materials:
    pdf: bytes

    def uploads(self, *, proof: bool = True) -> list[Upload]:
        files = [("application_form", "信用修复申请书.pdf"), ("credit_commitment", "守信承诺书.pdf")]
        if proof:
            files.append(("proof_of_fulfilment", "罚款缴纳凭证.pdf"))
        return [
            Upload(kind, SimpleUploadedFile(name, self.pdf, content_type="application/pdf")) for kind, name in files
        ]


def _material_pdf() -> bytes:
    from weasyprint import HTML

    html = (
        '<html lang="zh-hans"><body style="font-family: WenQuanYi Micro Hei">'
        "<h1>信用修复申请材料（演示）</h1><p>本文件为演示数据，由 seed_demo 生成。</p></body></html>"
    )
    return HTML(string=html).write_pdf()


def _account(enterprise: Enterprise, password: str) -> User:
    existing = EnterpriseAccount.objects.filter(enterprise=enterprise).select_related("user").first()
    if existing is not None:
        return existing.user
    from core.services import user_create

    with transaction.atomic():
        user = user_create(
            actor=None,
            username=enterprise.uscc,
            role=User.Role.ENTERPRISE,
            password=password,
            first_name=enterprise.name[:150],
        )
        EnterpriseAccount.objects.create(user=user, enterprise=enterprise, activated_at=timezone.now())
    return user


def _repairable_penalties(today: dt.date):
    """Penalties of the demo county an entity may apply for today (the rules decide; the query only narrows)."""
    candidates = (
        public.public_penalties(Penalty.objects.filter(enterprise__region_id=DEMO_COUNTY), on=today)
        .filter(repair_possible_from__lte=today, enterprise__entity_type=Enterprise.EntityType.ENTERPRISE)
        .exclude(tier=Penalty.Tier.MINOR)
        .select_related("enterprise", "department", "policy")
        .order_by("id")
    )
    used: set[int] = set()
    for penalty in candidates.iterator(chunk_size=200):
        if penalty.enterprise_id in used:
            continue
        if selectors.eligibility(penalty, on=today).may_apply:
            used.add(penalty.enterprise_id)
            yield penalty


def _submit(user: User, penalty_or_listing, materials: _Materials, *, proof: bool = True, tolerance: bool = False):
    target_type = "penalty" if isinstance(penalty_or_listing, Penalty) else "abnormal"
    return services.application_submit(
        actor=user,
        enterprise=penalty_or_listing.enterprise,
        target_type=target_type,
        target_id=penalty_or_listing.pk,
        statement="已履行行政处罚决定规定的义务，已主动消除危害后果和不良影响，现申请信用修复。",
        contact_name=penalty_or_listing.enterprise.legal_representative[:50] or "联系人",
        contact_phone=penalty_or_listing.enterprise.contact_phone or "03542000000",
        uploads=materials.uploads(proof=proof),
        tolerance=tolerance,
    )


def _issue_notices(today: dt.date) -> dict[str, int]:
    """The 两书同达 sweep as the beat runs it; inside a caller's transaction (tests) chunk by chunk in savepoints."""
    if not connection.in_atomic_block:
        return jobs.run("repair_issue_notices", as_of=today, source="command").counts
    totals: Counter[str] = Counter()
    while True:
        with transaction.atomic():
            counts = jobs.notices_step(today)
        if counts is None:
            return dict(totals)
        totals.update(counts)


@demo_step("repair", order=300)
def load_repair(ctx: SeedContext) -> None:
    """Notices for every current record, a county setting, demo accounts with applications in every state."""
    today = ctx.today
    counts = _issue_notices(today)
    notices = sum(v for k, v in counts.items() if k.endswith("_notices"))
    ctx.log(f"  repair notices: {notices:,} ({counts.get('sent', 0):,} sent through the outbox)")
    if Region.objects.filter(code=COMPRESSED_COUNTY).exists():
        CountyRepairSetting.objects.get_or_create(
            office_id=COMPRESSED_COUNTY,
            defaults={
                "abnormal_decision_working_days": 3,
                "basis": "县局压缩办理时限：移出经营异常名录3个工作日内办结",
            },
        )
    if RepairApplication.objects.exists() or EnterpriseAccount.objects.exists():
        ctx.summary.setdefault("counts", {})["repair_notices"] = notices
        return
    reviewer = User.objects.filter(username="reviewer").first()
    materials = _Materials(_material_pdf())
    made: dict[str, int] = {}
    penalties = _repairable_penalties(today)
    for state in STATES:
        penalty = next(penalties, None)
        if penalty is None:
            break
        user = _account(penalty.enterprise, ctx.password)
        made[state] = 1
        if state == "try" or reviewer is None:
            continue
        application = _submit(user, penalty, materials, proof=state != "tolerance", tolerance=state == "tolerance")
        if state in ("accepted", "approved", "tolerance"):
            services.application_accept(actor=reviewer, application=application)
        if state in ("approved", "tolerance"):
            services.application_approve(actor=reviewer, application=application, reason="经审查，已履行相关义务。")
    # 即申即办: an entity listed for a missing annual report files it, then applies and is removed at once.
    listing = (
        AbnormalListing.objects.filter(
            enterprise__region_id=DEMO_COUNTY,
            enterprise__entity_type=Enterprise.EntityType.ENTERPRISE,
            reason=AbnormalListing.Reason.ANNUAL_REPORT,
            status=AbnormalListing.Status.LISTED,
        )
        .select_related("enterprise")
        .order_by("id")
        .first()
    )
    if listing is not None:
        open_years = AbnormalListing.objects.filter(
            enterprise=listing.enterprise,
            reason=AbnormalListing.Reason.ANNUAL_REPORT,
            status=AbnormalListing.Status.LISTED,
        ).values_list("year", flat=True)
        for year in open_years:
            AnnualReport.objects.get_or_create(enterprise=listing.enterprise, year=year, defaults={"filed_on": today})
        user = _account(listing.enterprise, ctx.password)
        _submit(user, listing, materials, proof=False)
        made["immediate"] = 1
    ctx.summary.setdefault("counts", {}).update({"repair_notices": notices, "repair_accounts": len(made)})
    ctx.log(f"  repair: {len(made)} demo entity accounts ({', '.join(made)})")


@demo_login_lines
def demo_enterprise_logins() -> list[str]:
    """The demo entity accounts: the login is the USCC, the password the demo password."""
    lines = []
    accounts = EnterpriseAccount.objects.select_related("enterprise").order_by("id")[:10]
    states = {app.enterprise_id: app.get_status_display() for app in RepairApplication.objects.order_by("id")}
    for account in accounts:
        state = states.get(account.enterprise_id, "无申请，可在 /portal/ 自行申请")
        lines.append(f"    {account.enterprise.uscc}  企业用户（/portal/）  {account.enterprise.name} · {state}")
    return lines
