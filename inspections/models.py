"""Double-random inspections (双随机、一公开, DESIGN.md §3.6): the item list and the inspector roster (一单两库;
the object directory is the registry itself), plans, verifiable draws, tasks, results with evidence, case leads and the
abnormal-list proposals that "not reachable" findings raise.

Nothing is deleted: a draw is immutable once made (a redraw is a new draw that supersedes it, with a reason), a task
of a superseded draw is cancelled, a result is published and then frozen.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, Department
from core.scoping import scoped
from enterprises.models import Enterprise, Industry, KeyArea, Region

RATIO_VALIDATORS = [
    MinValueValidator(Decimal("0"), message="抽查比例不能小于 0%%。"),
    MaxValueValidator(Decimal("100"), message="抽查比例不能大于 100%%。"),
]
RISK_CLASSES = ("A", "B", "C", "D", "")  # "" = not classified yet


def _ratio_field(label: str, default: str) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=5, decimal_places=2, default=Decimal(default), validators=RATIO_VALIDATORS
    )


def _ratio_constraint(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}),
        name=f"plan_{field}_0_100",
        violation_error_message=_("A sampling ratio must lie between 0 % and 100 %."),
    )


def _scoped_by_enterprise(queryset: models.QuerySet, user, path: str = "enterprise") -> models.QuerySet:
    """County scoping by the entity's county (core.scoping, the rule Enterprise.objects.visible_to applies)."""
    return scoped(queryset, user, region_field=f"{path}__region_id")


# --- 一单两库 -------------------------------------------------------------------------------------------------------
class InspectionItem(BaseModel):
    """An item of the spot-check item list (抽查事项清单): what is checked, by which department, on what basis."""

    class Kind(models.TextChoices):
        GENERAL = "general", _("General item")
        KEY = "key", _("Key item")  # key items have no ratio cap (DESIGN.md §3.6)

    code = models.CharField(_("item code"), max_length=40, unique=True)
    name = models.CharField(_("item"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspection_items"
    )
    legal_basis = models.TextField(_("legal basis"))
    kind = models.CharField(_("general or key"), max_length=8, choices=Kind.choices, default=Kind.GENERAL)
    active = models.BooleanField(_("in force"), default=True)

    class Meta:
        ordering = ["department", "code"]
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InspectorQuerySet(models.QuerySet):
    def visible_to(self, user) -> InspectorQuerySet:
        return scoped(self, user, region_field="region_id")

    def with_valid_warrant(self, on: dt.date) -> InspectorQuerySet:
        return self.filter(active=True, warrant_expires_on__gte=on)


class Inspector(BaseModel):
    """A law-enforcement inspector of the roster (执法检查人员名录库)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspector",
    )
    name = models.CharField(_("name"), max_length=50)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspectors"
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="inspectors")
    qualifications = models.ManyToManyField(
        InspectionItem, verbose_name=_("qualified for items"), blank=True, related_name="qualified_inspectors"
    )
    warrant_number = models.CharField(_("warrant number"), max_length=40, unique=True)
    warrant_expires_on = models.DateField(_("warrant valid until"))
    active = models.BooleanField(_("on the roster"), default=True)
    conflicts = models.ManyToManyField(
        Enterprise,
        through="InspectorConflict",
        verbose_name=_("declared conflicts"),
        blank=True,
        related_name="conflicted_inspectors",
    )

    objects = InspectorQuerySet.as_manager()

    class Meta:
        ordering = ["department", "warrant_number"]
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")
        indexes = [models.Index(fields=["department", "active", "warrant_expires_on"], name="inspector_pool_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.warrant_number}）"

    def warrant_valid_on(self, day: dt.date) -> bool:
        return self.active and self.warrant_expires_on >= day


class InspectorConflict(BaseModel):
    """A conflict of interest (回避) the inspector declared with a named entity: never drawn for it."""

    inspector = models.ForeignKey(Inspector, verbose_name=_("inspector"), on_delete=models.PROTECT)
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT)
    reason = models.CharField(_("reason"), max_length=200)
    declared_on = models.DateField(_("declared on"), default=timezone.localdate)

    class Meta:
        ordering = ["inspector", "enterprise"]
        verbose_name = _("declared conflict")
        verbose_name_plural = _("declared conflicts")
        constraints = [
            models.UniqueConstraint(
                fields=["inspector", "enterprise"],
                name="inspector_conflict_once",
                violation_error_message=_("This conflict is already declared."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.inspector_id} ↔ {self.enterprise_id}"


# --- plans ----------------------------------------------------------------------------------------------------------
class PlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanQuerySet:
        """City plans and every county's plans for city-wide roles; a county sees the plans of its own office."""
        return scoped(self, user, region_field="region_id")

    def public(self) -> PlanQuerySet:
        return self.exclude(status=Plan.Status.DRAFT)


class Plan(BaseModel):
    """A spot-check plan: items, scope, per-class sampling ratios (percent), a per-entity yearly cap, dates."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COMMITTED = "committed", _("Seed committed")
        DRAWN = "drawn", _("Drawn")
        PUBLISHED = "published", _("Drawn entities published")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("plan"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    region = models.ForeignKey(
        Region,
        verbose_name=_("organising office"),
        on_delete=models.PROTECT,
        related_name="inspection_plans",
        help_text=_("The city or the county bureau that runs the plan; a county plan draws from its own county."),
    )
    items = models.ManyToManyField(InspectionItem, verbose_name=_("items"), related_name="plans")
    scope_regions = models.ManyToManyField(Region, verbose_name=_("scope: regions"), blank=True, related_name="+")
    scope_industries = models.ManyToManyField(
        Industry, verbose_name=_("scope: industries"), blank=True, related_name="+"
    )
    scope_key_areas = models.ManyToManyField(KeyArea, verbose_name=_("scope: key areas"), blank=True, related_name="+")
    scope_entity_types = models.JSONField(_("scope: entity types"), default=list, blank=True)
    ratio_a = _ratio_field(_("ratio A (%)"), "1")
    ratio_b = _ratio_field(_("ratio B (%)"), "2")
    ratio_c = _ratio_field(_("ratio C (%)"), "10")
    ratio_d = _ratio_field(_("ratio D (%)"), "30")
    ratio_unclassified = _ratio_field(_("ratio, not yet classified (%)"), "2")
    frequency_cap = models.PositiveSmallIntegerField(
        _("inspections per entity per year, at most"),
        default=2,
        validators=[MinValueValidator(1, message="每年抽查次数上限至少为 1。")],
    )
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_on = models.DateField(_("drawn entities published on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT
    )

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-planned_start", "-id"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        indexes = [models.Index(fields=["planned_start", "planned_end"], name="plan_dates_idx")]
        constraints = [
            *[_ratio_constraint(f) for f in ("ratio_a", "ratio_b", "ratio_c", "ratio_d", "ratio_unclassified")],
            models.CheckConstraint(
                condition=Q(planned_end__gte=models.F("planned_start")),
                name="plan_dates_ordered",
                violation_error_message=_("The planned end cannot be before the planned start."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors["planned_end"] = "计划结束日期不能早于开始日期。"
        if self.planned_start and self.year and self.planned_start.year != self.year:
            errors["planned_start"] = "计划开始日期应在计划年度内。"
        bad = [t for t in (self.scope_entity_types or []) if t not in Enterprise.EntityType.values]
        if bad:
            errors["scope_entity_types"] = f"未知的主体类型：{'、'.join(map(str, bad))}"
        if errors:
            raise ValidationError(errors)

    def ratio_for(self, risk_class: str) -> Decimal:
        return {
            "A": self.ratio_a,
            "B": self.ratio_b,
            "C": self.ratio_c,
            "D": self.ratio_d,
        }.get(risk_class, self.ratio_unclassified)

    @property
    def active_draw(self) -> Draw | None:
        return self.draws.filter(status=Draw.Status.DRAWN).order_by("-number").first()


# --- draws ----------------------------------------------------------------------------------------------------------
class Draw(BaseModel):
    """One draw of a plan. The seed's SHA-256 commitment is public from creation, the seed itself after the draw.

    Immutable once drawn: snapshot, roster and result hashes, algorithm version and operator never change (save()
    refuses); a redraw is a new row with `redraw_of` and a reason, and this one becomes superseded.
    """

    class Status(models.TextChoices):
        COMMITTED = "committed", _("Seed committed")
        DRAWN = "drawn", _("Drawn")
        SUPERSEDED = "superseded", _("Superseded by a redraw")
        ABANDONED = "abandoned", _("Abandoned before drawing")

    FROZEN = (
        "plan_id", "number", "commitment", "seed", "algorithm", "snapshot_hash", "snapshot_size", "roster_hash",
        "result_hash", "drawn_at", "operator_id", "redraw_of_id", "redraw_reason",
    )  # fmt: skip

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="draws")
    number = models.PositiveSmallIntegerField(_("draw number"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COMMITTED)
    commitment = models.CharField(_("seed commitment (SHA-256)"), max_length=64)
    # Secret until revealed: never on a public page or API answer while `revealed_at` is empty.
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    revealed_at = models.DateTimeField(_("seed revealed at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("committed at"), default=timezone.now)
    algorithm = models.CharField(_("algorithm version"), max_length=20, blank=True)
    snapshot_hash = models.CharField(_("population snapshot hash (SHA-256)"), max_length=64, blank=True)
    snapshot_size = models.PositiveIntegerField(_("entities in the snapshot"), default=0)
    roster_hash = models.CharField(_("roster snapshot hash (SHA-256)"), max_length=64, blank=True)
    result_hash = models.CharField(_("result hash (SHA-256)"), max_length=64, blank=True)
    strata = models.JSONField(_("strata"), default=dict, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    redraw_of = models.OneToOneField(
        "self", verbose_name=_("redraw of"), null=True, blank=True, on_delete=models.PROTECT, related_name="redrawn_by"
    )
    redraw_reason = models.TextField(_("reason for the redraw"), blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "-number"]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="draw_number_per_plan"),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status="committed"),
                name="draw_one_committed_per_plan",
                violation_error_message=_("This plan already has a committed seed waiting for its draw."),
            ),
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status="drawn"),
                name="draw_one_in_force_per_plan",
                violation_error_message=_("This plan already has a draw in force."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.number}"

    @property
    def public_seed(self) -> str:
        return self.seed if self.revealed_at else ""

    def save(self, *args, **kwargs) -> None:
        if self.pk and not self._state.adding:
            stored = Draw.objects.filter(pk=self.pk).values(*self.FROZEN).first()
            if stored and stored["drawn_at"] is not None:
                changed = [f for f in self.FROZEN if stored[f] != getattr(self, f)]
                if changed:
                    raise ValidationError(
                        f"抽取结果不可更改（{', '.join(changed)}）；如需重新抽取，请发起重抽并说明理由。"
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("抽取记录不可删除。")


class DrawSnapshot(models.Model):
    """The frozen population and roster a draw ran on (zlib-compressed canonical text; hashes on the draw).

    Internal: the population lines carry risk classes, which are never public (DESIGN.md §3.5).
    """

    draw = models.OneToOneField(Draw, verbose_name=_("draw"), on_delete=models.PROTECT, related_name="snapshot")
    population = models.BinaryField(_("population (compressed)"))
    roster = models.BinaryField(_("roster (compressed)"))

    class Meta:
        verbose_name = _("draw snapshot")
        verbose_name_plural = _("draw snapshots")

    def __str__(self) -> str:
        return f"snapshot of {self.draw_id}"


# --- tasks and results ----------------------------------------------------------------------------------------------
class TaskQuerySet(models.QuerySet):
    def visible_to(self, user) -> TaskQuerySet:
        """County scoping by the entity's county; an inspector sees only the tasks assigned to them."""
        if user is not None and user.is_authenticated and user.role == "inspector" and not user.is_superuser:
            return self.filter(assignments__inspector__user=user).distinct()
        return _scoped_by_enterprise(self, user)

    def active(self) -> TaskQuerySet:
        return self.exclude(status=Task.Status.CANCELLED)


class Task(BaseModel):
    """One drawn entity of a draw: visited once by the inspectors assigned (≥ 2, per department in joint plans)."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        DONE = "done", _("Result recorded")
        CANCELLED = "cancelled", _("Cancelled by a redraw")

    # No database FK constraints on the rows a draw bulk-writes (tasks and assignments): at 10^6 entities the
    # deferred per-row FK triggers took 3.8 s of a 9.5 s draw, at its COMMIT. The draw checks the same
    # thing set-based, locking inspectors and departments as an FK check would (services.draws._check_references);
    # on_delete=PROTECT still guards deletes made through the ORM. No index of their own where a composite one
    # leads with the column: task_once_per_draw (draw, enterprise), task_enterprise_idx (enterprise, status),
    # assignment_once (task, …).
    draw = models.ForeignKey(
        Draw,
        verbose_name=_("draw"),
        on_delete=models.PROTECT,
        related_name="tasks",
        db_constraint=False,
        db_index=False,
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="tasks", db_constraint=False
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("market entity"),
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
        db_constraint=False,
        db_index=False,
    )
    # The class the entity had in the draw's snapshot (internal): the statistics compare findings by it.
    risk_class = models.CharField(_("risk class at draw"), max_length=1, blank=True)
    position = models.PositiveIntegerField(_("position in the draw"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ASSIGNED)
    inspectors = models.ManyToManyField(
        Inspector, through="TaskAssignment", verbose_name=_("inspectors"), related_name="tasks"
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["draw", "position"]
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")
        constraints = [models.UniqueConstraint(fields=["draw", "enterprise"], name="task_once_per_draw")]
        indexes = [models.Index(fields=["enterprise", "status"], name="task_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.enterprise_id}"


class TaskAssignment(models.Model):
    """An inspector drawn for a task, for one department of the plan."""

    # No database FK constraints, see Task.draw.
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        on_delete=models.PROTECT,
        related_name="assignments",
        db_constraint=False,
        db_index=False,
    )
    inspector = models.ForeignKey(
        Inspector,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        related_name="assignments",
        db_constraint=False,
    )
    # No index: a handful of departments, never filtered on alone, and one index fewer to write per assignment.
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, db_constraint=False, db_index=False
    )

    class Meta:
        ordering = ["task", "department", "inspector"]
        verbose_name = _("task assignment")
        verbose_name_plural = _("task assignments")
        constraints = [models.UniqueConstraint(fields=["task", "inspector"], name="assignment_once")]

    def __str__(self) -> str:
        return f"{self.task_id} ← {self.inspector_id}"


class ResultQuerySet(models.QuerySet):
    def visible_to(self, user) -> ResultQuerySet:
        if user is not None and user.is_authenticated and user.role == "inspector" and not user.is_superuser:
            return self.filter(task__assignments__inspector__user=user).distinct()
        return _scoped_by_enterprise(self, user)

    def published(self) -> ResultQuerySet:
        return self.filter(published_on__isnull=False)

    def shown(self, on: dt.date | None = None) -> ResultQuerySet:
        """Published and still on the public record on day `on` (not stopped by a credit repair)."""
        on = on or timezone.localdate()
        return self.filter(published_on__isnull=False, published_on__lte=on).filter(
            Q(publication_stopped_on__isnull=True) | Q(publication_stopped_on__gt=on)
        )

    def overdue(self, on: dt.date | None = None) -> ResultQuerySet:
        return self.filter(published_on__isnull=True, publication_due__lt=on or timezone.localdate())


class Result(BaseModel):
    """The result of one task with a standard outcome; published on the entity's record within 20 working days."""

    class Outcome(models.TextChoices):
        NO_PROBLEM = "no_problem", _("No problem found")
        PROBLEM = "problem", _("Problem found, ordered to correct")
        NOT_REACHABLE = "not_reachable", _("Not reachable at the registered address")
        REFUSED = "refused", _("Refused inspection")
        NOT_OPERATING = "not_operating", _("Not operating")
        CLOSED = "closed", _("Deregistered or licence revoked")
        OTHER = "other", _("Other")

    PUBLICATION_WORKING_DAYS = 20

    task = models.OneToOneField(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="result")
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="results")
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="inspection_results"
    )
    inspected_on = models.DateField(_("inspected on"))
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    problem_found = models.BooleanField(_("problem found"), default=False, editable=False)
    details = models.TextField(_("findings"), blank=True)
    recorded_by = models.ForeignKey(
        Inspector, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="results"
    )
    publication_due = models.DateField(_("publish by"))
    published_on = models.DateField(_("published on"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # Credit repair of a negative result (2025 rules, repair app): the result stays on file but is no longer shown
    # on the public record from this day; a revoked repair clears it again (both audited).
    publication_stopped_on = models.DateField(_("no longer shown from"), null=True, blank=True, editable=False)
    publication_stop_note = models.CharField(_("why no longer shown"), max_length=255, blank=True, editable=False)

    objects = ResultQuerySet.as_manager()

    NEGATIVE_OUTCOMES = frozenset({Outcome.PROBLEM, Outcome.NOT_REACHABLE, Outcome.REFUSED, Outcome.NOT_OPERATING})

    class Meta:
        ordering = ["enterprise", "-inspected_on"]
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        indexes = [
            models.Index(fields=["enterprise", "inspected_on"], name="result_enterprise_idx"),
            models.Index(fields=["inspected_on"], name="result_inspected_idx"),
            models.Index(fields=["published_on", "publication_due"], name="result_publication_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.inspected_on} {self.get_outcome_display()}"

    def save(self, *args, **kwargs) -> None:
        self.problem_found = self.outcome == self.Outcome.PROBLEM
        super().save(*args, **kwargs)

    @property
    def is_overdue(self) -> bool:
        return self.published_on is None and self.publication_due < timezone.localdate()


class Evidence(BaseModel):
    """A file (photo, record, document) attached to a result."""

    result = models.ForeignKey(Result, verbose_name=_("result"), on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(_("file"), upload_to="inspections/evidence/%Y/%m/")
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["result", "created_at"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.description or self.file.name


class CaseLeadQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseLeadQuerySet:
        return _scoped_by_enterprise(self, user)


class CaseLead(BaseModel):
    """A problem found in an inspection, handed on as a case lead (案件线索)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CASE_OPENED = "case_opened", _("Case opened")
        CLOSED = "closed", _("Closed without a case")

    result = models.OneToOneField(Result, verbose_name=_("result"), on_delete=models.PROTECT, related_name="case_lead")
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT)
    summary = models.TextField(_("summary"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    closed_note = models.TextField(_("closing note"), blank=True)

    objects = CaseLeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case lead")
        verbose_name_plural = _("case leads")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.get_status_display()}"


class AbnormalProposalQuerySet(models.QuerySet):
    def visible_to(self, user) -> AbnormalProposalQuerySet:
        return _scoped_by_enterprise(self, user)


class AbnormalProposal(BaseModel):
    """A "not reachable" finding proposed for the abnormal list; a regulator confirms it (disclosure lists it) or
    dismisses it with a reason (e.g. the 歇业 or force-majeure tolerance of seed 000 §7)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed: listed")
        DISMISSED = "dismissed", _("Dismissed")

    result = models.OneToOneField(
        Result, verbose_name=_("result"), on_delete=models.PROTECT, related_name="abnormal_proposal"
    )
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    listing = models.ForeignKey(
        "disclosure.AbnormalListing",
        verbose_name=_("listing"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = AbnormalProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("abnormal-list proposal")
        verbose_name_plural = _("abnormal-list proposals")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.get_status_display()}"
