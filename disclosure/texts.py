"""The fixed texts of listing decisions: reasons, legal bases, remedies and deciding authorities (DESIGN.md §3.3,
§3.4). Shared by the services (one listing at a time) and the nightly jobs (set-based), so a decision reads the
same whichever path made it.

Citations name the regulation and article. Those marked "(to confirm)" below were written from the regulations'
known structure and should be checked against the official text by the bureau's legal office before go-live.
"""

from __future__ import annotations

from django.conf import settings

from enterprises.models import Region

ENTERPRISE = "enterprise"
INDIVIDUAL = "individual"
COOPERATIVE = "cooperative"

ANNUAL_REPORT = "annual_report"
INSTANT_INFORMATION = "instant_information"
FALSIFIED = "falsified"
UNREACHABLE = "unreachable"

# --- Abnormal list (经营异常名录) and marks (标记经营异常状态) -----------------------------------------------------

# The reason as printed on the decision and the public record, per entity type.
ABNORMAL_REASON_TEXT: dict[str, dict[str, str]] = {
    ENTERPRISE: {
        ANNUAL_REPORT: "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
        INSTANT_INFORMATION: "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息",
        FALSIFIED: "公示企业信息隐瞒真实情况、弄虚作假",
        UNREACHABLE: "通过登记的住所或者经营场所无法联系",
    },
    COOPERATIVE: {
        ANNUAL_REPORT: "未按照《农民专业合作社年度报告公示暂行办法》规定的期限报送年度报告并公示",
        INSTANT_INFORMATION: "未在市场监督管理部门责令的期限内公示有关信息",
        FALSIFIED: "年度报告公示信息隐瞒真实情况、弄虚作假",
        UNREACHABLE: "通过登记的住所无法联系",
    },
    INDIVIDUAL: {
        ANNUAL_REPORT: "未按照《个体工商户年度报告暂行办法》规定报送年度报告",
        FALSIFIED: "年度报告公示信息隐瞒真实情况、弄虚作假",
        UNREACHABLE: "通过登记的经营场所或者经营者住所无法联系",
    },
}

# The legal basis of the decision, per entity type and reason.
ABNORMAL_LEGAL_BASIS: dict[str, dict[str, str]] = {
    ENTERPRISE: {
        ANNUAL_REPORT: (
            "《企业信息公示暂行条例》第八条、第十七条，《企业经营异常名录管理暂行办法》第四条第（一）项、第六条"
        ),
        INSTANT_INFORMATION: (
            "《企业信息公示暂行条例》第十条、第十七条，《企业经营异常名录管理暂行办法》第四条第（二）项、第七条"
        ),
        FALSIFIED: "《企业信息公示暂行条例》第十七条，《企业经营异常名录管理暂行办法》第四条第（三）项、第八条",
        UNREACHABLE: "《企业信息公示暂行条例》第十七条，《企业经营异常名录管理暂行办法》第四条第（四）项、第九条",
    },
    COOPERATIVE: {
        # Article numbers of the cooperative rules: to confirm.
        ANNUAL_REPORT: "《农民专业合作社年度报告公示暂行办法》第八条，《企业信息公示暂行条例》第十七条",
        INSTANT_INFORMATION: "《农民专业合作社年度报告公示暂行办法》，《企业信息公示暂行条例》第十条、第十七条",
        FALSIFIED: "《农民专业合作社年度报告公示暂行办法》，《企业信息公示暂行条例》第十七条",
        UNREACHABLE: "《农民专业合作社年度报告公示暂行办法》，《企业经营异常名录管理暂行办法》第四条第（四）项",
    },
    INDIVIDUAL: {
        ANNUAL_REPORT: "《个体工商户年度报告暂行办法》第十三条",
        FALSIFIED: "《个体工商户年度报告暂行办法》第十四条",
        UNREACHABLE: "《个体工商户年度报告暂行办法》第十五条",
    },
}

# The removal reason as printed on the removal decision (移出决定书) and the public record.
ABNORMAL_REMOVAL_TEXT: dict[str, str] = {
    "cured": "列入经营异常名录的情形已消除，依法移出",
    "repaired": "经信用修复，依法移出",
    "objection_upheld": "经核实，列入决定存在错误，依法更正移出",
    "escalated": "列入经营异常名录届满三年仍未履行相关义务，已列入严重违法失信名单",
    "deregistered": "经营主体已注销",
}

# Tolerance (包容审慎, seed 000 §7): the explanations given when staff are held back from listing.
TOLERANCE_SUSPENDED = (
    "该经营主体已办理歇业备案（《中华人民共和国市场主体登记管理条例》第三十条），歇业期间不属于"
    "“通过登记的住所或者经营场所无法联系”的情形，不予列入经营异常名录。"
)
TOLERANCE_FORCE_MAJEURE = (
    "因疫情等不可抗力未在登记的住所或者经营场所经营，但可以通过其他方式联系且无其他违法违规行为的，"
    "经合理说明理由，可以暂不列入经营异常名录（市市监信用字〔2023〕5号 第二部分第7项）；"
    "请引导其办理住所或者经营场所变更登记。"
)
TOLERANCE_CORRECTABLE_SLIP = (
    "公示的通信地址、邮政编码、联系电话、电子邮箱、网站及网店地址等一般状态信息有误，或者财务信息中小数点、"
    "单位等明显错误，未发现主观故意且未造成不良影响的，可允许更正一次年报信息，一般不作为隐瞒真实情况、"
    "弄虚作假情形列入经营异常名录（市市监信用字〔2023〕5号 第二部分第7项）。"
)

# The public reminder 60 days before three years on the list (企业经营异常名录管理暂行办法).
ABNORMAL_REMINDER_SUBJECT = "经营异常名录届满三年提示"
ABNORMAL_REMINDER_BODY = (
    "{name}（统一社会信用代码 {uscc}）：贵单位于{decided_on:%Y年%m月%d日}因“{reason}”被列入经营异常名录"
    "（{decision_number}），将于{escalation_due:%Y年%m月%d日}届满三年。届满三年仍未履行相关义务的，将依法列入"
    "严重违法失信名单。请尽快履行相关义务并申请移出。信用修复免费办理。【{authority}】"
)

# --- Serious illegal and dishonest list (严重违法失信名单) -------------------------------------------------------

SERIOUS_VIOLATION = "serious_violation"
ABNORMAL_THREE_YEARS = "abnormal_3_years"

SERIOUS_GROUND_TEXT: dict[str, str] = {
    SERIOUS_VIOLATION: "违反法律、行政法规，性质恶劣、情节严重、社会危害较大，受到市场监督管理部门较重行政处罚",
    ABNORMAL_THREE_YEARS: "被列入经营异常名录届满三年仍未履行相关义务",
}
SERIOUS_LEGAL_BASIS: dict[str, str] = {
    SERIOUS_VIOLATION: "《市场监督管理严重违法失信名单管理办法》第二条、第十三条",
    # Article of the 办法 on the 3-year rule: to confirm.
    ABNORMAL_THREE_YEARS: "《企业信息公示暂行条例》第十七条，《市场监督管理严重违法失信名单管理办法》",
}
SERIOUS_REMOVAL_TEXT: dict[str, str] = {
    "expired": "列入严重违法失信名单届满三年，依法移出",
    "early_repair": "列入严重违法失信名单满一年，经信用修复，依法提前移出",
    "revoked": "列入所依据的决定被撤销、确认违法或者无效，依法撤销列入决定",
}
# Why the legal representative is restricted (the 3-year abnormal-list rule only).
LEGAL_REPRESENTATIVE_RESTRICTION_BASIS = (
    "《企业信息公示暂行条例》第十七条：被列入严重违法企业名单的企业的法定代表人、负责人，"
    "三年内不得担任其他企业的法定代表人、负责人"
)

# --- Authorities and remedies -------------------------------------------------------------------------------------

# 行政复议法 (2023) 第二十四条: a county- or city-level department's decision is reviewed by the people's government
# of the same level; 行政诉讼法 第四十六条: six months to sue.
REMEDIES_TEMPLATE = (
    "如不服本决定，可以自收到本决定书之日起六十日内向{review_body}申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)


def _city_of(region: Region) -> Region | None:
    if region.level == Region.Level.CITY:
        return region
    parent = region.parent
    return parent if parent is not None and parent.level == Region.Level.CITY else None


def authority_name(office: Region) -> str:
    """The deciding bureau's name: the city bureau (settings.PORTAL_BUREAU_NAME) or 晋中市 + county + 市场监督管理局."""
    city = _city_of(office)
    if office.level != Region.Level.COUNTY or city is None:
        return settings.PORTAL_BUREAU_NAME
    return f"{city.name}{office.name}市场监督管理局"


def review_body(office: Region) -> str:
    """The people's government of the office's level, which hears an administrative reconsideration."""
    city = _city_of(office)
    if office.level == Region.Level.COUNTY and city is not None:
        return f"{city.name}{office.name}人民政府"
    return f"{(city or office).name}人民政府"


def remedies(office: Region) -> str:
    """The remedies paragraph of a decision by `office`: reconsideration within 60 days, litigation within 6 months."""
    return REMEDIES_TEMPLATE.format(review_body=review_body(office))


def abnormal_reason_text(entity_type: str, reason: str) -> str:
    return ABNORMAL_REASON_TEXT.get(entity_type, ABNORMAL_REASON_TEXT[ENTERPRISE]).get(reason, "")


def abnormal_legal_basis(entity_type: str, reason: str) -> str:
    return ABNORMAL_LEGAL_BASIS.get(entity_type, ABNORMAL_LEGAL_BASIS[ENTERPRISE]).get(reason, "")


# --- names the set-based nightly jobs read (disclosure.jobs): the same texts, one constant each -----------------
ANNUAL_REPORT_BASIS_ENTERPRISE = ABNORMAL_LEGAL_BASIS[ENTERPRISE][ANNUAL_REPORT]
ANNUAL_REPORT_BASIS_COOPERATIVE = ABNORMAL_LEGAL_BASIS[COOPERATIVE][ANNUAL_REPORT]
ANNUAL_REPORT_BASIS_INDIVIDUAL = ABNORMAL_LEGAL_BASIS[INDIVIDUAL][ANNUAL_REPORT]
SERIOUS_VIOLATION_BASIS = SERIOUS_LEGAL_BASIS[SERIOUS_VIOLATION]
SERIOUS_THREE_YEARS_BASIS = SERIOUS_LEGAL_BASIS[ABNORMAL_THREE_YEARS]
# Without the office at hand; a decision of a known office uses remedies(office), which names the review body.
ABNORMAL_REMEDIES = REMEDIES_TEMPLATE.format(review_body="作出本决定的市场监督管理部门的本级人民政府")
SERIOUS_REMEDIES = ABNORMAL_REMEDIES
