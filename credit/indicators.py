"""The indicators of the risk model (DESIGN.md §3.5), registered in this one module.

An indicator is a named SQL feature (a number per entity: a count or a 0/1 flag) with parameters. A model version
(credit.models.ModelVersion.spec) picks indicators and gives each a weight; an indicator's points are
`weight × min(value, cap)` when `value ≥ threshold`, else 0 (`cap` and `threshold` are parameters of every
indicator). The score is the sum of the points; the explanation lists them ("行政处罚 2 次（近 1 年）+120").

A feature is built by a function `build(b: Build, params) -> str` returning a SQL expression over the entity row
(alias `e`) and aggregates of a *source* (a table of facts keyed by enterprise): `b.agg("penalties", "SUM(…)")`
adds the aggregate to that source's sub-query, computed over the chunk's id range only, and returns its reference.
Dates are bound parameters computed here (`b.since(years=1)`), so the SQL is the same on PostgreSQL and SQLite.

Every feature is computed *as of* the run's day: facts dated after it are not seen (a run for an earlier day, as the
demo's monthly history, sees the facts as they stood then).

Adding an indicator (as inspection findings, `inspection_problems`, did): register its source in SOURCES
(table name as a string: credit never imports the app), write a `@indicator(...)` function below, add it with a
weight to a new model version. See docs/CHECKLISTS.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from disclosure.policies import HEAVY_KINDS

# ==============================================================================================================
# Sources: the fact tables, each aggregated per entity over the chunk's id range
# ==============================================================================================================


@dataclass(frozen=True)
class Source:
    """A fact table keyed by enterprise. `where` may use {as_of} (the run's day as a bound parameter)."""

    table: str
    where: str = ""
    # A custom FROM … WHERE for sources that are not a plain table keyed by enterprise_id; {lo} {hi} {run} {as_of}.
    from_sql: str = ""
    key: str = "s.enterprise_id"


SOURCES: dict[str, Source] = {
    "key_areas": Source("enterprises_enterprise_key_areas"),
    "reports": Source("enterprises_annualreport", "s.filed_on <= {as_of}"),
    "changes": Source("enterprises_registrationchange", "s.changed_on <= {as_of}"),
    "licences": Source("enterprises_licence", "s.valid_from <= {as_of}"),
    "commitments": Source("enterprises_commitment", "s.made_on <= {as_of}"),
    "honours": Source("enterprises_honour", "s.awarded_on <= {as_of}"),
    "complaints": Source("enterprises_complaint", "s.received_on <= {as_of}"),
    # A withdrawn (revoked or changed) decision is no penalty at all.
    "penalties": Source("disclosure_penalty", "s.decision_date <= {as_of} AND s.status = 'in_force'"),
    "abnormal": Source("disclosure_abnormallisting", "s.decided_on <= {as_of}"),
    "serious": Source(
        "disclosure_seriouslisting", "s.decided_on IS NOT NULL AND s.decided_on <= {as_of} AND s.stage <> 'not_listed'"
    ),
    # Other entities of the same legal representative (by ID number) that are listed on the run's day: the
    # run's ListedPerson rows (credit.engine fills them once per run).
    "related": Source(
        "enterprises_enterprise",
        from_sql=(
            "enterprises_enterprise s JOIN credit_listedperson lp ON lp.run_id = {run} "
            "AND lp.id_number = s.legal_representative_id_number AND lp.enterprise_id <> s.id "
            "WHERE s.id BETWEEN {lo} AND {hi} AND s.legal_representative_id_number <> ''"
        ),
        key="s.id",
    ),
    # Double-random inspection results (inspections app) as the public record shows them on the run's day:
    # published by then and not stopped by a credit repair (inspections.models.ResultQuerySet.shown).
    "inspections": Source(
        "inspections_result",
        "s.published_on IS NOT NULL AND s.published_on <= {as_of} AND s.inspected_on <= {as_of} "
        "AND (s.publication_stopped_on IS NULL OR s.publication_stopped_on > {as_of})",
    ),
}


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (earlier if negative); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass
class Build:
    """The SQL of one feature statement being assembled: bound parameters and the aggregates of each source."""

    as_of: dt.date
    params: dict[str, Any] = field(default_factory=dict)
    aggregates: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def since(self, *, years: int = 0, months: int = 0) -> str:
        """The first day of the window "the last `years` years / `months` months" (exclusive bound of older)."""
        return self.param(add_months(self.as_of, -(years * 12 + months)))

    def agg(self, source: str, sql: str) -> str:
        """Add an aggregate (over the source's rows, alias `s`) and return its per-entity value (0 if none)."""
        if source not in SOURCES:
            raise KeyError(source)
        columns = self.aggregates.setdefault(source, [])
        alias = f"{source}_{len(columns)}"
        columns.append((alias, sql))
        return f"COALESCE(src_{source}.{alias}, 0)"

    def count(self, source: str, condition: str = "1 = 1") -> str:
        return self.agg(source, f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")


def flag(condition: str) -> str:
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# ==============================================================================================================
# Indicators
# ==============================================================================================================


@dataclass(frozen=True)
class Indicator:
    """A registered indicator: its code, group, the Chinese explanation and its parameters with their defaults."""

    code: str
    group: str
    label: str
    explain: str  # str.format with {value} and the parameters
    defaults: Mapping[str, Any]
    build: Callable[[Build, Mapping[str, Any]], str]

    def describe(self, value: int, params: Mapping[str, Any]) -> str:
        return self.explain.format(value=value, **{**self.defaults, **params})


GROUPS = {
    "basic": "基础属性",
    "dynamic": "动态信息",
    "supervision": "监管信息",
    "related": "关联关系",
    "positive": "正面信息",
}
INDICATORS: dict[str, Indicator] = {}


def indicator(
    code: str, *, group: str, label: str, explain: str, **defaults: Any
) -> Callable[[Callable[[Build, Mapping[str, Any]], str]], Callable[[Build, Mapping[str, Any]], str]]:
    """Register `build` as indicator `code`. Every indicator has the parameters cap (default 1) and threshold (1)."""
    if group not in GROUPS:
        raise ValueError(group)

    def register(build: Callable[[Build, Mapping[str, Any]], str]) -> Callable[[Build, Mapping[str, Any]], str]:
        if code in INDICATORS:
            raise ValueError(f"indicator {code} registered twice")
        INDICATORS[code] = Indicator(
            code=code,
            group=group,
            label=label,
            explain=explain,
            defaults={"cap": 1, "threshold": 1, **defaults},
            build=build,
        )
        return build

    return register


# --- basic attributes ---------------------------------------------------------------------------------------------


@indicator("young", group="basic", label="新设立主体", explain="成立不满 {months} 个月", months=12)
def _young(b: Build, p: Mapping[str, Any]) -> str:
    return flag(f"e.registration_date > {b.since(months=p['months'])}")


@indicator("established", group="basic", label="成立时间较长", explain="成立满 {years} 年", years=10)
def _established(b: Build, p: Mapping[str, Any]) -> str:
    return flag(f"e.registration_date <= {b.since(years=p['years'])}")


@indicator("key_area", group="basic", label="重点领域", explain="属于重点监管领域（{value} 个）")
def _key_area(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("key_areas")


@indicator("large_capital", group="basic", label="经营规模", explain="注册资本不少于 {amount} 万元", amount=1000)
def _large_capital(b: Build, p: Mapping[str, Any]) -> str:
    return flag(f"e.registered_capital >= {b.param(p['amount'])}")


@indicator("revoked", group="basic", label="营业执照被吊销", explain="营业执照被吊销")
def _revoked(b: Build, p: Mapping[str, Any]) -> str:
    return flag("e.status = 'revoked'")


# --- dynamic information ------------------------------------------------------------------------------------------


def _last_due_year(as_of: dt.date) -> int:
    """The last report year whose deadline (30 June of the next year) is before `as_of`."""
    return as_of.year - 1 if as_of > dt.date(as_of.year, 6, 30) else as_of.year - 2


@indicator(
    "reports_missing",
    group="dynamic",
    label="年报未报送",
    explain="近 {years} 个年度未报送年报 {value} 个",
    years=3,
    cap=3,
)
def _reports_missing(b: Build, p: Mapping[str, Any]) -> str:
    last = _last_due_year(b.as_of)
    years = range(last - p["years"] + 1, last + 1)
    # Owed: every year of the window the entity existed by 31 December, while it is alive (operating, suspended);
    # missing: owed and no report for that year (filed late counts as filed: reports_late weighs that).
    missing = " + ".join(
        flag(
            f"e.registration_date <= {b.param(dt.date(y, 12, 31))} "
            f"AND {b.count('reports', f's.year = {b.param(y)}')} = 0"
        )
        for y in years
    )
    return f"(CASE WHEN e.status IN ('operating', 'suspended') THEN {missing} ELSE 0 END)"


@indicator(
    "reports_late",
    group="dynamic",
    label="年报逾期报送",
    explain="近 {years} 个年度逾期报送年报 {value} 次",
    years=3,
    cap=2,
)
def _reports_late(b: Build, p: Mapping[str, Any]) -> str:
    first = _last_due_year(b.as_of) - p["years"] + 1
    return b.count("reports", f"s.year >= {b.param(first)} AND NOT s.on_time")


@indicator(
    "unreachable",
    group="dynamic",
    label="住所无法联系",
    explain="近 {years} 年曾因通过登记的住所无法联系被列入经营异常名录",
    years=3,
)
def _unreachable(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("abnormal", f"s.reason = 'unreachable' AND s.decided_on > {b.since(years=p['years'])}")


@indicator(
    "frequent_changes",
    group="dynamic",
    label="频繁变更",
    explain="近 {years} 年变更法定代表人或住所 {value} 次",
    years=2,
    threshold=2,
    cap=3,
)
def _frequent_changes(b: Build, p: Mapping[str, Any]) -> str:
    return b.count(
        "changes",
        f"s.field IN ('legal_representative', 'address') AND s.changed_on > {b.since(years=p['years'])}",
    )


@indicator(
    "licences_lapsed",
    group="dynamic",
    label="许可异常",
    explain="许可证被吊销、暂扣或过期未延续 {value} 个",
    cap=2,
)
def _licences_lapsed(b: Build, p: Mapping[str, Any]) -> str:
    as_of = b.param(b.as_of)
    return b.count("licences", f"s.status IN ('revoked', 'suspended') OR s.valid_until < {as_of}")


# --- supervision ------------------------------------------------------------------------------------------------


@indicator(
    "penalties_recent",
    group="supervision",
    label="近期行政处罚",
    explain="行政处罚 {value} 次（近 {years} 年）",
    years=1,
    cap=3,
)
def _penalties_recent(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("penalties", f"s.decision_date > {b.since(years=p['years'])}")


@indicator(
    "penalties_earlier",
    group="supervision",
    label="此前行政处罚",
    explain="行政处罚 {value} 次（{after}–{years} 年前）",
    after=1,
    years=3,
    cap=3,
)
def _penalties_earlier(b: Build, p: Mapping[str, Any]) -> str:
    return b.count(
        "penalties",
        f"s.decision_date > {b.since(years=p['years'])} AND s.decision_date <= {b.since(years=p['after'])}",
    )


@indicator(
    "inspection_problems",
    group="supervision",
    label="双随机抽查发现问题",
    explain="近 {years} 年双随机抽查发现问题 {value} 次",
    years=3,
    cap=2,
)
def _inspection_problems(b: Build, p: Mapping[str, Any]) -> str:
    # "problem" = 发现问题、责令整改 (inspections.models.Result.Outcome.PROBLEM); other outcomes have their own
    # consequences (not reachable → abnormal list, which its own indicators count).
    return b.count("inspections", f"s.outcome = 'problem' AND s.inspected_on > {b.since(years=p['years'])}")


@indicator(
    "penalties_heavy",
    group="supervision",
    label="较重行政处罚",
    explain="受到较重行政处罚 {value} 次（近 {years} 年，吊销、停产停业、限制从业等）",
    years=3,
    cap=2,
)
def _penalties_heavy(b: Build, p: Mapping[str, Any]) -> str:
    # kinds is a JSON list: match the quoted kind in its text (the same on PostgreSQL jsonb and SQLite).
    patterns = [f'%"{getattr(kind, "value", kind)}"%' for kind in sorted(HEAVY_KINDS)]
    heavy = " OR ".join(f"CAST(s.kinds AS TEXT) LIKE {b.param(pattern)}" for pattern in patterns)
    return b.count("penalties", f"s.decision_date > {b.since(years=p['years'])} AND ({heavy})")


def _open_on(b: Build, decided: str = "s.decided_on") -> str:
    as_of = b.param(b.as_of)
    return f"{decided} <= {as_of} AND (s.removed_on IS NULL OR s.removed_on > {as_of})"


@indicator(
    "abnormal_listed",
    group="supervision",
    label="经营异常名录",
    explain="列入经营异常名录（或标记经营异常状态）{value} 条",
    cap=2,
)
def _abnormal_listed(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("abnormal", _open_on(b))


@indicator(
    "abnormal_past",
    group="supervision",
    label="曾列入经营异常名录",
    explain="近 {years} 年曾被列入经营异常名录并已移出 {value} 次",
    years=3,
    cap=2,
)
def _abnormal_past(b: Build, p: Mapping[str, Any]) -> str:
    return b.count(
        "abnormal",
        f"s.removed_on IS NOT NULL AND s.removed_on <= {b.param(b.as_of)} "
        f"AND s.removed_on > {b.since(years=p['years'])}",
    )


@indicator("serious_listed", group="supervision", label="严重违法失信名单", explain="列入严重违法失信名单")
def _serious_listed(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("serious", _open_on(b))


@indicator(
    "serious_past",
    group="supervision",
    label="曾列入严重违法失信名单",
    explain="近 {years} 年曾被列入严重违法失信名单",
    years=5,
)
def _serious_past(b: Build, p: Mapping[str, Any]) -> str:
    return b.count(
        "serious",
        f"s.removed_on IS NOT NULL AND s.removed_on <= {b.param(b.as_of)} "
        f"AND s.removed_on > {b.since(years=p['years'])}",
    )


@indicator(
    "complaints",
    group="supervision",
    label="投诉举报",
    explain="近 {years} 年投诉举报经查属实 {value} 件",
    years=2,
    cap=3,
)
def _complaints(b: Build, p: Mapping[str, Any]) -> str:
    return b.count("complaints", f"s.substantiated AND s.received_on > {b.since(years=p['years'])}")


@indicator(
    "false_commitments",
    group="supervision",
    label="虚假承诺",
    explain="近 {years} 年作出虚假信用承诺 {value} 次",
    years=3,
    cap=2,
)
def _false_commitments(b: Build, p: Mapping[str, Any]) -> str:
    return b.count(
        "commitments",
        f"s.status = 'false' AND s.verified_on <= {b.param(b.as_of)} AND s.verified_on > {b.since(years=p['years'])}",
    )


# --- related parties ------------------------------------------------------------------------------------------


@indicator(
    "related_listed",
    group="related",
    label="关联主体失信",
    explain="同一法定代表人的其他经营主体被列入经营异常名录或严重违法失信名单 {value} 户",
    cap=3,
)
def _related_listed(b: Build, p: Mapping[str, Any]) -> str:
    return b.agg("related", "COUNT(DISTINCT lp.enterprise_id)")


# --- positive records ------------------------------------------------------------------------------------------


@indicator(
    "honours",
    group="positive",
    label="荣誉",
    explain="获得荣誉 {value} 项（有效期内）",
    exclude="信用合规",
    cap=2,
)
def _honours(b: Build, p: Mapping[str, Any]) -> str:
    as_of = b.param(b.as_of)
    return b.count(
        "honours",
        f"(s.valid_until IS NULL OR s.valid_until >= {as_of}) AND s.title NOT LIKE {b.param('%' + p['exclude'] + '%')}",
    )


@indicator(
    "compliance",
    group="positive",
    label="信用合规建设",
    explain="开展信用合规建设（{title}，有效期内）",
    title="信用合规",
)
def _compliance(b: Build, p: Mapping[str, Any]) -> str:
    # Seed 000 §二(一)3: credit-compliance programmes count in the risk classification.
    as_of = b.param(b.as_of)
    return b.count(
        "honours",
        f"(s.valid_until IS NULL OR s.valid_until >= {as_of}) AND s.title LIKE {b.param('%' + p['title'] + '%')}",
    )


@indicator(
    "clean_record",
    group="positive",
    label="守信记录",
    explain="连续 {years} 年未被列入经营异常名录、严重违法失信名单且未受到行政处罚",
    years=3,
)
def _clean_record(b: Build, p: Mapping[str, Any]) -> str:
    # Seed 003 §五(二): three years without a listing or a penalty is the bureau's own 守信 criterion.
    since = b.since(years=p["years"])
    penalties = b.count("penalties", f"s.decision_date > {since}")
    listings = b.count("abnormal", f"s.removed_on IS NULL OR s.removed_on > {since}")
    serious = b.count("serious", f"s.removed_on IS NULL OR s.removed_on > {since}")
    return flag(f"e.registration_date <= {since} AND {penalties} = 0 AND {listings} = 0 AND {serious} = 0")
