"""Credit-risk classification (信用风险分类, DESIGN.md §3.5): versioned indicator models, the current result of every
entity with its explanation, the history of class changes, the runs that compute them, and monthly snapshots.

The class itself is also stored on `enterprises.Enterprise.risk_class` (written only here, by credit.engine), so that
inspections can read it without importing credit. It is internal: never on public pages, the public API,
certificates, or anything an enterprise sees.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, User
from core.scoping import scoped
from disclosure.models import ScopedByEnterpriseQuerySet
from enterprises.models import Enterprise, Region

CLASSES = ("A", "B", "C", "D")


class ModelVersion(BaseModel):
    """One version of the indicator model: indicators with weights and parameters, hard rules, score bands.

    A draft may be edited and run in shadow; adopting it makes it live (the previous live version is superseded).
    Live and superseded versions are immutable: a change is a new version that supersedes them.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (candidate)")
        LIVE = "live", _("Live")
        SUPERSEDED = "superseded", _("Superseded")

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", "版本代码只能包含字母、数字、点、下划线和连字符")],
        help_text=_("e.g. 2026.1"),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    # {"indicators": [{"code", "weight", "params"}], "hard_rules": [{"indicator", "min_value", "min_class"}],
    #  "bands": [{"class", "min", "max"}]} — validated by credit.rules.validate_spec (see docs/CHECKLISTS.md).
    spec = models.JSONField(_("specification"), default=dict)
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("supersedes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("adopted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("risk model version")
        verbose_name_plural = _("risk model versions")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="live"),
                name="credit_one_live_model",
                violation_error_message=_("Only one model version can be live."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def clean(self) -> None:
        from credit.rules import SpecError, validate_spec

        try:
            validate_spec(self.spec)
        except SpecError as exc:
            raise ValidationError({"spec": exc.messages}) from exc
        if self.pk is not None:
            stored = ModelVersion.objects.filter(pk=self.pk).values("status", "spec").first()
            if stored and stored["status"] != self.Status.DRAFT and stored["spec"] != self.spec:
                raise ValidationError({"spec": "已启用或已被取代的模型版本不能修改，请新建版本取代它"})


class Run(BaseModel):
    """One reclassification for one day: live (writes classes), shadow (a candidate version, counts only) or
    history (the live version replayed on an earlier day's facts, counts only, for the monthly trend)."""

    class Mode(models.TextChoices):
        LIVE = "live", _("Live")
        SHADOW = "shadow", _("Shadow")
        HISTORY = "history", _("Monthly history (replayed)")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: another run holds the lock")

    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="runs"
    )
    as_of = models.DateField(_("data as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=40, blank=True, help_text=_("beat, command, admin …"))
    chunk_size = models.PositiveIntegerField(_("chunk size"), default=10_000)
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    # entities, class_changes, result_changes (live); entities, would_change (shadow)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # {region code: {"A": n, "B": n, "C": n, "D": n}} of the classes this run gives
    distribution = models.JSONField(_("distribution"), default=dict, blank=True)
    # {region code: {old class or "": {new class: n}}}: the live class before → this run's class
    migration = models.JSONField(_("migration matrix"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("reclassification run")
        verbose_name_plural = _("reclassification runs")
        indexes = [models.Index(fields=["status", "mode"], name="credit_run_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.model_version.code} {self.as_of}（{self.get_status_display()}）"


class Chunk(models.Model):
    """One id range of a run. Processed in one transaction together with its results, then marked done: a worker
    killed mid-chunk leaves it pending, and whoever comes next redoes it (credit.engine.process_next_chunk)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="chunks")
    first_id = models.BigIntegerField(_("first entity id"))
    last_id = models.BigIntegerField(_("last entity id"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # [[region, old class, new class, count], …] and the change counts of the chunk
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["run", "first_id"]
        verbose_name = _("run chunk")
        verbose_name_plural = _("run chunks")
        constraints = [models.UniqueConstraint(fields=["run", "first_id"], name="credit_chunk_unique")]
        indexes = [models.Index(fields=["run", "status"], name="credit_chunk_status_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} [{self.first_id}, {self.last_id}]"


class ListedPerson(models.Model):
    """Scratch rows of one run: the legal representatives (by ID number) of entities that are listed on the
    abnormal or serious list on the run's day, for the related-party indicator (one pass per run instead of a
    scan per chunk; the registry has no index on the ID number). Emptied when the run ends."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    id_number = models.CharField(max_length=18)
    enterprise_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["run", "id_number"], name="credit_listed_person_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.enterprise_id}"


class RiskResult(models.Model):
    """The current classification of one entity: class, score, each indicator's contribution, hard rule, model
    version and the data date. Rewritten only when something in it changes."""

    enterprise = models.OneToOneField(
        Enterprise,
        verbose_name=_("market entity"),
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="risk_result",
    )
    risk_class = models.CharField(_("risk class"), max_length=1, choices=Enterprise.RiskClass.choices)
    score = models.IntegerField(_("score"))
    # {indicator code: [feature value, points]} for every indicator that contributes (points ≠ 0)
    contributions = models.JSONField(_("contributions"), default=dict)
    # The feature values of the model's terms, in order ("1,0,3,…"): with the model version they decide the
    # contributions; the nightly run compares this, not the JSON (credit.engine._signature_sql).
    signature = models.CharField(_("feature signature"), max_length=500, blank=True, editable=False)
    hard_rule = models.CharField(_("hard rule applied"), max_length=40, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("data as of"))
    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise"]
        verbose_name = _("risk classification")
        verbose_name_plural = _("risk classifications")
        indexes = [models.Index(fields=["risk_class"], name="credit_result_class_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.risk_class}"


class ClassChange(models.Model):
    """One change of an entity's class (the first classification included): append-only history."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="risk_class_changes"
    )
    old_class = models.CharField(_("old class"), max_length=1, blank=True)
    new_class = models.CharField(_("new class"), max_length=1)
    score = models.IntegerField(_("score"))
    model_version = models.ForeignKey(
        ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT, related_name="+"
    )
    run = models.ForeignKey(Run, verbose_name=_("run"), on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField(_("data as of"))
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("risk-class change")
        verbose_name_plural = _("risk-class changes")
        indexes = [
            models.Index(fields=["enterprise", "changed_at"], name="credit_change_enterprise_idx"),
            # The history list, newest first, at 10^6 rows (a sort of the whole table otherwise).
            models.Index(fields=["changed_at", "id"], name="credit_change_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.old_class or '-'}→{self.new_class}"


class Snapshot(models.Model):
    """The distribution of one county at the end of a month (the last live run of the month), for the trend."""

    month = models.DateField(_("month"), help_text=_("first day of the month"))
    region = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    a = models.PositiveIntegerField("A", default=0)
    b = models.PositiveIntegerField("B", default=0)
    c = models.PositiveIntegerField("C", default=0)
    d = models.PositiveIntegerField("D", default=0)
    run = models.ForeignKey(Run, verbose_name=_("run"), null=True, blank=True, on_delete=models.PROTECT)
    model_version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), on_delete=models.PROTECT)

    class Meta:
        ordering = ["month", "region"]
        verbose_name = _("monthly risk-class snapshot")
        verbose_name_plural = _("risk-class dashboard")
        constraints = [models.UniqueConstraint(fields=["month", "region"], name="credit_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_id}"

    @property
    def total(self) -> int:
        return self.a + self.b + self.c + self.d


# ==============================================================================================================
# Credit checks (信用核查) and their certificates, warnings (失信警示), the red list (守信激励) — DESIGN.md §3.8
# ==============================================================================================================


# Roles that see only the checks they requested themselves: another department's officer checks the entities of
# their own procurement or funding case, not what the bureau or a colleague checked (issue 7).
OWN_CHECKS_ONLY_ROLES = frozenset({User.Role.CHECK_OFFICER})


class CreditCheckQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditCheckQuerySet:
        """Checks are seen by whoever may see their requester's scope: the city roles all, a county its own; a
        credit-check officer (another department's staff) only the checks they requested."""
        queryset = scoped(self, user, region_field="region_code")
        if getattr(user, "role", "") in OWN_CHECKS_ONLY_ROLES and not user.is_superuser:
            queryset = queryset.filter(requested_by=user)
        return queryset


class CreditCheck(BaseModel):
    """One credit check (信用核查): a single entity or a batch, for a purpose and a period, by a staff user."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single entity")
        BATCH = "batch", _("Batch")

    class Purpose(models.TextChoices):
        PROCUREMENT = "procurement", _("Government procurement")
        TENDERING = "tendering", _("Tendering and bidding")
        LAND = "land", _("State-owned land transfer")
        FUNDING = "funding", _("Government funding or subsidies")
        HONOURS = "honours", _("Honours and awards")
        QUALIFICATION = "qualification", _("Qualification review")
        SELF = "self", _("Requested by the entity itself")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    purpose_note = models.CharField(_("purpose details"), max_length=200, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    # The day the public record is read for: the period's last day (never after the day of the check).
    reference_date = models.DateField(_("record as of"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    # The requester's county ("" for city-wide roles): the check sees only entities of this scope.
    region_code = models.CharField(_("scope"), max_length=6, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    job = models.ForeignKey(
        "core.Job", verbose_name=_("background job"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Input rows that are not entities to check (blank, duplicate): [{"row", "value", "message"}].
    input_notes = models.JSONField(_("input notes"), default=list, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    objects = CreditCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="credit_check_period_order",
                violation_error_message=_("The period must not end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}（{self.get_purpose_display()}）"


class CheckLine(BaseModel):
    """One entry of a check: an entity found and its public facts, or a code that could not be checked (malformed,
    unknown, outside the requester's county) — listed in the result, never dropped."""

    class Outcome(models.TextChoices):
        RECORDS = "records", _("Records found")
        NO_RECORD = "no_record", _("No record found")
        MALFORMED = "malformed", _("Malformed code")
        UNKNOWN = "unknown", _("Not in the registry")
        OUT_OF_SCOPE = "out_of_scope", _("Not in your county")

    CHECKED = (Outcome.RECORDS, Outcome.NO_RECORD)

    check_run = models.ForeignKey(
        CreditCheck, verbose_name=_("credit check"), on_delete=models.PROTECT, related_name="lines"
    )
    position = models.PositiveIntegerField(_("row"))
    raw_value = models.CharField(_("input"), max_length=100)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices)
    message = models.CharField(_("message"), max_length=255, blank=True)
    red_listed = models.BooleanField(_("on the red list"), default=False)
    # What the certificate states, as stated (credit.checks.gather_facts): reprints and the verification page read
    # this, never the live records, so a certificate says the same thing whenever it is printed or verified.
    facts = models.JSONField(_("facts stated"), default=dict, blank=True)
    digest = models.CharField(_("content digest"), max_length=64, blank=True)
    # P|B + YYYYMMDD + 6-digit daily sequence, allocated when the line is checked; the printed serial adds "-N".
    serial = models.CharField(_("certificate serial"), max_length=20, null=True, blank=True, unique=True)
    prints = models.PositiveIntegerField(_("times printed"), default=0)

    class Meta:
        ordering = ["check_run", "position"]
        verbose_name = _("credit-check entry")
        verbose_name_plural = _("credit-check entries")
        constraints = [
            models.UniqueConstraint(fields=["check_run", "position"], name="credit_checkline_position_unique"),
        ]
        indexes = [models.Index(fields=["enterprise", "created_at"], name="credit_checkline_ent_idx")]

    def __str__(self) -> str:
        return self.serial or f"{self.check_run_id}/{self.position}"


class CertificateSequence(models.Model):
    """The running number of certificates per prefix (P single, B batch) and day."""

    prefix = models.CharField(_("prefix"), max_length=1)
    day = models.DateField(_("day"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["day", "prefix"]
        verbose_name = _("certificate sequence")
        verbose_name_plural = _("certificate sequences")
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="credit_certificate_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.day:%Y%m%d}: {self.last_number}"


class CertificatePrint(models.Model):
    """One printing of a certificate (the first one has counter 0, each reprint the next): who, when, how."""

    line = models.ForeignKey(
        CheckLine, verbose_name=_("credit-check entry"), on_delete=models.PROTECT, related_name="print_log"
    )
    counter = models.PositiveIntegerField(_("reprint counter"))
    serial = models.CharField(_("printed serial"), max_length=24, unique=True)
    printed_at = models.DateTimeField(_("printed at"), default=timezone.now)
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("printed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=20, help_text=_("admin, batch, portal …"))

    class Meta:
        ordering = ["-printed_at", "-id"]
        verbose_name = _("certificate print")
        verbose_name_plural = _("certificate prints")
        constraints = [models.UniqueConstraint(fields=["line", "counter"], name="credit_print_counter_unique")]

    def __str__(self) -> str:
        return self.serial


class RedListPolicy(BaseModel):
    """The conditions of the red list (守信激励, seed 003 §五(二)) in force from `effective_from`."""

    name = models.CharField(_("name"), max_length=200)
    effective_from = models.DateField(_("effective from"))
    years_free = models.PositiveSmallIntegerField(
        _("years without listing or penalty"), default=3, help_text=_("seed 003: three consecutive years")
    )
    require_annual_reports = models.BooleanField(_("every annual report of the years filed on time"), default=True)
    require_operating = models.BooleanField(_("operating (not suspended, revoked or deregistered)"), default=True)
    include_individual = models.BooleanField(_("individual businesses included"), default=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("red-list policy")
        verbose_name_plural = _("red-list policies")

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from} 起）"


class CreditWarning(BaseModel):
    """One warning (失信警示) of one entity for one cause: the reminder queued through the outbox, once."""

    class Cause(models.TextChoices):
        ANNUAL_REPORT = "annual_report", _("Annual report not yet filed as 30 June nears")
        UNREACHABLE = "unreachable", _("Not reachable at the registered address (inspection finding)")
        ORDER_PENDING = "order_pending", _("Disclosure or correction order pending")
        ABNORMAL_EXPIRY = "abnormal_expiry", _("Three years on the abnormal list in 60 days")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="+"
    )
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    # What the cause is about: the report year, the listing id, the inspection result id.
    cause_key = models.CharField(_("about"), max_length=40)
    found_on = models.DateField(_("found on"))
    channel = models.CharField(_("channel"), max_length=10)
    recipient = models.CharField(_("recipient"), max_length=255)
    message = models.ForeignKey(
        "core.OutboxMessage",
        verbose_name=_("outbox message"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-found_on", "-id"]
        verbose_name = _("credit warning")
        verbose_name_plural = _("credit warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "cause", "cause_key"],
                name="credit_warning_once",
                violation_error_message=_("This entity was already warned for this cause."),
            ),
        ]
        indexes = [models.Index(fields=["found_on"], name="credit_warning_day_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.cause} {self.cause_key}"
