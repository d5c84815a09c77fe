"""Credit repair (信用修复, DESIGN.md §3.7): enterprise accounts, repair policies, applications with their materials,
steps and documents, and the repair notices sent with every penalty and listing (两书同达).

"Whoever listed, repairs" (谁认定、谁修复): every application belongs to the office that made the decision being
repaired (`responsible_office`), and staff see the applications of their own office only. Nothing is deleted: an
application ends refused, rejected, approved, withdrawn or revoked, each with who, when and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from disclosure.models import AbnormalListing, Penalty, SeriousListing
from enterprises.models import Enterprise, Region
from inspections.models import Result


# --- accounts -----------------------------------------------------------------------------------------------------
class EnterpriseAccount(BaseModel):
    """The portal login of one market entity, tied to its USCC (the username is the USCC)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="enterprise_account"
    )
    enterprise = models.OneToOneField(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="portal_account"
    )
    activated_at = models.DateTimeField(_("activated at"))

    class Meta:
        ordering = ["-activated_at"]
        verbose_name = _("enterprise account")
        verbose_name_plural = _("enterprise accounts")

    def __str__(self) -> str:
        return f"{self.enterprise.name}（{self.enterprise.uscc}）"


class AccessCodeQuerySet(models.QuerySet):
    def visible_to(self, user):
        visible = Enterprise.objects.visible_to(user)
        if not visible.query.where:
            return self
        return self.filter(enterprise__in=visible.values("pk"))


class AccessCode(BaseModel):
    """A one-time code that lets an entity activate its account or set a new password. Only its hash is stored:
    the code itself is shown once to the staff who issued it and sent through the outbox."""

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("Account activation")
        RESET = "reset", _("Password reset")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="access_codes"
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    code_hash = models.CharField(_("code hash"), max_length=64, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    sent_to = models.CharField(_("sent to"), max_length=255, blank=True)

    objects = AccessCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("access code")
        verbose_name_plural = _("access codes")
        indexes = [models.Index(fields=["enterprise", "purpose", "created_at"], name="access_code_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise.uscc} {self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


# --- policies -----------------------------------------------------------------------------------------------------
class RepairPolicy(BaseModel):
    """The repair rules in force from `effective_from` (DESIGN.md §3.7): deadlines in working days, the 容缺 period,
    the stricter conditions for repeat offenders (seed 002 §12), whether inspection results are repairable.

    When a penalty disclosure may be stopped early is the disclosure policy's (DisclosurePolicy.repair_*_months,
    stored on each penalty as `repair_possible_from`); this row adds what the repair procedure itself needs.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    effective_from = models.DateField(_("effective from"), unique=True)
    acceptance_working_days = models.PositiveSmallIntegerField(_("accept or refuse within (working days)"), default=3)
    decision_working_days = models.PositiveSmallIntegerField(
        _("decide within (working days), penalties and the serious list"), default=15
    )
    abnormal_decision_working_days = models.PositiveSmallIntegerField(
        _("decide within (working days), abnormal list"), default=5
    )
    tolerance_working_days = models.PositiveSmallIntegerField(
        _("missing materials supplied within (working days, 容缺受理)"), default=10
    )
    inspection_results_repairable = models.BooleanField(_("negative inspection results can be repaired"), default=False)
    # Repeat offenders (多次违法失信, seed 002 §12): this many disclosed penalties within the window …
    repeat_offender_penalties = models.PositiveSmallIntegerField(_("repeat offender: disclosed penalties"), default=3)
    repeat_offender_window_months = models.PositiveSmallIntegerField(_("repeat offender: within (months)"), default=24)
    # … wait this much longer before an early stop, and cannot be accepted on a 容缺 commitment.
    repeat_offender_extra_months = models.PositiveSmallIntegerField(
        _("repeat offender: additional waiting (months)"), default=6
    )

    class Meta:
        ordering = ["effective_from"]
        verbose_name = _("repair policy")
        verbose_name_plural = _("repair policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(acceptance_working_days__gte=1)
                & Q(decision_working_days__gte=1)
                & Q(abnormal_decision_working_days__gte=1)
                & Q(tolerance_working_days__gte=1),
                name="repair_policy_periods_positive",
                violation_error_message=_("Every period must be at least one working day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from} 起）"


class CountyRepairSetting(BaseModel):
    """A county's own, shorter deadline for abnormal-list removals (seed 003: 5 working days compressed to 3)."""

    office = models.OneToOneField(Region, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    abnormal_decision_working_days = models.PositiveSmallIntegerField(_("decide within (working days), abnormal list"))
    basis = models.CharField(_("basis"), max_length=255, blank=True)

    class Meta:
        ordering = ["office"]
        verbose_name = _("county repair setting")
        verbose_name_plural = _("county repair settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(abnormal_decision_working_days__gte=1),
                name="county_repair_days_positive",
                violation_error_message=_("Every period must be at least one working day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office.name}: {self.abnormal_decision_working_days}"


# --- applications -------------------------------------------------------------------------------------------------
class RepairApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RepairApplicationQuerySet:
        """An enterprise sees its own applications; staff see those of their office (谁认定、谁修复), the city
        roles every office's; anyone else nothing (fail closed)."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.role == user.Role.ENTERPRISE and not user.is_superuser:
            account = getattr(user, "enterprise_account", None)
            return self.filter(enterprise_id=account.enterprise_id) if account is not None else self.none()
        if user.is_city_wide:
            return self
        if not user.is_staff or not user.region_code:
            return self.none()
        return self.filter(responsible_office_id=user.region_code)


class RepairApplication(BaseModel):
    """One application to repair one record: filed online by the entity or entered by staff from paper, accepted
    or refused, decided with a document, and revoked if a 容缺 commitment is broken."""

    class Kind(models.TextChoices):
        ABNORMAL_REMOVAL = "abnormal_removal", _("Removal from the abnormal list")
        SERIOUS_EARLY_REMOVAL = "serious_early_removal", _("Early removal from the serious list")
        PENALTY_EARLY_STOP = "penalty_early_stop", _("Early stop of a penalty disclosure")
        INSPECTION_RESULT = "inspection_result", _("Repair of a negative inspection result")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted, awaiting acceptance")
        MATERIALS_REQUESTED = "materials_requested", _("More material requested")
        ACCEPTED = "accepted", _("Accepted, under review")
        REFUSED = "refused", _("Not accepted")
        APPROVED = "approved", _("Repaired")
        REJECTED = "rejected", _("Repair refused")
        WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")
        REVOKED = "revoked", _("Repair revoked: commitment broken")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PAPER = "paper", _("Paper, entered by staff")

    OPEN_STATUSES = (Status.SUBMITTED, Status.MATERIALS_REQUESTED, Status.ACCEPTED)

    number = models.CharField(_("application number"), max_length=30, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="repair_applications"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    penalty = models.ForeignKey(
        Penalty, verbose_name=_("penalty"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    abnormal_listing = models.ForeignKey(
        AbnormalListing,
        verbose_name=_("abnormal-list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    serious_listing = models.ForeignKey(
        SeriousListing,
        verbose_name=_("serious-list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    inspection_result = models.ForeignKey(
        Result,
        verbose_name=_("inspection result"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # "penalty:12", "abnormal:7", "serious:3", "inspection:5": the record repaired, for the one-open rule.
    target_key = models.CharField(_("record"), max_length=40, editable=False)
    target_label = models.CharField(_("record repaired"), max_length=255)
    policy = models.ForeignKey(RepairPolicy, verbose_name=_("repair policy"), on_delete=models.PROTECT)
    responsible_office = models.ForeignKey(
        Region, verbose_name=_("responsible office"), on_delete=models.PROTECT, related_name="+"
    )
    responsible_authority = models.CharField(_("responsible authority"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    # The form's one-time key: a double-submitted form finds the application its first submission made.
    submission_key = models.UUIDField(_("submission key"), unique=True, editable=False)
    statement = models.TextField(_("statement of the applicant"))
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    filed_on = models.DateField(_("filed on"))
    acceptance_due = models.DateField(_("accept or refuse by"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    decision_due = models.DateField(_("decide by"), null=True, blank=True)
    # What the bureau must act on by when (the review queue's order); null while the applicant is to act or when
    # closed, or when the calendar of that year is not published yet (`due_note` says so).
    due_on = models.DateField(_("due"), null=True, blank=True)
    due_note = models.CharField(_("due date note"), max_length=255, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # 即申即办: abnormal-list entries for missing annual reports, all filed, are removed the moment one applies.
    immediate = models.BooleanField(_("handled at once (即申即办)"), default=False)
    # 容缺受理: accepted with secondary materials missing, on a commitment to supply them by `materials_due`.
    tolerance = models.BooleanField(_("accepted with materials missing (容缺受理)"), default=False)
    tolerance_missing = models.JSONField(_("materials to be supplied"), default=list, blank=True)
    materials_due = models.DateField(_("missing materials due by"), null=True, blank=True)
    materials_completed_on = models.DateField(_("missing materials supplied on"), null=True, blank=True)
    commitment = models.ForeignKey(
        "enterprises.Commitment",
        verbose_name=_("commitment to supply materials"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_materials = models.TextField(_("material requested"), blank=True)
    resume_status = models.CharField(_("status to resume"), max_length=20, choices=Status.choices, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revocation_reason = models.TextField(_("revocation reason"), blank=True)

    objects = RepairApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_on", "-id"]
        verbose_name = _("repair application")
        verbose_name_plural = _("repair applications")
        constraints = [
            models.UniqueConstraint(
                fields=["target_key"],
                condition=Q(status__in=["submitted", "materials_requested", "accepted"]),
                name="repair_one_open_per_record",
                violation_error_message=_("An application for this record is already being handled."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="penalty_early_stop", penalty__isnull=False)
                    | Q(kind="abnormal_removal", abnormal_listing__isnull=False)
                    | Q(kind="serious_early_removal", serious_listing__isnull=False)
                    | Q(kind="inspection_result", inspection_result__isnull=False)
                ),
                name="repair_application_has_record",
                violation_error_message=_("An application must name the record it repairs."),
            ),
        ]
        indexes = [
            # The review queue (open applications by due date): of an office, and of the whole city. Partial, so
            # the 10^5 decided applications of the years do not weigh on the daily queue.
            models.Index(
                fields=["responsible_office", "due_on", "id"],
                name="repair_queue_idx",
                condition=Q(status__in=["submitted", "materials_requested", "accepted"]),
            ),
            models.Index(
                fields=["due_on", "id"],
                name="repair_city_queue_idx",
                condition=Q(status__in=["submitted", "materials_requested", "accepted"]),
            ),
            # Every application (open and closed), of an office or of the city, in the queue's order.
            models.Index(fields=["responsible_office", "due_on", "id"], name="repair_office_idx"),
            models.Index(fields=["due_on", "id"], name="repair_due_idx"),
            models.Index(fields=["enterprise", "status"], name="repair_enterprise_idx"),
            # The nightly 容缺 check: accepted on a commitment, materials not complete, by due date.
            models.Index(
                fields=["materials_due"],
                name="repair_tolerance_due_idx",
                condition=Q(tolerance=True, materials_completed_on__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def target(self) -> Penalty | AbnormalListing | SeriousListing | Result:
        record = self.penalty or self.abnormal_listing or self.serious_listing or self.inspection_result
        assert record is not None
        return record


class Material(BaseModel):
    """A file of an application (application form, credit commitment, proof of fulfilment …): PDF, JPEG or PNG as
    its content says, stored privately under a name of our own; served only to the owner and the responsible staff."""

    class Kind(models.TextChoices):
        APPLICATION_FORM = "application_form", _("Application form")
        CREDIT_COMMITMENT = "credit_commitment", _("Credit commitment (守信承诺书)")
        PROOF_OF_FULFILMENT = "proof_of_fulfilment", _("Proof of fulfilment")
        OTHER = "other", _("Other material")

    application = models.ForeignKey(RepairApplication, on_delete=models.PROTECT, related_name="materials")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="repair/materials/%Y/%m/")
    original_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supplied_later = models.BooleanField(_("supplied after submission"), default=False)

    class Meta:
        ordering = ["application", "created_at", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class ApplicationStep(BaseModel):
    """One step of an application as the applicant sees it on its status page: what happened, when, by which
    office, what is due next and by when."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Application submitted")
        ACCEPTED = "accepted", _("Application accepted")
        ACCEPTED_TOLERANCE = "accepted_tolerance", _("Accepted with materials to follow (容缺受理)")
        REFUSED = "refused", _("Application not accepted")
        MATERIALS_REQUESTED = "materials_requested", _("More material requested")
        MATERIALS_SUPPLIED = "materials_supplied", _("Material supplied")
        APPROVED = "approved", _("Repair approved")
        REJECTED = "rejected", _("Repair refused")
        WITHDRAWN = "withdrawn", _("Application withdrawn")
        REVOKED = "revoked", _("Repair revoked")

    application = models.ForeignKey(RepairApplication, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(_("step"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("time"))
    on = models.DateField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who acted, as the applicant may see it: the office (and the handler), or the applicant itself.
    actor_label = models.CharField(_("handled by"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    next_due = models.DateField(_("next step due"), null=True, blank=True)

    class Meta:
        ordering = ["application", "at", "id"]
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")

    def __str__(self) -> str:
        return f"{self.application} {self.get_kind_display()}"


class RepairDocument(BaseModel):
    """A document the bureau issues on an application (decision, refusal, revocation), rendered once as PDF and
    kept as issued (its SHA-256 stored): what the applicant downloads is what was decided."""

    class DocType(models.TextChoices):
        REFUSAL = "refusal", _("Notice of non-acceptance")
        APPROVAL = "approval", _("Credit repair decision")
        REJECTION = "rejection", _("Decision refusing credit repair")
        REVOCATION = "revocation", _("Decision revoking credit repair")

    application = models.ForeignKey(RepairApplication, on_delete=models.PROTECT, related_name="documents")
    doc_type = models.CharField(_("document"), max_length=12, choices=DocType.choices)
    number = models.CharField(_("document number"), max_length=100, unique=True)
    issued_on = models.DateField(_("issued on"))
    file = models.FileField(_("file"), upload_to="repair/documents/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        ordering = ["application", "issued_on", "id"]
        verbose_name = _("repair document")
        verbose_name_plural = _("repair documents")

    def __str__(self) -> str:
        return self.number


# --- repair notices (两书同达) --------------------------------------------------------------------------------------
class RepairNoticeQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user is not None and user.is_authenticated and user.role == user.Role.ENTERPRISE:
            account = getattr(user, "enterprise_account", None)
            return self.filter(enterprise_id=account.enterprise_id) if account is not None else self.none()
        visible = Enterprise.objects.visible_to(user)
        if not visible.query.where:
            return self
        return self.filter(enterprise__in=visible.values("pk"))


class RepairNotice(BaseModel):
    """The credit-repair notice (信用修复告知书) that goes with a penalty or listing decision (两书同达, seed 003):
    when and how the entity can repair the record, in its portal and through the outbox."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="repair_notices"
    )
    penalty = models.OneToOneField(
        Penalty, verbose_name=_("penalty"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    abnormal_listing = models.OneToOneField(
        AbnormalListing,
        verbose_name=_("abnormal-list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    serious_listing = models.OneToOneField(
        SeriousListing,
        verbose_name=_("serious-list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    record_label = models.CharField(_("record"), max_length=255)
    issued_on = models.DateField(_("issued on"))
    repairable = models.BooleanField(_("can be repaired"))
    repair_from = models.DateField(_("repair possible from"), null=True, blank=True)
    text = models.TextField(_("text"))
    sent = models.BooleanField(_("sent through the outbox"), default=False)

    objects = RepairNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("repair notice")
        verbose_name_plural = _("repair notices")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(penalty__isnull=False, abnormal_listing__isnull=True, serious_listing__isnull=True)
                    | Q(penalty__isnull=True, abnormal_listing__isnull=False, serious_listing__isnull=True)
                    | Q(penalty__isnull=True, abnormal_listing__isnull=True, serious_listing__isnull=False)
                ),
                name="repair_notice_one_record",
                violation_error_message=_("A repair notice belongs to exactly one record."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_label} {self.issued_on}"
