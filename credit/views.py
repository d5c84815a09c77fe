"""Public pages of credit: the verification of a printed certificate (/verify/<serial>.<signature>/), the red list
(守信激励), and the entity's own certificate from its portal. Views are thin: credit.certificates, credit.checks and
credit.redlist hold the rules."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from credit import certificates, checks, redlist
from enterprises import identity
from enterprises.models import Enterprise, Region

RED_LIST_PAGE = 50


def _context(**extra):
    return {"bureau_name": settings.PORTAL_BUREAU_NAME, **extra}


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Genuine or not, and what a genuine certificate stated; any made-up input is "not genuine" (never a 500)."""
    result = certificates.verify(token)
    response = render(request, "credit/public/verify.html", _context(result=result, title="证书核验"))
    response["X-Robots-Tag"] = "noindex"
    return response


def red_list(request: HttpRequest) -> HttpResponse:
    """The public red list: entities meeting the red-list policy today, by county, 50 a page (keyset on the code)."""
    today = timezone.localdate()
    counties = list(Region.objects.filter(level=Region.Level.COUNTY, parent_id=settings.PORTAL_CITY_REGION_CODE))
    region = request.GET.get("region", "")
    after = identity.normalize(request.GET.get("after", ""))[:18]
    queryset = Enterprise.objects.all()
    if region and region in {c.code for c in counties}:
        queryset = queryset.filter(region_id=region)
    else:
        region = ""
    rows = list(
        redlist.red_list(on=today, queryset=queryset.filter(uscc__gt=after) if after else queryset)
        .select_related("region")
        .only("uscc", "name", "entity_type", "region__name", "registration_date")
        .order_by("uscc")[: RED_LIST_PAGE + 1]
    )
    has_next = len(rows) > RED_LIST_PAGE
    rows = rows[:RED_LIST_PAGE]
    conditions = redlist.policy_on(today)
    return render(
        request,
        "credit/public/red_list.html",
        _context(
            rows=rows,
            counties=counties,
            region=region,
            next_after=rows[-1].uscc if has_next and rows else "",
            conditions=conditions,
            today=today,
            title="守信激励名单",
        ),
    )


@require_POST
def portal_certificate(request: HttpRequest) -> HttpResponse:
    """The entity downloads its own credit-check certificate (POST: it records a check and a print)."""
    from repair.views import enterprise_required

    return enterprise_required(_portal_certificate)(request)


def _portal_certificate(request: HttpRequest) -> HttpResponse:
    from django.contrib import messages

    try:
        line = checks.check_own(user=request.user)
        printed, pdf = certificates.certificate_print(line=line, actor=request.user, channel="portal")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("repair:dashboard")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(certificates.filename_of(printed))}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
