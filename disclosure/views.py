"""Public pages of disclosure (no login): an entity's credit record at /e/<USCC>/ and the public lists.

The entity page is the registry's (enterprises.views.entity_page: registration facts through its whitelist, the
400/404 pages, the canonical redirect) with the credit-record sections filled from disclosure.selectors. Templates
receive values holding an explicit list of fields (the selectors' Public* records, the rows built here), never model
instances: a field added to a model later cannot reach the public by accident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from disclosure import selectors
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises.models import Enterprise
from enterprises.selectors import SearchKind, parse_search_query
from enterprises.views import PUBLIC_MAX_AGE, CreditSection, entity_page

ENTITY_TEMPLATE = "disclosure/public/entity.html"


# --- display rows ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PenaltyRow:
    """A disclosed penalty as the page shows it: the kinds in words, the fine with its amount."""

    decision_number: str
    violation_type: str
    kinds: list[str]
    content: str
    authority: str
    decision_date: dt.date
    disclosed_until: dt.date


def penalty_row(penalty: selectors.PublicPenalty) -> PenaltyRow:
    kinds = []
    for code, label in selectors.penalty_kinds(penalty.kinds):
        if code == Penalty.Kind.FINE and penalty.fine_amount is not None:
            label = gettext("%(kind)s of %(amount)s yuan") % {
                "kind": label,
                "amount": selectors.format_yuan(penalty.fine_amount),
            }
        kinds.append(label)
    return PenaltyRow(
        decision_number=penalty.decision_number,
        violation_type=penalty.violation_type,
        kinds=kinds,
        content=penalty.content,
        authority=penalty.authority_name,
        decision_date=penalty.decision_date,
        disclosed_until=penalty.disclosed_until,
    )


def credit_sections(record: selectors.PublicRecord) -> list[CreditSection]:
    """The three sections of the public credit record, in the registry page's order and with its titles. The
    abnormal and serious sections render the selectors' published values as they are."""
    return [
        CreditSection(
            "penalties",
            str(_("Administrative penalties")),
            [penalty_row(p) for p in record.penalties],
            "disclosure/public/_penalties.html",
        ),
        CreditSection(
            "abnormal",
            str(_("List of enterprises with abnormal operations")),
            record.abnormal_listings,
            "disclosure/public/_abnormal.html",
        ),
        CreditSection(
            "serious",
            str(_("List of serious illegal and dishonest enterprises")),
            record.serious_listings,
            "disclosure/public/_serious.html",
        ),
    ]


def sections_on(on: dt.date) -> Callable[[Enterprise], list[CreditSection]]:
    def sections(enterprise: Enterprise) -> list[CreditSection]:
        own = credit_sections(selectors.public_record(enterprise=enterprise, on=on))
        # Sections other apps registered (inspection results, …): disclosure does not import them.
        extra = selectors.extra_public_sections(enterprise=enterprise, on=on)
        return own + [CreditSection(s.key, s.title, s.records, s.template) for s in extra]

    return sections


# --- views ----------------------------------------------------------------------------------------------------
@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def entity(request: HttpRequest, uscc: str) -> HttpResponse:
    """`/e/<USCC>/`: the entity's registration facts and its public credit record today."""
    return entity_page(request, uscc=uscc, sections=sections_on(timezone.localdate()), template_name=ENTITY_TEMPLATE)


@dataclass(frozen=True)
class ListRow:
    """One row of a public list page."""

    name: str
    uscc: str
    url: str
    region: str
    reason: str
    decided_on: dt.date | None
    decision_number: str
    authority: str
    listed_until: dt.date | None = None


def _list_row(listing: AbnormalListing | SeriousListing) -> ListRow:
    enterprise = listing.enterprise
    if isinstance(listing, SeriousListing):
        reason, until = selectors.serious_ground_text(ground=listing.ground), listing.listed_until
    else:
        reason = selectors.abnormal_reason_text(entity_type=enterprise.entity_type, reason=listing.reason)
        until = None
    return ListRow(
        name=enterprise.name,
        uscc=enterprise.uscc,
        url=reverse("disclosure:entity", args=[enterprise.uscc]),
        region=enterprise.region.name,
        reason=reason,
        decided_on=listing.decided_on,
        decision_number=listing.decision_number,
        authority=listing.authority_name,
        listed_until=until,
    )


def _public_list(
    request: HttpRequest, *, queryset_of: Callable[..., Any], template_name: str, url_name: str
) -> HttpResponse:
    """A public list page: search by name or code, filter by county, "next page" by keyset (no exact count)."""
    search = parse_search_query(request.GET.get("q", ""))
    regions = selectors.list_regions()
    region_code = request.GET.get("region", "")
    notices: list[str] = []
    if region_code and region_code not in {r.code for r in regions}:
        notices.append(gettext("Unknown region: showing every region."))
        region_code = ""
    page: selectors.ListPage | None = None
    if search.kind is SearchKind.REFUSED:
        notices.append(search.message)
    else:
        if search.message:  # e.g. a code with a wrong check character: still looked up, with the reason
            notices.append(search.message)
        cursor = selectors.Cursor.decode(request.GET.get("after"), forward=True) or selectors.Cursor.decode(
            request.GET.get("before"), forward=False
        )
        public_list = queryset_of(on=timezone.localdate(), search=search, region_code=region_code)
        if public_list.search_truncated:
            notices.append(
                gettext("Many entities match your search; only some are shown. Please enter more of the name.")
            )
        page = selectors.list_page(public_list.queryset, cursor=cursor)
    filters = {k: v for k, v in (("q", search.text), ("region", region_code)) if v}
    context = {
        "bureau_name": settings.PORTAL_BUREAU_NAME,
        "q": search.text,
        "region_code": region_code,
        "regions": regions,
        "notices": notices,
        "refused": search.kind is SearchKind.REFUSED,
        "filtered": bool(filters),
        "rows": [_list_row(row) for row in page.rows] if page else [],
        "page": page,
        "first_url": _query_url(url_name, filters) if page and page.previous_cursor else "",
        "next_url": _query_url(url_name, {**filters, "after": page.next_cursor}) if page and page.next_cursor else "",
        "previous_url": (
            _query_url(url_name, {**filters, "before": page.previous_cursor}) if page and page.previous_cursor else ""
        ),
    }
    return render(request, template_name, context)


def _query_url(url_name: str, params: dict[str, str]) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode(params)}" if params else url


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def abnormal_list(request: HttpRequest) -> HttpResponse:
    """`/abnormal/`: the public abnormal list (经营异常名录) — listings, not the marks of individual businesses."""
    return _public_list(
        request,
        queryset_of=selectors.abnormal_list,
        template_name="disclosure/public/abnormal_list.html",
        url_name="disclosure:abnormal-list",
    )


@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def serious_list(request: HttpRequest) -> HttpResponse:
    """`/serious/`: the public serious illegal and dishonest list (严重违法失信名单), without hidden entries."""
    return _public_list(
        request,
        queryset_of=selectors.serious_list,
        template_name="disclosure/public/serious_list.html",
        url_name="disclosure:serious-list",
    )
