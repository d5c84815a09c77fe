"""Public reads of disclosure: what an entity's public credit record shows on a given day, and the public lists.

Every function takes `on`, the day the record is read for (the views pass timezone.localdate()), so a boundary
day is a parameter, not a clock. The conditions are complete in themselves and do not rely on the nightly jobs having
run: a penalty whose `disclosed_until` is past stays off the public record even if the expiry job has not ended its
disclosure yet (DESIGN.md §3.2 "nothing shown after its period"), and the same for serious listings and restrictions.

What is public is decided here and nowhere else: the page (disclosure.views), the JSON API (disclosure.api_public),
credit checks and certificates (credit.checks), repair eligibility (repair.selectors) and the penalty API's
`shown` field all read these functions. The conditions include the invariants that must hold whatever a record says
(never a summary or warning-only penalty, never a restriction of a hidden listing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import Model, Q, QuerySet

from disclosure.models import AbnormalListing, Penalty, Restriction, SeriousListing
from enterprises import identity
from enterprises.masking import mask_id_number
from enterprises.models import Enterprise, Region
from enterprises.selectors import CANDIDATE_LIMIT, SearchKind, SearchQuery, enterprise_search_queryset

M = TypeVar("M", bound=Model)

# Rows per page of the public lists, and how far the "N entries" figure of a first page counts exactly (DESIGN.md
# §4: no exact COUNT(*) over 10^5 listings on every view; counting 10^4 rows cost ~27 ms at 10^5 listings, 10^3 a
# tenth of it; above the cap the page says "more than 1,000" — enough to tell a user to narrow the search).
LIST_PAGE_SIZE = 20
LIST_COUNT_CAP = 1_000
# How many entities matching a name fragment are ranked on a list page (the registry search's cap).
SEARCH_CANDIDATES = CANDIDATE_LIMIT


# ==============================================================================================================
# What is public on day `on` (querysets; each accepts a narrower queryset, e.g. one entity's records)
# ==============================================================================================================


def public_penalties(queryset: QuerySet[Penalty] | None = None, *, on: dt.date) -> QuerySet[Penalty]:
    """Penalties publicly disclosed on `on`: in force (not withdrawn), disclosed, the period begun and not over,
    and the disclosure not ended early (repair, withdrawal: `disclosure_ended_on` takes it off at once, before any
    nightly job; an expired period drops out on the day after `disclosed_until` even if the expiry job has not run).
    Summary-procedure and warning-only penalties are never shown, whatever a record says
    (disclosure.policies.never_disclosed_reason): a row marked `disclosed` by a mistaken correction stays off."""
    queryset = Penalty.objects.all() if queryset is None else queryset
    return queryset.filter(
        ~Q(kinds=[Penalty.Kind.WARNING]),
        procedure=Penalty.Procedure.ORDINARY,
        status=Penalty.Status.IN_FORCE,
        disclosed=True,
        disclosed_from__lte=on,
        disclosed_until__gte=on,
        disclosure_ended_on__isnull=True,
    )


def penalty_shown_on(penalty: Penalty, *, on: dt.date) -> bool:
    """public_penalties() for one loaded row, without a query (an API page of 50 rows asks it 50 times)."""
    return bool(
        penalty.procedure == Penalty.Procedure.ORDINARY
        and list(penalty.kinds or []) != [Penalty.Kind.WARNING]
        and penalty.status == Penalty.Status.IN_FORCE
        and penalty.disclosed
        and penalty.disclosure_ended_on is None
        and penalty.disclosed_from is not None
        and penalty.disclosed_from <= on
        and penalty.disclosed_until is not None
        and penalty.disclosed_until >= on
    )


def _active_abnormal(queryset: QuerySet[AbnormalListing], *, on: dt.date, marks: bool) -> QuerySet[AbnormalListing]:
    return queryset.filter(status=AbnormalListing.Status.LISTED, decided_on__lte=on, is_mark=marks)


def public_abnormal(queryset: QuerySet[AbnormalListing] | None = None, *, on: dt.date) -> QuerySet[AbnormalListing]:
    """Entries on the abnormal list on `on` (enterprises and cooperatives; not the marks of individual businesses)."""
    queryset = AbnormalListing.objects.all() if queryset is None else queryset
    return _active_abnormal(queryset, on=on, marks=False)


def public_marks(queryset: QuerySet[AbnormalListing] | None = None, *, on: dt.date) -> QuerySet[AbnormalListing]:
    """Individual businesses marked abnormal (标记经营异常状态) on `on`: shown on their own record, never on the
    public list."""
    queryset = AbnormalListing.objects.all() if queryset is None else queryset
    return _active_abnormal(queryset, on=on, marks=True)


def public_serious(queryset: QuerySet[SeriousListing] | None = None, *, on: dt.date) -> QuerySet[SeriousListing]:
    """Serious-list entries on `on`: decided, not removed, not hidden, their 3 years not over (even before the
    expiry job has removed them). A notice of intended listing is not public; an early-removed listing is hidden
    together with its removal (DESIGN.md §3.4)."""
    queryset = SeriousListing.objects.all() if queryset is None else queryset
    in_period = Q(listed_until__isnull=True) | Q(listed_until__gte=on)
    return queryset.filter(in_period, stage=SeriousListing.Stage.LISTED, hidden_from_public=False, decided_on__lte=on)


def public_serious_removals(
    queryset: QuerySet[SeriousListing] | None = None, *, on: dt.date
) -> QuerySet[SeriousListing]:
    """Removed serious-list entries the public record may show as history on `on`: never those removed early
    (hidden together with their listing)."""
    queryset = SeriousListing.objects.all() if queryset is None else queryset
    return queryset.filter(stage=SeriousListing.Stage.REMOVED, hidden_from_public=False, decided_on__lte=on)


def active_restrictions(queryset: QuerySet[Restriction] | None = None, *, on: dt.date) -> QuerySet[Restriction]:
    """Restrictions in force on `on`: started, not past their last day, not ended early (removal; `ended_on` is
    the first day no longer in force, and may be recorded ahead of time). Internal: includes restrictions of hidden
    listings — the public record uses public_restrictions()."""
    queryset = Restriction.objects.all() if queryset is None else queryset
    return queryset.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on), starts_on__lte=on, ends_on__gte=on)


def public_restrictions(queryset: QuerySet[Restriction] | None = None, *, on: dt.date) -> QuerySet[Restriction]:
    """Restrictions in force on `on` whose serious listing may be shown: never those of a hidden (early-removed)
    or a revoked listing, nor of a notice that did not lead to a listing, even if their own end was not recorded."""
    return active_restrictions(queryset, on=on).filter(
        ~Q(serious_listing__removal_kind=SeriousListing.RemovalKind.REVOKED),
        serious_listing__hidden_from_public=False,
        serious_listing__stage__in=[SeriousListing.Stage.LISTED, SeriousListing.Stage.REMOVED],
    )


# ==============================================================================================================
# One entity's public record
# ==============================================================================================================


@dataclass(frozen=True)
class PublicPenalty:
    """The summary fields of a disclosed penalty (行政处罚信息公示), and nothing else."""

    decision_number: str
    decision_date: dt.date
    violation_type: str
    kinds: list[str]
    fine_amount: Decimal | None
    content: str
    authority_name: str
    disclosed_from: dt.date
    disclosed_until: dt.date


@dataclass(frozen=True)
class PublicAbnormalListing:
    """An abnormal-list entry, or (is_mark) the abnormal mark of an individual business, as published."""

    reason: str
    reason_text: str  # as worded on the decision, per entity type (disclosure.texts)
    is_mark: bool
    decided_on: dt.date
    decision_number: str
    authority_name: str
    reminder_published_on: dt.date | None


@dataclass(frozen=True)
class PublicRestriction:
    """A restriction in force; a person's ID number is already masked here (enterprises.masking)."""

    serious_listing_id: int
    serious_listing_decision_number: str
    kind: str
    kind_label: str
    person_name: str
    person_id_number: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True)
class PublicSeriousListing:
    """A serious-list entry as published, with the restrictions attached to it."""

    pk: int
    ground: str
    ground_text: str  # as worded on the decision (disclosure.texts)
    decided_on: dt.date
    decision_number: str
    listed_until: dt.date | None
    authority_name: str
    restrictions: list[PublicRestriction] = field(default_factory=list)


@dataclass(frozen=True)
class PublicRecord:
    """Everything the public may see of an entity on `on`: the registration record (enterprise; render it through
    a whitelist such as enterprises.views.public_facts) and its disclosed credit records, newest first.

    The records are plain values holding only the published fields: what is not here cannot be rendered."""

    enterprise: Enterprise
    on: dt.date
    penalties: list[PublicPenalty] = field(default_factory=list)
    abnormal_listings: list[PublicAbnormalListing] = field(default_factory=list)
    serious_listings: list[PublicSeriousListing] = field(default_factory=list)
    restrictions: list[PublicRestriction] = field(default_factory=list)


class UnknownEntity(LookupError):
    """A valid USCC that is not in the registry."""


def public_enterprise(*, uscc: str) -> Enterprise:
    """The entity of a code, with what its public record shows of region and industry.

    Raises identity.InvalidUSCC (a malformed code, with the reason) or UnknownEntity (valid but not registered).
    """
    code = identity.validate(uscc)
    enterprise = Enterprise.objects.select_related("region", "industry").filter(uscc=code).first()
    if enterprise is None:
        raise UnknownEntity(f"未找到统一社会信用代码为 {code} 的经营主体。")
    return enterprise


# The columns the public record reads, and no others (values_list): internal columns (case officer, notes,
# statements, hashes, documents) never leave the database for the public page, and no model instance is built.
PENALTY_COLUMNS = (
    "decision_number", "decision_date", "violation_type", "kinds", "fine_amount", "content", "authority_name",
    "department__name", "disclosed_from", "disclosed_until",
)  # fmt: skip
ABNORMAL_COLUMNS = ("reason", "is_mark", "decided_on", "decision_number", "authority_name", "reminder_published_on")
SERIOUS_COLUMNS = ("pk", "ground", "decided_on", "decision_number", "listed_until", "authority_name")
RESTRICTION_COLUMNS = (
    "serious_listing_id", "serious_listing__decision_number", "kind", "person_name", "person_id_number",
    "starts_on", "ends_on",
)  # fmt: skip


def _same_parameter(value: Any, other: Any) -> bool:
    """Whether two compilations passed the same value (a JSON parameter is an adapter object around the value)."""
    if type(value) is not type(other):
        return False
    if hasattr(value, "adapted"):
        return value.adapted == other.adapted
    return value == other


class PreparedRead:
    """A values_list read of one entity's records on one day, compiled to SQL once per process.

    Django compiles a queryset to SQL at every evaluation; for these small reads through an entity's index that
    is most of their cost (about two thirds of the public record's CPU time, cProfile at 10^6 entities), and the
    public record is the most-read page of the site. The read is built once with placeholder values for the entity
    and the day and once more with other placeholders: if the SQL is the same and the parameters differ exactly
    where the placeholders are, each call swaps in the real values; otherwise (a condition computed from the day,
    say `on - 1 day`) every call goes through the ORM. Django's converters (JSON, decimals) are applied as the
    ORM applies them.
    """

    _PLACEHOLDERS = ((-900_000_001, dt.date(1901, 1, 1)), (-900_000_002, dt.date(1902, 2, 2)))

    def __init__(self, build: Callable[[int, dt.date], QuerySet]) -> None:
        self.build = build
        self._compiled: dict[str, tuple[str, list[Any], Any, list[Any]] | None] = {}

    def _compile(self, using: str) -> tuple[str, list[Any], Any, list[Any]] | None:
        compiled = []
        for entity, day in self._PLACEHOLDERS:
            compiler = self.build(entity, day).query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            compiled.append((sql, list(params), compiler))
        (sql, params, compiler), (other_sql, other_params, _c) = compiled
        (entity, day), (other_entity, other_day) = self._PLACEHOLDERS
        slots: list[Any] = []
        for value, other in zip(params, other_params, strict=True):
            if (value, other) == (entity, other_entity):
                slots.append(entity)
            elif (value, other) == (day, other_day):
                slots.append(day)
            elif _same_parameter(value, other):
                slots.append(value)
            else:
                return None
        if sql != other_sql:
            return None
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        return sql, slots, compiler, compiler.get_converters(fields)

    def rows(self, *, enterprise_id: int, on: dt.date, using: str = "default") -> list[tuple]:
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        prepared = self._compiled[using]
        if prepared is None:
            return list(self.build(enterprise_id, on))
        sql, slots, compiler, converters = prepared
        entity, day = self._PLACEHOLDERS[0]
        params = [enterprise_id if slot == entity else on if slot is day else slot for slot in slots]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows


_PENALTY_ROWS = PreparedRead(
    lambda entity, on: (
        public_penalties(Penalty.objects.filter(enterprise_id=entity), on=on)
        .order_by("-decision_date", "-id")
        .values_list(*PENALTY_COLUMNS)
    )
)
_ABNORMAL_ROWS = PreparedRead(
    lambda entity, on: (
        (
            public_abnormal(AbnormalListing.objects.filter(enterprise_id=entity), on=on)
            | public_marks(AbnormalListing.objects.filter(enterprise_id=entity), on=on)
        )
        .order_by("-decided_on", "-id")
        .values_list(*ABNORMAL_COLUMNS)
    )
)
_SERIOUS_ROWS = PreparedRead(
    lambda entity, on: (
        public_serious(SeriousListing.objects.filter(enterprise_id=entity), on=on)
        .order_by("-decided_on", "-id")
        .values_list(*SERIOUS_COLUMNS)
    )
)
_RESTRICTION_ROWS = PreparedRead(
    lambda entity, on: (
        public_restrictions(Restriction.objects.filter(enterprise_id=entity), on=on)
        .order_by("kind", "-starts_on", "id")
        .values_list(*RESTRICTION_COLUMNS)
    )
)


def public_record(*, enterprise: Enterprise, on: dt.date) -> PublicRecord:
    """The entity's public credit record on `on`: 3 queries whatever the number of records (one per kind), and a
    4th for the restrictions when the entity is on the serious list."""
    penalties = [
        PublicPenalty(
            decision_number=number,
            decision_date=decided,
            violation_type=violation,
            kinds=[code for code, _label in penalty_kinds(kinds)],
            fine_amount=fine,
            content=content,
            authority_name=authority or department,
            disclosed_from=start,
            disclosed_until=until,
        )
        for number, decided, violation, kinds, fine, content, authority, department, start, until in (
            _PENALTY_ROWS.rows(enterprise_id=enterprise.pk, on=on)
        )
    ]
    # An individual business is marked rather than listed; both appear in the entity's abnormal-list section.
    listings = [
        PublicAbnormalListing(
            reason=reason,
            reason_text=abnormal_reason_text(entity_type=enterprise.entity_type, reason=reason),
            is_mark=is_mark,
            decided_on=decided,
            decision_number=number,
            authority_name=authority,
            reminder_published_on=reminder,
        )
        for reason, is_mark, decided, number, authority, reminder in (
            _ABNORMAL_ROWS.rows(enterprise_id=enterprise.pk, on=on)
        )
    ]
    serious = [
        PublicSeriousListing(
            pk=pk,
            ground=ground,
            ground_text=serious_ground_text(ground=ground),
            decided_on=decided,
            decision_number=number,
            listed_until=until,
            authority_name=authority,
        )
        for pk, ground, decided, number, until, authority in _SERIOUS_ROWS.rows(enterprise_id=enterprise.pk, on=on)
    ]

    restrictions: list[PublicRestriction] = []
    if serious:
        # Restrictions apply while the entity is listed (DESIGN.md §3.4): those of its public listings, in force.
        # Most entities are on no serious list, and their page saves this query.
        listed = {s.pk for s in serious}
        labels = dict(Restriction.Kind.choices)
        restrictions = [
            PublicRestriction(
                serious_listing_id=listing_id,
                serious_listing_decision_number=listing_number,
                kind=kind,
                kind_label=str(labels.get(kind, kind)),
                person_name=person,
                person_id_number=mask_id_number(id_number),
                starts_on=starts,
                ends_on=ends,
            )
            for listing_id, listing_number, kind, person, id_number, starts, ends in (
                _RESTRICTION_ROWS.rows(enterprise_id=enterprise.pk, on=on)
            )
            if listing_id in listed
        ]
        for listing in serious:
            listing.restrictions.extend(r for r in restrictions if r.serious_listing_id == listing.pk)

    return PublicRecord(
        enterprise=enterprise,
        on=on,
        penalties=penalties,
        abnormal_listings=listings,
        serious_listings=serious,
        restrictions=restrictions,
    )


# ==============================================================================================================
# Display helpers shared by the page and the API
# ==============================================================================================================


def penalty_kinds(kinds: list[str]) -> list[tuple[str, str]]:
    """The kinds of a penalty as (code, label), in the order of Penalty.Kind (an unknown code labelled as itself)."""
    labels = dict(Penalty.Kind.choices)
    order = {code: i for i, code in enumerate(labels)}
    return [(k, str(labels.get(k, k))) for k in sorted(kinds, key=lambda k: order.get(k, len(order)))]


def abnormal_reason_text(*, entity_type: str, reason: str) -> str:
    """The reason of a listing as printed on its decision and the public record (disclosure.texts, worded per
    entity type: enterprise, cooperative, individual business), or its label where no text exists."""
    text = ""
    try:
        from disclosure import texts

        text = texts.abnormal_reason_text(entity_type, reason)
    except (ImportError, AttributeError):
        pass
    return text or str(dict(AbnormalListing.Reason.choices).get(reason, reason))


def serious_ground_text(*, ground: str) -> str:
    """The ground of a serious listing as printed on its decision (disclosure.texts), or its label."""
    text = ""
    try:
        from disclosure import texts

        text = texts.SERIOUS_GROUND_TEXT.get(ground, "")
    except (ImportError, AttributeError):
        pass
    return text or str(dict(SeriousListing.Ground.choices).get(ground, ground))


def format_yuan(amount: Decimal | None) -> str:
    """An amount in yuan with thousands separators, cents only when there are any ("80,000", "1,234.50")."""
    if amount is None:
        return ""
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


# ==============================================================================================================
# The public lists (经营异常名录, 严重违法失信名单)
# ==============================================================================================================


def list_regions() -> list[Region]:
    """The counties of the city, for the region filter of the public lists."""
    return list(Region.objects.filter(level=Region.Level.COUNTY, parent_id=settings.PORTAL_CITY_REGION_CODE))


@dataclass(frozen=True)
class PublicList(Generic[M]):
    """A public list narrowed to a search and a county, newest decision first, and whether the search matched more
    entities than are ranked (SEARCH_CANDIDATES: the user is asked to narrow the query)."""

    queryset: QuerySet[M]
    search_truncated: bool = False


def _public_list(
    listed: QuerySet[M], *, search: SearchQuery | None, region_code: str, columns: tuple[str, ...]
) -> PublicList[M]:
    if region_code:
        # The county of the deciding office: the services decide in the entity's supervising county (office =
        # enterprise.region at listing). A column of the listing itself: filtering through the enterprise instead
        # would look up an entity per listing scanned (~0.5 s for a small county at 10^5 listings, EXPLAIN).
        listed = listed.filter(office_id=region_code)
    truncated = False
    if search is not None and search.kind is not SearchKind.EMPTY:
        # The registry's search, run over the entities on this list only, so a common fragment ("商贸") ranks its
        # capped candidate set among them, not among 10^6 registered ones (of which few are listed). The ids
        # (at most CANDIDATE_LIMIT + 1) are fetched first: as a subquery, PostgreSQL re-checked them per listing.
        on_list = Enterprise.objects.filter(pk__in=listed.values("enterprise_id"))
        matches = enterprise_search_queryset(query=search, queryset=on_list, candidates=SEARCH_CANDIDATES)
        ids = list(matches.values_list("pk", flat=True))
        truncated = len(ids) >= SEARCH_CANDIDATES
        listed = listed.filter(enterprise_id__in=ids)
    # Listing columns only: the page's few entities are fetched afterwards (list_page), because a join here makes
    # PostgreSQL join every listed row before sorting (0.2 s for 10^4 serious listings, EXPLAIN).
    queryset = listed.only("enterprise_id", "decided_on", "decision_number", "authority_name", *columns)
    return PublicList(queryset=queryset.order_by("-decided_on", "-id"), search_truncated=truncated)


def abnormal_list(
    *, on: dt.date, search: SearchQuery | None = None, region_code: str = ""
) -> PublicList[AbnormalListing]:
    """The public abnormal list on `on` (listings only: individual businesses' marks are on their own record),
    optionally narrowed to a search and a county. Raises ApplicationError for a refused search (see
    enterprises.selectors.enterprise_search_queryset)."""
    return _public_list(public_abnormal(on=on), search=search, region_code=region_code, columns=("reason",))


def serious_list(
    *, on: dt.date, search: SearchQuery | None = None, region_code: str = ""
) -> PublicList[SeriousListing]:
    """The public serious illegal and dishonest list on `on` (not hidden), narrowed like abnormal_list."""
    return _public_list(
        public_serious(on=on), search=search, region_code=region_code, columns=("ground", "listed_until")
    )


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by (decided_on, id) descending: the rows after it (`forward`) or before it."""

    decided_on: dt.date
    pk: int
    forward: bool = True

    def encode(self) -> str:
        return f"{self.decided_on.isoformat()}.{self.pk}"

    @classmethod
    def decode(cls, value: str | None, *, forward: bool) -> Cursor | None:
        """The cursor of a query parameter, or None if it is missing or not one we wrote (then: the first page)."""
        try:
            day, pk = (value or "").split(".")
            return cls(decided_on=dt.date.fromisoformat(day), pk=int(pk), forward=forward)
        except ValueError:
            return None


@dataclass(frozen=True)
class ListPage(Generic[M]):
    """One page of a public list: its rows, cursors to the neighbouring pages, and on the first page the count of
    the whole list capped at LIST_COUNT_CAP (`count_is_exact` False above it; None on the other pages)."""

    rows: list[M]
    next_cursor: str = ""
    previous_cursor: str = ""
    count: int | None = None
    count_is_exact: bool = True


def list_page(queryset: QuerySet[M], *, cursor: Cursor | None, size: int = LIST_PAGE_SIZE) -> ListPage[M]:
    """A page of a (decided_on, id)-descending list of listings by keyset ("next page" links, no OFFSET), so the
    5,000th page costs what the first does; on the first page the capped count of the whole filtered list; and the
    rows' entities (3 queries at most)."""
    if cursor is None:
        rows = list(queryset[: size + 1])
        has_next, has_previous = len(rows) > size, False
        rows = rows[:size]
    elif cursor.forward:
        after = Q(decided_on__lt=cursor.decided_on) | Q(decided_on=cursor.decided_on, pk__lt=cursor.pk)
        # The redundant lte bound gives PostgreSQL an index range; the OR alone would be a filter.
        rows = list(queryset.filter(after, decided_on__lte=cursor.decided_on)[: size + 1])
        has_next, has_previous = len(rows) > size, True
        rows = rows[:size]
    else:
        before = Q(decided_on__gt=cursor.decided_on) | Q(decided_on=cursor.decided_on, pk__gt=cursor.pk)
        reverse = queryset.filter(before, decided_on__gte=cursor.decided_on).reverse()
        rows = list(reverse[: size + 1])
        has_next, has_previous = True, len(rows) > size
        rows = rows[:size][::-1]
    capped = queryset.order_by()[: LIST_COUNT_CAP + 1].count() if cursor is None else None
    # The entities of the page's rows, with what a list row shows of them, in one query.
    entities = (
        Enterprise.objects.select_related("region")
        .only("name", "uscc", "entity_type", "region__name")
        .in_bulk({row.enterprise_id for row in rows})
    )
    for row in rows:
        row.enterprise = entities[row.enterprise_id]

    def key(row: Any) -> str:
        return Cursor(decided_on=row.decided_on, pk=row.pk).encode()

    return ListPage(
        rows=rows,
        next_cursor=key(rows[-1]) if rows and has_next else "",
        previous_cursor=key(rows[0]) if rows and has_previous else "",
        count=None if capped is None else min(capped, LIST_COUNT_CAP),
        count_is_exact=capped is None or capped <= LIST_COUNT_CAP,
    )


# --- sections other apps add to the public record -----------------------------------------------------------------
@dataclass(frozen=True)
class PublicSection:
    """A section another app adds to the entity's public record (e.g. published inspection results), so the
    record page shows it without disclosure importing that app (dependencies run one way, DESIGN.md §2)."""

    key: str
    title: str
    records: list
    template: str


PublicSectionProvider = Callable[[Enterprise, dt.date], PublicSection | None]
_PUBLIC_SECTION_PROVIDERS: dict[str, PublicSectionProvider] = {}


def register_public_section(key: str, provider: PublicSectionProvider) -> None:
    """Register (or replace) the provider of section `key`; apps call this from AppConfig.ready()."""
    _PUBLIC_SECTION_PROVIDERS[key] = provider


def extra_public_sections(*, enterprise: Enterprise, on: dt.date) -> list[PublicSection]:
    """The registered sections for `enterprise` on `on`, in registration order (a provider returns None to
    leave its section out, e.g. when the entity has nothing in it)."""
    sections = (provider(enterprise, on) for provider in _PUBLIC_SECTION_PROVIDERS.values())
    return [s for s in sections if s is not None]
