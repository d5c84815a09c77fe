"""Shared plumbing: base model, users and roles, audit events, outbox, working-day overrides, background jobs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Creation and update timestamps for every domain table."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Department(BaseModel):
    """A department whose system pushes data (归集) or whose staff use the portal."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(_("region code"), max_length=6, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal account. The role decides what it may do; county roles are scoped to `region_code`."""

    class Role(models.TextChoices):
        CITY_REGULATOR = "city_regulator", _("City regulator")
        COUNTY_REGULATOR = "county_regulator", _("County regulator")
        INSPECTOR = "inspector", _("Inspector")
        CREDIT_REVIEWER = "credit_reviewer", _("Credit reviewer")
        DATA_CLERK = "data_clerk", _("Data clerk")
        # A procurement, funding or other department's officer with a staff account (issue 7): runs credit checks
        # for their county and sees only the checks they requested.
        CHECK_OFFICER = "check_officer", _("Credit-check officer")
        API_CLIENT = "api_client", _("Department API client")
        ENTERPRISE = "enterprise", _("Enterprise user")

    # Roles whose view is the whole city; every other role is limited to its region (fail closed when empty).
    CITY_WIDE_ROLES = frozenset({Role.CITY_REGULATOR, Role.API_CLIENT})

    role = models.CharField(_("role"), max_length=24, choices=Role.choices, default=Role.COUNTY_REGULATOR)
    # A GB/T 2260 code of enterprises.Region. Kept as a code, not a foreign key, because core never depends on
    # the domain apps; enterprises validates it (see enterprises.selectors.scope_region_code).
    region_code = models.CharField(_("region code"), max_length=6, blank=True, db_index=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="county_regulator") | ~Q(region_code=""),
                name="county_regulator_has_region",
                violation_error_message=_("A county regulator must be assigned a county."),
            ),
            models.CheckConstraint(
                condition=~Q(role="check_officer") | ~Q(region_code=""),
                name="check_officer_has_region",
                violation_error_message=_("A credit-check officer must be assigned a county."),
            ),
            models.CheckConstraint(
                condition=~Q(role="api_client") | Q(department__isnull=False),
                name="api_client_has_department",
                violation_error_message=_("A department API client must belong to a department."),
            ),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    @property
    def is_city_wide(self) -> bool:
        return self.is_superuser or self.role in self.CITY_WIDE_ROLES


class AuditEvent(models.Model):
    """An append-only record of one state change: who, what, before/after, when, from where."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    # The nightly jobs append ~10^5 events a run: only the indexes a query uses (the object's history, the admin's
    # filter by action and search by id, the time order), none of the varchar_pattern_ops twins of db_index.
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True, help_text=_("admin, api, command, task …"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "created_at"], name="audit_object_idx"),
            models.Index(fields=["action", "created_at"], name="audit_action_idx"),
            models.Index(fields=["object_id"], name="audit_object_id_idx"),  # the admin's "=object_id" search
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Audit events are append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit events are append-only."))


class OutboxMessage(BaseModel):
    """A notification waiting for (or past) delivery through its channel's backend."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The same logical notification is queued once, however often the job that creates it runs.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True, unique=True)
    related_type = models.CharField(_("related type"), max_length=100, blank=True)
    related_id = models.CharField(_("related id"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}: {self.subject or self.body[:30]}"


class WorkingDayOverride(BaseModel):
    """An admin-entered day that overrides the official calendar (a late-published schedule, a local holiday)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("is a working day"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        ordering = ["date"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self) -> str:
        return f"{self.date} {'working day' if self.is_working_day else 'day off'}: {self.reason}"


class CalendarYear(BaseModel):
    """A year whose working-day schedule staff declared complete through overrides (no official data in the
    library yet). Without this row, or official data, deadlines in that year are refused, never guessed."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=255, help_text=_("The State Council notice the days come from."))

    class Meta:
        ordering = ["year"]
        verbose_name = _("confirmed calendar year")
        verbose_name_plural = _("confirmed calendar years")

    def __str__(self) -> str:
        return str(self.year)


class Job(BaseModel):
    """A long piece of user-visible work (import, export, batch) with status and progress shown on its page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.PROTECT
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    input_file = models.FileField(_("input file"), upload_to="jobs/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"


class JobRun(BaseModel):
    """One run of a nightly job: when, for which date, what it changed, how it ended (shown in the admin)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: another run holds the lock")

    name = models.CharField(_("job"), max_length=60, db_index=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    source = models.CharField(_("started by"), max_length=40, blank=True, help_text=_("beat, command, admin …"))

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("nightly job run")
        verbose_name_plural = _("nightly job runs")

    def __str__(self) -> str:
        return f"{self.name} {self.as_of} ({self.get_status_display()})"
