"""The regulators' supervision dashboard (DESIGN.md §3.8): class distribution and its monthly trend (the credit
snapshots), abnormal-list listings and removals per month, repairs and their working-day durations, and the
inspection problem-found rate by class — scoped to the user's county, charts as server-rendered SVG (no CDN, no
JavaScript). The figures come from credit.reports (one aggregate query per table) and credit.selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.html import escape

from core.models import User
from credit import reports, selectors
from disclosure.models import AbnormalListing

MONTHS = 12


def month_starts(today: dt.date, months: int = MONTHS) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _ in range(months):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _month_key(value) -> dt.date:
    return value.date().replace(day=1) if isinstance(value, dt.datetime) else value.replace(day=1)


def listings_per_month(scope: reports.Scope) -> dict[str, list[int]]:
    """Abnormal-list entries listed and removed per month of the scope (two GROUP BY month queries)."""
    qs = AbnormalListing.objects.filter(scope.entities("enterprise__"))
    listed = dict(
        qs.filter(decided_on__gte=scope.start, decided_on__lte=scope.end)
        .annotate(m=TruncMonth("decided_on"))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("m", "n")
    )
    removed = dict(
        qs.filter(removed_on__gte=scope.start, removed_on__lte=scope.end)
        .annotate(m=TruncMonth("removed_on"))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("m", "n")
    )
    months = month_starts(scope.end, MONTHS)
    listed = {_month_key(k): v for k, v in listed.items()}
    removed = {_month_key(k): v for k, v in removed.items()}
    return {
        "months": [f"{m:%Y-%m}" for m in months],
        "listed": [listed.get(m, 0) for m in months],
        "removed": [removed.get(m, 0) for m in months],
    }


def bar_svg(
    labels: list[str],
    series: dict[str, list[float]],
    *,
    colours: dict[str, str],
    width: int = 640,
    height: int = 220,
    unit: str = "",
) -> str:
    """Grouped bars as inline SVG; labels escaped, numbers formatted here (safe to mark_safe)."""
    left, right, top, bottom = 44, 12, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    if n == 0:
        return ""
    peak = max([max(v) for v in series.values() if v] + [1])
    group_w = plot_w / n
    bar_w = max(2.0, (group_w - 4) / max(1, len(series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="credit-bars">'
    ]
    for t in range(0, 5):
        v = peak * t / 4
        y = top + plot_h * (1 - t / 4)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{v:.0f}{escape(unit)}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + group_w * i + 2
        for j, (name, values) in enumerate(series.items()):
            v = values[i] or 0
            h = plot_h * v / peak
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{colours[name]}">'
                f"<title>{escape(name)} {escape(label)}: {v:g}{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w / 2 - 2:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{left + 110 * j}" y="{height - 14}" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{left + 110 * j + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Dashboard:
    scope: reports.Scope
    region_name: str
    classes: dict[str, Any]
    trend: Any
    trend_chart: str
    listings: dict[str, list[int]]
    listings_chart: str
    repairs: dict[str, Any]
    repairs_chart: str
    inspections: dict[str, Any]
    inspections_chart: str


def dashboard_for(user: User, *, region: str | None = None, today: dt.date | None = None) -> Dashboard:
    """The dashboard of the last 12 months for a user (county regulators: their county, whatever is asked)."""
    today = today or timezone.localdate()
    start = month_starts(today, MONTHS)[0]
    if not user.is_city_wide:
        region = (
            user.region_code or None
        )  # a county regulator's dashboard is their county's (resolve_scope refuses none)
    scope = reports.resolve_scope(user=user, region=region, start=start, end=today)
    classes = reports.class_distribution(scope)
    trend = selectors.trend(user, region=scope.region)
    listings = listings_per_month(scope)
    repairs = reports.repair_figures(scope)
    inspections = reports.inspections(scope)
    from django.utils import translation

    from repair.models import RepairApplication

    with translation.override("zh-hans"):
        kinds = {k: str(v) for k, v in RepairApplication.Kind.choices}
    repair_labels = [kinds[k] for k in repairs["by_kind"]]
    by_class = inspections["by_class"]
    return Dashboard(
        scope=scope,
        region_name=reports.Region.objects.filter(code=scope.region).values_list("name", flat=True).first()
        if scope.region
        else "全市",
        classes=classes,
        trend=trend,
        trend_chart=selectors.trend_svg(trend),
        listings=listings,
        listings_chart=bar_svg(
            listings["months"],
            {"列入": listings["listed"], "移出": listings["removed"]},
            colours={"列入": "#c62828", "移出": "#2e7d32"},
        ),
        repairs=repairs,
        repairs_chart=bar_svg(
            repair_labels,
            {
                "修复（件）": [v["approved"] for v in repairs["by_kind"].values()],
                "平均工作日": [v["average_working_days"] or 0 for v in repairs["by_kind"].values()],
            },
            colours={"修复（件）": "#1565c0", "平均工作日": "#ef6c00"},
        ),
        inspections=inspections,
        inspections_chart=bar_svg(
            [f"{k} 类" for k in "ABCD"],
            {"发现问题占比": [by_class[k]["rate"] or 0 for k in "ABCD"]},
            colours={"发现问题占比": "#6a1b9a"},
            unit="%",
        ),
    )


def problem_rate_note(stats: dict[str, Any]) -> str:
    return "" if stats.get("available") else "抽查检查模块尚未提供数据。"
