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

from core.models import BaseModel
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
