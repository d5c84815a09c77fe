"""What the public sees and until when: penalties and their disclosure, the abnormal list (经营异常名录), the serious
illegal and dishonest list (严重违法失信名单), restrictions, and the runs of the nightly jobs that keep them current.

Records are never deleted or overwritten: a disclosure ends, a listing is removed, a penalty is withdrawn — each
with who, when and why (DESIGN.md §2, "an audit trail a court can read").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, Department
from enterprises.models import Enterprise, EnterpriseQuerySet, Region


class ScopedByEnterpriseQuerySet(models.QuerySet):
    """Records hanging off an enterprise are visible exactly where their enterprise is (one scoping rule)."""

    def visible_to(self, user):
        visible: EnterpriseQuerySet = Enterprise.objects.visible_to(user)
        if not visible.query.where:
            return self
        return self.filter(enterprise__in=visible.values("pk"))


class DisclosurePolicy(BaseModel):
    """A rule set for how long penalty information is disclosed, in force from `effective_from` (DESIGN.md §3.2).

    The scheme decides how a penalty is classified (code: disclosure.policies); the periods are data here.
    """

    class Scheme(models.TextChoices):
        LOCAL_2018 = "local_2018", _("Local 2018 (1 year; serious 3 years)")
        NATIONAL_2021 = "national_2021", _("National 2021 (lower amount 3 months; otherwise 3 years)")
        NATIONAL_2025 = "national_2025", _("National 2025, SAMR order 107 (minor / general / serious tiers)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    scheme = models.CharField(_("scheme"), max_length=20, choices=Scheme.choices)
    basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    effective_from = models.DateField(_("effective from"))
    # 从旧兼从轻: a later policy applies to earlier decisions only where it is more lenient and says so.
    retroactive_if_lenient = models.BooleanField(_("applies to earlier decisions if more lenient"), default=True)
    # Periods in months per tier; a tier the scheme does not use stays null.
    minor_months = models.PositiveSmallIntegerField(_("minor / lower-amount period (months)"), null=True, blank=True)
    general_months = models.PositiveSmallIntegerField(_("general period (months)"), null=True, blank=True)
    serious_months = models.PositiveSmallIntegerField(_("serious period (months)"), null=True, blank=True)
    # Earliest repair (early stop) after this many months of disclosure, per tier (null: not repairable early).
    repair_general_months = models.PositiveSmallIntegerField(
        _("repair possible after, general (months)"), null=True, blank=True
    )
    repair_serious_months = models.PositiveSmallIntegerField(
        _("repair possible after, serious (months)"), null=True, blank=True
    )
    repair_key_domain_months = models.PositiveSmallIntegerField(
        _("repair possible after, food/drug/special equipment (months)"), null=True, blank=True
    )
    disclosure_deadline_working_days = models.PositiveSmallIntegerField(
        _("disclose within (working days of the decision)"), default=20
    )
    withdrawal_deadline_working_days = models.PositiveSmallIntegerField(
        _("withdraw within (working days of revocation)"), default=3
    )

    class Meta:
        ordering = ["effective_from"]
        verbose_name = _("disclosure policy")
        verbose_name_plural = _("disclosure policies")

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from} 起）"


class Penalty(BaseModel):
    """An administrative penalty decision (行政处罚决定) pushed by a department or entered by staff, and its
    disclosure: whether, from when, until when and under which policy."""

    class Procedure(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary procedure")
        SUMMARY = "summary", _("Summary procedure")

    class Domain(models.TextChoices):
        FOOD = "food", _("Food")
        DRUG = "drug", _("Drugs")
        SPECIAL_EQUIPMENT = "special_equipment", _("Special equipment")
        OTHER = "other", _("Other")

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        CIRCULATED_CRITICISM = "circulated_criticism", _("Circulated criticism")
        FINE = "fine", _("Fine")
        CONFISCATION = "confiscation", _("Confiscation of illegal gains or property")
        QUALIFICATION_DOWNGRADE = "qualification_downgrade", _("Qualification downgraded")
        LICENCE_SUSPENSION = "licence_suspension", _("Permit suspended")
        LICENCE_REVOCATION = "licence_revocation", _("Permit revoked")
        PRODUCTION_SUSPENSION = "production_suspension", _("Production or business suspended")
        BUSINESS_RESTRICTION = "business_restriction", _("Business activities restricted")
        EMPLOYMENT_RESTRICTION = "employment_restriction", _("Employment restricted")
        BUSINESS_LICENCE_REVOCATION = "business_licence_revocation", _("Business licence revoked")

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("In force")
        WITHDRAWN = "withdrawn", _("Withdrawn (revoked or changed)")

    class Tier(models.TextChoices):
        NOT_DISCLOSED = "none", _("Not disclosed")
        MINOR = "minor", _("Minor / lower amount")
        GENERAL = "general", _("General")
        SERIOUS = "serious", _("Serious")

    class EndReason(models.TextChoices):
        EXPIRED = "expired", _("Disclosure period over")
        REPAIRED = "repaired", _("Stopped early by credit repair")
        WITHDRAWN = "withdrawn", _("Decision revoked or changed")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="penalties"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("deciding department"), on_delete=models.PROTECT, related_name="penalties"
    )
    decision_number = models.CharField(_("decision number"), max_length=100)
    decision_date = models.DateField(_("decision date"))
    procedure = models.CharField(_("procedure"), max_length=10, choices=Procedure.choices)
    kinds = models.JSONField(_("kinds of penalty"), default=list)
    fine_amount = models.DecimalField(_("fine (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices, default=Domain.OTHER)
    violation_type = models.CharField(_("violation type"), max_length=200)
    legal_basis = models.TextField(_("legal basis"))
    content = models.TextField(_("penalty content"), blank=True)
    authority_name = models.CharField(_("deciding authority"), max_length=100, blank=True)
    case_officer = models.CharField(_("case officer"), max_length=100, blank=True)  # internal, never public
    # A legal restriction (e.g. an employment ban) lasting longer than the disclosure period extends it (2021 rules).
    restriction_until = models.DateField(_("legal restriction lasts until"), null=True, blank=True)
    document = models.FileField(_("redacted decision document"), upload_to="penalties/%Y/", blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_reason = models.TextField(_("withdrawal reason"), blank=True)

    # Disclosure, computed by disclosure.policies when the penalty is recorded (and again on correction).
    policy = models.ForeignKey(
        DisclosurePolicy, verbose_name=_("disclosure policy"), null=True, blank=True, on_delete=models.PROTECT
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.NOT_DISCLOSED)
    disclosed = models.BooleanField(_("disclosed"), default=False)
    not_disclosed_reason = models.CharField(_("why not disclosed"), max_length=200, blank=True)
    disclosed_from = models.DateField(_("disclosed from"), null=True, blank=True)
    disclosed_until = models.DateField(_("disclosed until (last day)"), null=True, blank=True)
    disclosure_due_by = models.DateField(_("to be disclosed by"), null=True, blank=True)
    repair_possible_from = models.DateField(_("credit repair possible from"), null=True, blank=True)
    # The day the period was last weighed against every policy in force (the nightly review of 从旧兼从轻).
    policies_reviewed_on = models.DateField(_("policies reviewed on"), null=True, blank=True)
    disclosure_ended_on = models.DateField(_("disclosure ended on"), null=True, blank=True)
    disclosure_end_reason = models.CharField(
        _("disclosure end reason"), max_length=10, choices=EndReason.choices, blank=True
    )

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-decision_date", "-id"]
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "decision_number"],
                name="penalty_unique_per_department",
                violation_error_message=_("This department already recorded a penalty with that decision number."),
            ),
            models.CheckConstraint(
                condition=Q(fine_amount__isnull=True) | Q(fine_amount__gt=0),
                name="penalty_fine_positive",
                violation_error_message=_("A fine must be a positive amount."),
            ),
            models.CheckConstraint(
                condition=Q(disclosed=False) | (Q(disclosed_from__isnull=False) & Q(disclosed_until__isnull=False)),
                name="penalty_disclosure_has_period",
                violation_error_message=_("A disclosed penalty needs its disclosure period."),
            ),
        ]
        indexes = [
            # The expiry job: disclosures still running, by last day.
            models.Index(
                fields=["disclosed_until"],
                name="penalty_open_disclosure_idx",
                condition=Q(disclosed=True, disclosure_ended_on__isnull=True),
            ),
            models.Index(fields=["enterprise", "decision_date"], name="penalty_enterprise_idx"),
        ]

    def __str__(self) -> str:
        return self.decision_number


class DocumentSequence(models.Model):
    """The running number of a decision-document type per office and year (…异入〔2026〕第N号)."""

    office = models.ForeignKey(Region, verbose_name=_("office"), on_delete=models.PROTECT)
    doc_type = models.CharField(_("document type"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["office", "doc_type", "year"]
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")
        constraints = [
            models.UniqueConstraint(fields=["office", "doc_type", "year"], name="document_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.doc_type} {self.year}: {self.last_number}"


class AbnormalListing(BaseModel):
    """An entry on the abnormal list (经营异常名录), or for an individual business a mark (标记经营异常状态)."""

    class Reason(models.TextChoices):
        ANNUAL_REPORT = "annual_report", _("Annual report not disclosed by 30 June")
        INSTANT_INFORMATION = "instant_information", _("Instant information not disclosed within the ordered period")
        FALSIFIED = "falsified", _("Disclosed information concealed or falsified")
        UNREACHABLE = "unreachable", _("Cannot be contacted at the registered address")

    class Status(models.TextChoices):
        LISTED = "listed", _("Listed")
        REMOVED = "removed", _("Removed")

    class RemovalReason(models.TextChoices):
        CURED = "cured", _("Cause cured")
        REPAIRED = "repaired", _("Credit repair approved")
        OBJECTION_UPHELD = "objection_upheld", _("Objection upheld (listed in error)")
        ESCALATED = "escalated", _("Moved to the serious list after 3 years")
        DEREGISTERED = "deregistered", _("Entity deregistered")

    # Indexes: only those a query uses (abnormal_enterprise_idx leads with the entity; office_idx for the county
    # reports). Each index is written by every listing the nightly jobs insert, so none is there by default: no
    # foreign-key index of its own, no varchar_pattern_ops twin of a character key (nothing here is LIKE-searched).
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("market entity"),
        on_delete=models.PROTECT,
        related_name="abnormal_listings",
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    # Reason 1: the report year. Other reasons: 0 ("not bound to a year"), so that the uniqueness of open listings
    # per (entity, reason, year) needs no NULL semantics.
    year = models.PositiveSmallIntegerField(_("report year"), default=0)
    is_mark = models.BooleanField(_("marked (individual business) rather than listed"), default=False)
    cause_date = models.DateField(_("date of the cause"))
    decided_on = models.DateField(_("decided on"))
    decision_number = models.CharField(_("decision number"), max_length=100)
    office = models.ForeignKey(
        Region, verbose_name=_("deciding office"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    authority_name = models.CharField(_("deciding authority"), max_length=100)
    legal_basis = models.TextField(_("legal basis"))
    remedies = models.TextField(_("remedies"))
    facts = models.TextField(_("facts"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LISTED)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    removal_decision_number = models.CharField(_("removal decision number"), max_length=100, blank=True)
    removal_reason = models.CharField(_("removal reason"), max_length=20, choices=RemovalReason.choices, blank=True)
    removal_note = models.TextField(_("removal note"), blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reminder_published_on = models.DateField(_("3-year reminder published on"), null=True, blank=True)

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("abnormal-list entry")
        verbose_name_plural = _("abnormal list")
        constraints = [
            models.UniqueConstraint(fields=["decision_number"], name="abnormal_decision_number_unique"),
            models.UniqueConstraint(
                fields=["enterprise", "reason", "year"],
                condition=Q(status="listed"),
                name="abnormal_one_open_per_reason_year",
                violation_error_message=_("This entity is already listed for this reason and year."),
            ),
            models.CheckConstraint(
                condition=Q(status="listed", removed_on__isnull=True) | Q(status="removed", removed_on__isnull=False),
                name="abnormal_removed_has_date",
                violation_error_message=_("A removed entry needs its removal date."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "decided_on"], name="abnormal_status_idx"),
            models.Index(fields=["enterprise", "status"], name="abnormal_enterprise_idx"),
            models.Index(fields=["office", "decided_on"], name="abnormal_office_idx"),
        ]

    def __str__(self) -> str:
        return self.decision_number


class Objection(BaseModel):
    """An objection (异议) to an abnormal listing: accepted or refused within 5 working days, verified within 20."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACCEPTED = "accepted", _("Accepted, under verification")
        REFUSED = "refused", _("Not accepted")
        UPHELD = "upheld", _("Upheld: listing removed")
        DISMISSED = "dismissed", _("Dismissed: listing stands")

    listing = models.ForeignKey(AbnormalListing, on_delete=models.PROTECT, related_name="objections")
    filed_on = models.DateField(_("filed on"))
    statement = models.TextField(_("statement"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    acceptance_due = models.DateField(_("accept or refuse by"))
    verification_due = models.DateField(_("verify by"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-filed_on"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.listing} {self.filed_on}"


class SeriousListing(BaseModel):
    """An entry on the serious illegal and dishonest list (严重违法失信名单), from notice to removal."""

    class Ground(models.TextChoices):
        SERIOUS_VIOLATION = "serious_violation", _("Serious violation punished with a heavier penalty")
        ABNORMAL_THREE_YEARS = "abnormal_3_years", _("Three years on the abnormal list")

    class Stage(models.TextChoices):
        NOTICE = "notice", _("Notice of intended listing served")
        LISTED = "listed", _("Listed")
        NOT_LISTED = "not_listed", _("Not listed after statement or hearing")
        REMOVED = "removed", _("Removed")

    class RemovalKind(models.TextChoices):
        EXPIRED = "expired", _("Three years over")
        EARLY_REPAIR = "early_repair", _("Early removal by credit repair")
        REVOKED = "revoked", _("Basis revoked")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="serious_listings"
    )
    ground = models.CharField(_("ground"), max_length=20, choices=Ground.choices)
    source_penalty = models.ForeignKey(Penalty, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source_abnormal = models.ForeignKey(
        AbnormalListing, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    # No varchar_pattern_ops twins (office, notice number): see AbnormalListing.
    office = models.ForeignKey(
        Region, verbose_name=_("deciding office"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    authority_name = models.CharField(_("deciding authority"), max_length=100)
    legal_basis = models.TextField(_("legal basis"))
    facts = models.TextField(_("facts"), blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.NOTICE)
    notice_number = models.CharField(_("notice number"), max_length=100)
    noticed_on = models.DateField(_("notice served on"))
    statement_due = models.DateField(_("statement or hearing request by"))
    statement = models.TextField(_("statement of the party"), blank=True)
    hearing_requested = models.BooleanField(_("hearing requested"), default=False)
    decision_number = models.CharField(_("decision number"), max_length=100, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    listed_until = models.DateField(_("listed until (last day)"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    removal_kind = models.CharField(_("removal kind"), max_length=15, choices=RemovalKind.choices, blank=True)
    removal_decision_number = models.CharField(_("removal decision number"), max_length=100, blank=True)
    # After an early removal the public record shows neither listing nor removal; the history keeps both.
    hidden_from_public = models.BooleanField(_("hidden from the public record"), default=False)

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-noticed_on", "-id"]
        verbose_name = _("serious-list entry")
        verbose_name_plural = _("serious illegal and dishonest list")
        constraints = [
            models.UniqueConstraint(fields=["notice_number"], name="serious_notice_number_unique"),
            models.UniqueConstraint(
                fields=["enterprise", "ground"],
                condition=Q(stage__in=["notice", "listed"]),
                name="serious_one_open_per_ground",
                violation_error_message=_("This entity already has an open serious-list procedure on this ground."),
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "listed_until"], name="serious_stage_idx"),
            models.Index(fields=["office", "decided_on"], name="serious_office_idx"),
        ]

    def __str__(self) -> str:
        return self.decision_number or self.notice_number


class Restriction(BaseModel):
    """A restriction attached to a serious listing: on the entity (no honours, subsidies, procurement; key
    supervision) or on a person (may not be legal representative of another entity for 3 years)."""

    class Kind(models.TextChoices):
        NO_HONOURS = "no_honours", _("No honours or awards")
        NO_SUBSIDIES = "no_subsidies", _("No government subsidies")
        NO_PROCUREMENT = "no_procurement", _("No government procurement or tendering")
        KEY_SUPERVISION = "key_supervision", _("Key supervision, more frequent inspections")
        NO_LEGAL_REPRESENTATIVE = "no_legal_representative", _("May not be legal representative of another entity")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="restrictions")
    serious_listing = models.ForeignKey(SeriousListing, on_delete=models.PROTECT, related_name="restrictions")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    person_name = models.CharField(_("person"), max_length=100, blank=True)
    person_id_number = models.CharField(_("person ID number"), max_length=18, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on (last day)"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = ScopedByEnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("restriction")
        verbose_name_plural = _("restrictions")
        indexes = [models.Index(fields=["ends_on"], name="restriction_open_idx", condition=Q(ended_on__isnull=True))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.person_name or self.enterprise_id}"
