"""Reads of the registry that are more than a filter: the public/API search and scoped querysets.

Search at 10^6 entities (DESIGN §4) must never count or sort every match: a name fragment like "有限公司" matches most
of the registry. Every branch below therefore reaches its rows through an index and a bounded candidate set.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length

from core.errors import ApplicationError
from core.models import User
from enterprises import identity
from enterprises.models import AnnualReport, Enterprise

MIN_NAME_CHARS = 2
MAX_QUERY_CHARS = 100
# How many matches of a name fragment are ranked at most. Dense fragments ("有限公司", "商贸") match 10^5 rows; ranking
# all of them (ORDER BY length(name)) would read and sort them all. A user who sees "more than 20" narrows the query.
CANDIDATE_LIMIT = 200

_FULLWIDTH_ALNUM = {
    **{cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)},  # ０-９
    **{cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)},  # Ａ-Ｚ
    **{cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)},  # ａ-ｚ
    0x3000: 0x20,  # ideographic space
}


class SearchKind(enum.StrEnum):
    EMPTY = "empty"
    USCC = "uscc"
    REGISTRATION_NUMBER = "registration_number"
    NAME = "name"
    REFUSED = "refused"


@dataclass(frozen=True)
class SearchQuery:
    """A search input after normalisation, and what it will be matched against."""

    text: str
    kind: SearchKind
    # Why a query is refused (kind REFUSED), or a hint shown with the results (e.g. a code with a bad check char).
    message: str = ""


@dataclass(frozen=True)
class SearchResult:
    """At most `limit` entities, best first, and whether more matched (no exact count: see module docstring)."""

    query: SearchQuery
    results: list[Enterprise] = field(default_factory=list)
    has_more: bool = False
    limit: int = 20


def normalize_query(raw: str | None) -> str:
    """Strip, collapse whitespace and turn fullwidth letters, digits and spaces into halfwidth ones.

    Fullwidth punctuation is kept as typed: enterprise names are registered with fullwidth brackets （）.
    """
    text = (raw or "").translate(_FULLWIDTH_ALNUM)
    return " ".join(text.split())


def parse_search_query(raw: str | None) -> SearchQuery:
    """Classify a search input: a USCC, a legacy 15-digit registration number, or a name fragment."""
    text = normalize_query(raw)
    if not text:
        return SearchQuery(text="", kind=SearchKind.EMPTY)
    if len(text) > MAX_QUERY_CHARS:
        return SearchQuery(text=text[:MAX_QUERY_CHARS], kind=SearchKind.REFUSED, message="查询内容过长，请缩短后重试")
    code = text.replace(" ", "").upper()
    if len(code) == 18 and code.isascii() and code.isalnum():
        try:
            identity.validate(code)
        except identity.InvalidUSCC as exc:
            if all(c in identity.ALPHABET for c in code):
                # Still looked up (cheap, exact); the message tells the user why nothing is likely to match.
                return SearchQuery(text=code, kind=SearchKind.USCC, message=str(exc))
            if code[2:8].isdigit():
                # A division code in positions 3-8 but an I, O, S, V or Z: meant as a code, impossible as one.
                return SearchQuery(text=code, kind=SearchKind.REFUSED, message=str(exc))
        else:
            return SearchQuery(text=code, kind=SearchKind.USCC)
    if len(code) == 15 and code.isascii() and code.isdigit():
        return SearchQuery(text=code, kind=SearchKind.REGISTRATION_NUMBER)
    if len(text) < MIN_NAME_CHARS:
        return SearchQuery(text=text, kind=SearchKind.REFUSED, message=f"请输入至少 {MIN_NAME_CHARS} 个字")
    return SearchQuery(text=text, kind=SearchKind.NAME)


def _has_trigram(text: str) -> bool:
    """Whether pg_trgm can extract a trigram from LIKE '%text%' that narrows the index scan.

    pg_trgm splits on non-word characters and, next to a wildcard, pads nothing; so a fragment needs a run of 3 word
    characters (Chinese characters are word characters under the C.UTF-8 ctype the cluster is created with).
    Python's isalnum() agrees with glibc's iswalnum() closely enough: a disagreement costs speed, never correctness.
    """
    run = 0
    for char in text:
        run = run + 1 if char.isalnum() else 0
        if run >= 3:
            return True
    return False


def _bigrams(text: str) -> list[str]:
    return list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))


def _name_condition(text: str, vendor: str) -> Q:
    """The WHERE clause of a name fragment over the name and the former names (both in search_text/name_grams)."""
    if vendor != "postgresql":
        # SQLite (the demo default): a scan; Django's LIKE escapes %, _ and \ so they match literally.
        return Q(search_text__icontains=text)
    if len(text) == 2:
        # Trigrams cannot serve 2 characters (common in Chinese: 恒泰, 晋中): the jsonb GIN index of name bigrams can.
        # The literal is matched exactly, so % and _ need no escaping.
        return Q(name_grams__contains=[text])
    if _has_trigram(text):
        # pg_trgm GIN index ent_search_trgm_idx; contains (LIKE, case-sensitive) keeps it usable, icontains would not.
        return Q(search_text__contains=text)
    # 3+ characters without a run of 3 word characters ("%%%", "A&B", "恒 泰"): trigrams would match every row of the
    # index. Every bigram of the fragment is in the bigrams of the name that contains it, so the bigram index narrows
    # the rows and LIKE re-checks the order of the characters.
    return Q(name_grams__contains=_bigrams(text)) & Q(search_text__contains=text)


def enterprise_search_queryset(
    *, query: SearchQuery | str, queryset: QuerySet[Enterprise] | None = None, candidates: int = CANDIDATE_LIMIT
) -> QuerySet[Enterprise]:
    """The entities matching a search input, best first: an exact name first, then shorter names, then by USCC.

    A name fragment ranks at most `candidates` matches (plus the entity of exactly that name), fetched without an
    ORDER BY so PostgreSQL can stop at the first `candidates` index hits; only those are sorted. Raises
    ApplicationError for a refused query (1 character, too long, an impossible code).
    """
    parsed = query if isinstance(query, SearchQuery) else parse_search_query(query)
    base = Enterprise.objects.all() if queryset is None else queryset
    if parsed.kind is SearchKind.REFUSED:
        raise ApplicationError(parsed.message, code="invalid_search")
    if parsed.kind is SearchKind.EMPTY:
        return base.none()
    if parsed.kind is SearchKind.USCC:
        return base.filter(uscc=parsed.text).order_by("uscc")
    if parsed.kind is SearchKind.REGISTRATION_NUMBER:
        return base.filter(registration_number=parsed.text).order_by("uscc")

    text = parsed.text
    vendor = connections[base.db].vendor
    # order_by() clears Meta.ordering: an ORDER BY uscc inside the LIMIT would walk the whole uscc index.
    fragment = base.filter(_name_condition(text, vendor)).order_by().values("pk")[:candidates]
    exact = base.filter(name=text).order_by().values("pk")
    # On PostgreSQL, UNION ALL keeps both branches on their own index (an OR of two IN would scan the table);
    # SQLite cannot put a LIMIT inside a compound select, and scans anyway.
    pool = Q(pk__in=exact.union(fragment, all=True)) if vendor == "postgresql" else Q(pk__in=exact) | Q(pk__in=fragment)
    return (
        base.filter(pool)
        .annotate(
            search_exact=Case(When(name=text, then=Value(0)), default=Value(1), output_field=IntegerField()),
            search_name_length=Length("name"),
        )
        .order_by("search_exact", "search_name_length", "uscc")
    )


def enterprise_search(*, query: str, limit: int = 20, queryset: QuerySet[Enterprise] | None = None) -> SearchResult:
    """Search by USCC, legacy registration number or name fragment, for the public page.

    Fetches `limit + 1` rows to know whether there are more, never a COUNT(*). A refused query (1 character, an
    impossible code) comes back with its message and no results instead of an error.
    """
    parsed = parse_search_query(query)
    if parsed.kind in (SearchKind.EMPTY, SearchKind.REFUSED):
        return SearchResult(query=parsed, limit=limit)
    base = Enterprise.objects.all() if queryset is None else queryset
    rows = list(
        enterprise_search_queryset(query=parsed, queryset=base.select_related("region", "industry"))[: limit + 1]
    )
    return SearchResult(query=parsed, results=rows[:limit], has_more=len(rows) > limit, limit=limit)


def annual_reports_visible_to(user: User | AnonymousUser | None) -> QuerySet[AnnualReport]:
    """The annual reports of the entities `user` may see (scoping decided by Enterprise.objects.visible_to only)."""
    visible = Enterprise.objects.visible_to(user)
    if not visible.query.where:
        # The whole registry: no semi-join (counting 2·10^6 reports through one takes ~1.6 s instead of ~0.16 s).
        return AnnualReport.objects.all()
    return AnnualReport.objects.filter(enterprise__in=visible.values("pk"))
