"""两书同达 (seed 003): with every disclosed penalty and every listing the entity receives a credit-repair notice —
when and how it can repair the record — in its portal and through the outbox.

The disclosure app does not know the repair app (dependencies run one way), and its nightly jobs list tens of
thousands of entities set-based; so notices are issued by a sweep (repair.jobs.issue_notices) over every record
without one, minutes after the decision, whichever path made it. A record gets one notice (a one-to-one column).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from core.notifications import outbox_enqueue
from disclosure.models import AbnormalListing, DisclosurePolicy, Penalty, SeriousListing
from disclosure.policies import HEAVY_KINDS
from disclosure.services.listings import serious_early_removal_from
from repair import selectors
from repair.models import RepairNotice
from repair.services.accounts import PORTAL_PATH, contact_of

FREE = "信用修复不收取任何费用。"


def _ymd(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class NoticeText:
    repairable: bool
    repair_from: dt.date | None
    text: str


def penalty_notice(penalty: Penalty) -> NoticeText:
    """What the notice of a disclosed penalty says (the periods are the penalty's own, from the policy rows)."""
    until = f"公示期至{_ymd(penalty.disclosed_until)}" if penalty.disclosed_until else "公示期满"
    head = f"你（单位）受到的行政处罚（{penalty.decision_number}）信息已依法公示，{until}。"
    scheme = penalty.policy.scheme if penalty.policy_id else None
    if penalty.tier == Penalty.Tier.MINOR:
        return NoticeText(
            False, None, head + "该信息属于通报批评或者较低数额罚款，公示期满三个月后自动停止公示，无需申请信用修复。"
        )
    if scheme == DisclosurePolicy.Scheme.NATIONAL_2021 and set(penalty.kinds) & HEAVY_KINDS:
        return NoticeText(
            False,
            None,
            head + "该行政处罚含降低资质等级、暂扣或者吊销许可证件、责令停产停业、限制从业等种类，"
            "依规定不予提前停止公示，期满后自动停止公示。",
        )
    if penalty.repair_possible_from is None:
        return NoticeText(False, None, head + "该信息依规定不能提前停止公示，期满后自动停止公示。")
    return NoticeText(
        True,
        penalty.repair_possible_from,
        head + f"自{_ymd(penalty.repair_possible_from)}起，你（单位）在已经自觉履行行政处罚决定规定的义务、"
        "已经主动消除危害后果和不良影响、未因同一类违法行为再次受到行政处罚、未被列入经营异常名录和严重违法失信名单的情况下，可以通过企业信用监管"
        f"平台（{PORTAL_PATH}）在线申请提前停止公示，提交信用修复申请书、守信承诺书和履行义务的证明材料；主要材料齐全、次要"
        f"材料欠缺的，可承诺限期补交，容缺受理。{FREE}",
    )


def abnormal_notice(listing: AbnormalListing) -> NoticeText:
    noun = "标记为经营异常状态" if listing.is_mark else "列入经营异常名录"
    reason = listing.get_reason_display()
    head = f"你（单位）已于{_ymd(listing.decided_on)}被{noun}（{listing.decision_number}，{reason}）。"
    if listing.reason == AbnormalListing.Reason.ANNUAL_REPORT:
        how = "补报并公示未报年度的年度报告后，可以通过企业信用监管平台在线申请移出，即申即办。"
    elif listing.reason == AbnormalListing.Reason.UNREACHABLE:
        how = (
            "依法办理住所或者经营场所变更登记，或者提出通过登记的住所或者经营场所可以重新取得联系后，可以在线申请移出。"
        )
    elif listing.reason == AbnormalListing.Reason.INSTANT_INFORMATION:
        how = "按要求公示即时信息后，可以在线申请移出。"
    else:
        how = "更正其公示的信息后，可以在线申请移出。"
    return NoticeText(True, listing.decided_on, head + how + f"申请地址：{PORTAL_PATH}。{FREE}")


def serious_notice(listing: SeriousListing) -> NoticeText:
    assert listing.decided_on is not None
    early = serious_early_removal_from(listing)
    until = f"列入期限至{_ymd(listing.listed_until)}，期满自动移出" if listing.listed_until else "列入期满自动移出"
    return NoticeText(
        True,
        early,
        f"你（单位）已于{_ymd(listing.decided_on)}被列入严重违法失信名单（{listing.decision_number}），{until}。"
        f"自{_ymd(early)}起，你（单位）在已经自觉履行行政处罚决定规定的义务、已经主动消除危害后果和不良影响、未再受到"
        f"市场监督管理部门较重行政处罚的情况下，可以通过企业信用监管平台（{PORTAL_PATH}）申请提前移出。{FREE}",
    )


def notice_for(record: Penalty | AbnormalListing | SeriousListing, *, on: dt.date) -> RepairNotice:
    """An unsaved notice for one record (the sweep saves them in bulk)."""
    if isinstance(record, Penalty):
        content = penalty_notice(record)
        fields = {"penalty": record}
    elif isinstance(record, AbnormalListing):
        content = abnormal_notice(record)
        fields = {"abnormal_listing": record}
    else:
        content = serious_notice(record)
        fields = {"serious_listing": record}
    return RepairNotice(
        enterprise_id=record.enterprise_id,
        record_label=selectors.record_label(record)[:255],
        issued_on=on,
        repairable=content.repairable,
        repair_from=content.repair_from,
        text=content.text,
        **fields,
    )


def decided_on(record: Penalty | AbnormalListing | SeriousListing) -> dt.date:
    if isinstance(record, Penalty):
        return record.decision_date
    assert record.decided_on is not None
    return record.decided_on


def send(notice: RepairNotice, *, enterprise) -> None:
    """Queue the notice to the entity's registered contact (once: the dedupe key is the notice's)."""
    channel, recipient = contact_of(enterprise)
    outbox_enqueue(
        channel=channel,
        recipient=recipient,
        subject="信用修复告知书",
        body=f"【{settings.PORTAL_BUREAU_NAME}】{enterprise.name}：{notice.text}",
        dedupe_key=f"repair-notice:{notice.pk}",
        related=notice,
    )
