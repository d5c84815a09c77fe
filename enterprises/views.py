"""Public pages of the registry: the search page and an entity's public page (no login).

What the public sees is an explicit whitelist (public_facts): the model carries internal data (risk_class, contact
details, the legal representative's ID number) that must never reach these templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from enterprises import identity
from enterprises.models import Enterprise
from enterprises.selectors import SearchKind, enterprise_search

SEARCH_LIMIT = 20
# Public pages change rarely and are read a lot: shared caches may keep them for a minute (never longer, so a new
# disclosure or a withdrawal shows within a minute — withdrawals are due within 3 working days, seed 000).
PUBLIC_MAX_AGE = 60


@dataclass(frozen=True)
class Fact:
    """One labelled fact of the public registration record."""

    label: str
    value: str
    key: str = ""


@dataclass(frozen=True)
class CreditSection:
    """A section of the public credit record (filled by the disclosure app; empty placeholders until then)."""

    key: str
    title: str
    records: list[Any] = field(default_factory=list)
    # Template rendering `records` (a table); only used when there are records.
    template: str = ""


@dataclass(frozen=True)
class SearchRow:
    name: str
    uscc: str
    entity_type: str
    region: str
    status: str
    status_code: str
    registration_date: str
    url: str


def _base_context() -> dict[str, Any]:
    return {"bureau_name": settings.PORTAL_BUREAU_NAME}


def _capital(value: Decimal | None) -> str:
    """Registered capital in 万元 without trailing zeros ("100", "12.5")."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


def public_facts(enterprise: Enterprise) -> list[Fact]:
    """The registration facts shown to the public, in display order (a whitelist: nothing internal)."""
    individual = enterprise.entity_type == Enterprise.EntityType.INDIVIDUAL
    facts = [
        Fact(_("Unified social credit code"), enterprise.uscc, "uscc"),
        Fact(_("Name"), enterprise.name, "name"),
        Fact(_("Entity type"), str(enterprise.get_entity_type_display()), "entity_type"),
        Fact(_("Operator") if individual else _("Legal representative"), enterprise.legal_representative, "legal_rep"),
        Fact(_("Supervising region"), enterprise.region.name, "region"),
    ]
    if enterprise.industry is not None:
        industry = enterprise.industry
        code = f"{industry.section_id or ''}{industry.code}"
        facts.append(Fact(_("Industry"), f"{industry.name}（{code}）", "industry"))
    capital = _capital(enterprise.registered_capital)
    if capital or not individual:
        # Individual businesses register no capital: the row is left out rather than shown empty.
        facts.append(Fact(_("Registered capital"), f"{capital} 万元" if capital else "—", "capital"))
    facts += [
        Fact(_("Registration date"), date_format(enterprise.registration_date, "DATE_FORMAT"), "registration_date"),
        Fact(_("Registration status"), str(enterprise.get_status_display()), "status"),
    ]
    if enterprise.registration_number:
        facts.append(Fact(_("Registration number"), enterprise.registration_number, "registration_number"))
    # Long values last, on full-width rows.
    facts.append(Fact(_("Business premises") if individual else _("Registered address"), enterprise.address, "address"))
    if enterprise.former_names:
        facts.append(Fact(_("Former names"), "；".join(enterprise.former_names), "former_names"))
    return facts


def default_credit_sections(enterprise: Enterprise) -> list[CreditSection]:
    """The sections of the public credit record, empty until the disclosure app provides them."""
    return [
        CreditSection("penalties", str(_("Administrative penalties"))),
        CreditSection("abnormal", str(_("List of enterprises with abnormal operations"))),
        CreditSection("serious", str(_("List of serious illegal and dishonest enterprises"))),
    ]


def _search_row(enterprise: Enterprise) -> SearchRow:
    return SearchRow(
        name=enterprise.name,
        uscc=enterprise.uscc,
        entity_type=str(enterprise.get_entity_type_display()),
        region=enterprise.region.name,
        status=str(enterprise.get_status_display()),
        status_code=enterprise.status,
        registration_date=enterprise.registration_date.isoformat(),
        url=reverse("enterprises:entity", args=[enterprise.uscc]),
    )


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def search(request: HttpRequest) -> HttpResponse:
    """`/`: the search form and, with `q`, up to SEARCH_LIMIT matches (by USCC, registration number or name)."""
    result = enterprise_search(query=request.GET.get("q", ""), limit=SEARCH_LIMIT)
    searched = result.query.kind is not SearchKind.EMPTY
    context = {
        **_base_context(),
        "q": result.query.text,
        "searched": searched,
        "refused": result.query.kind is SearchKind.REFUSED,
        "message": result.query.message,
        "rows": [_search_row(e) for e in result.results],
        "has_more": result.has_more,
        "limit": result.limit,
    }
    return render(request, "enterprises/public/search.html", context)


def entity_page(
    request: HttpRequest,
    *,
    uscc: str,
    sections: Callable[[Enterprise], list[CreditSection]] = default_credit_sections,
    template_name: str = "enterprises/public/entity.html",
) -> HttpResponse:
    """An entity's public page; the disclosure app reuses it with its own credit-record `sections`.

    A malformed code is a 400 page with the reason, a valid code not in the registry a 404 page; a code typed in
    lower case or with spaces is redirected to its one canonical address (one cache entry, one search-engine URL).
    """
    try:
        code = identity.validate(uscc)
    except identity.InvalidUSCC as exc:
        context = {**_base_context(), "message": str(exc), "code": uscc[:40]}
        return render(request, "400.html", context, status=400)
    if code != uscc:
        return HttpResponsePermanentRedirect(reverse("enterprises:entity", args=[code]))
    enterprise = Enterprise.objects.select_related("region", "industry").filter(uscc=code).first()
    if enterprise is None:
        context = {**_base_context(), "message": f"未找到统一社会信用代码为 {code} 的经营主体。"}
        return render(request, "404.html", context, status=404)
    context = {
        **_base_context(),
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "status": str(enterprise.get_status_display()),
        "status_code": enterprise.status,
        # Individual businesses are run by a natural person whose name is on the page: not for search engines.
        "indexable": enterprise.entity_type != Enterprise.EntityType.INDIVIDUAL,
        "facts": public_facts(enterprise),
        "credit_sections": sections(enterprise),
    }
    return render(request, template_name, context)


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def entity(request: HttpRequest, uscc: str) -> HttpResponse:
    """`/e/<USCC>/`: the entity's public registration facts and (later) its public credit record."""
    return entity_page(request, uscc=uscc)
