"""Reads of the credit app for regulators: an entity's result with its explanation, distributions per county (of a
run, or the monthly snapshots), scoped to what the user may see (a county regulator: its county only).

Internal: nothing here is for public pages, the public API, certificates or enterprise users.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.models import User
from credit.engine import model_of
from credit.models import CLASSES, ClassChange, RiskResult, Run, Snapshot
from credit.rules import Line, explain, hard_rule_text
from enterprises.models import Enterprise, Region


def can_see_classes(user: User | None) -> bool:
    """Regulators with the view permission of the results (city and county regulators, superusers)."""
    return bool(user and user.is_authenticated and user.has_perm("credit.view_riskresult"))


def results_visible_to(user: User) -> QuerySet[RiskResult]:
    if not can_see_classes(user):
        return RiskResult.objects.none()
    return RiskResult.objects.visible_to(user)


def changes_visible_to(user: User) -> QuerySet[ClassChange]:
    if not can_see_classes(user):
        return ClassChange.objects.none()
    return ClassChange.objects.visible_to(user)


@dataclass(frozen=True)
class Explanation:
    """An entity's class as a regulator reads it."""

    risk_class: str
    score: int
    lines: list[Line]
    hard_rule: str  # plain Chinese, or ""
    model_version: str
    as_of: Any
    text: str


def explanation_of(result: RiskResult) -> Explanation:
    """The plain-Chinese explanation of a result; its lines' points add up to the score."""
    version = result.model_version
    model = model_of(version)
    lines = explain(model, result.contributions)
    parts = [f"{line.text} {line.signed}" for line in lines] or ["无加减分项"]
    text = "；".join(parts) + f"；合计 {result.score} 分"
    rule = hard_rule_text(model, result.hard_rule) if result.hard_rule else ""
    if rule:
        text += f"；硬性规则：{rule}"
    text += f" → {result.risk_class} 类"
    return Explanation(
        risk_class=result.risk_class,
        score=result.score,
        lines=lines,
        hard_rule=rule,
        model_version=f"{version.name}（{version.code}）",
        as_of=result.as_of,
        text=text,
    )


# ==============================================================================================================
# Distributions
# ==============================================================================================================


def visible_counties(user: User) -> list[Region]:
    counties = Region.objects.filter(level=Region.Level.COUNTY).order_by("code")
    if user.is_city_wide:
        return list(counties)
    return list(counties.filter(code=user.region_code)) if user.region_code else []


@dataclass
class Row:
    """One county's (or the total's) counts per class and their shares."""

    label: str
    counts: dict[str, int]
    compare: dict[str, int] | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def shares(self) -> dict[str, float]:
        total = self.total or 1
        return {k: 100 * self.counts.get(k, 0) / total for k in CLASSES}

    @property
    def compare_shares(self) -> dict[str, float]:
        if not self.compare:
            return {}
        total = sum(self.compare.values()) or 1
        return {k: 100 * self.compare.get(k, 0) / total for k in CLASSES}

    @property
    def cells(self) -> list[dict[str, Any]]:
        shares, compare_shares = self.shares, self.compare_shares
        return [
            {
                "class": k,
                "count": self.counts.get(k, 0),
                "share": shares[k],
                "compare": (self.compare or {}).get(k, 0) if self.compare is not None else None,
                "compare_share": compare_shares.get(k),
            }
            for k in CLASSES
        ]


@dataclass
class RunView:
    """A run as a user may see it: per visible county, the run's classes beside the live classes it started
    from, the migration matrix (live → run) summed over the visible counties, and the total."""

    run: Run
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None
    matrix: list[dict[str, Any]] = field(default_factory=list)
    moved: int = 0


def run_view(run: Run, user: User) -> RunView:
    counties = visible_counties(user)
    view = RunView(run=run)
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CLASSES, 0))
    total, total_before = dict.fromkeys(CLASSES, 0), dict.fromkeys(CLASSES, 0)
    for county in counties:
        counts = {k: run.distribution.get(county.code, {}).get(k, 0) for k in CLASSES}
        before = dict.fromkeys(CLASSES, 0)
        for old, news in run.migration.get(county.code, {}).items():
            for new, n in news.items():
                if old in before:
                    before[old] += n
                matrix[old][new] += n
        view.rows.append(Row(county.name, counts, before))
        for k in CLASSES:
            total[k] += counts[k]
            total_before[k] += before[k]
    view.total = Row(_("Total"), total, total_before)
    for old in ["", *CLASSES]:
        if old not in matrix:
            continue
        row = matrix[old]
        view.matrix.append(
            {"from": old or _("unclassified"), "cells": [row[k] for k in CLASSES], "total": sum(row.values())}
        )
        view.moved += sum(n for k, n in row.items() if k != old)
    return view


def last_live_run() -> Run | None:
    return Run.objects.filter(mode=Run.Mode.LIVE, status=Run.Status.SUCCEEDED).order_by("-finished_at").first()


def current_distribution(user: User) -> list[Row]:
    """The classes per visible county as the last live run left them (its distribution is the registry's: every
    entity is in it); before any run, counted on the registry."""
    counties = {c.code: c.name for c in visible_counties(user)}
    counts: dict[str, dict[str, int]] = {code: dict.fromkeys(CLASSES, 0) for code in counties}
    run = last_live_run()
    if run is not None:
        for code in counties:
            counts[code].update({k: run.distribution.get(code, {}).get(k, 0) for k in CLASSES})
        return [Row(counties[code], counts[code]) for code in counties]
    from django.db.models import Count

    qs = Enterprise.objects.visible_to(user).exclude(risk_class="").values("region_id", "risk_class")
    for region, risk_class, n in qs.annotate(n=Count("id")).values_list("region_id", "risk_class", "n").order_by():
        if region in counts:
            counts[region][risk_class] = n
    return [Row(counties[code], counts[code]) for code in counties]


@dataclass
class Trend:
    months: list[str]
    # class → share (%) per month, of the visible counties together
    series: dict[str, list[float]]
    counts: list[dict[str, int]]


def trend(user: User, *, region: str | None = None) -> Trend:
    """The monthly snapshots of the visible counties (or one of them), summed per month."""
    codes = [c.code for c in visible_counties(user)]
    if region:
        codes = [c for c in codes if c == region]
    per_month: dict[Any, dict[str, int]] = {}
    for snap in Snapshot.objects.filter(region_id__in=codes).order_by("month"):
        row = per_month.setdefault(snap.month, dict.fromkeys(CLASSES, 0))
        for k in CLASSES:
            row[k] += getattr(snap, k.lower())
    months = sorted(per_month)
    series: dict[str, list[float]] = {k: [] for k in CLASSES}
    for month in months:
        total = sum(per_month[month].values()) or 1
        for k in CLASSES:
            series[k].append(100 * per_month[month][k] / total)
    return Trend([f"{m:%Y-%m}" for m in months], series, [per_month[m] for m in months])


COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


def trend_svg(data: Trend, *, width: int = 640, height: int = 240) -> str:
    """A line chart of the class shares per month as inline SVG (the intranet has no CDN; no JavaScript)."""
    from django.utils.html import escape

    left, right, top, bottom = 44, 16, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(data.months)
    if n == 0:
        return ""
    peak = max([max(v) for v in data.series.values() if v] + [1.0])
    scale = min(100.0, (int(peak / 10) + 1) * 10)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / scale)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="各类别占比月度趋势" class="credit-trend">'
    ]
    for tick in range(0, int(scale) + 1, int(scale / 5) or 1):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick}%</text>'
        )
    for i, month in enumerate(data.months):
        if n <= 12 or i % max(1, n // 12) == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">'
                f"{escape(month)}</text>"
            )
    for k in CLASSES:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(data.series[k]))
        parts.append(f'<polyline fill="none" stroke="{COLOURS[k]}" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(data.series[k]):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{COLOURS[k]}">'
                f"<title>{k} {escape(data.months[i])}: {v:.2f}%</title></circle>"
            )
    for j, k in enumerate(CLASSES):
        parts.append(
            f'<rect x="{left + 60 * j}" y="{height - 14}" width="10" height="10" fill="{COLOURS[k]}"/>'
            f'<text x="{left + 60 * j + 14}" y="{height - 5}" font-size="11">{k} 类</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
