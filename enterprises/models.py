"""The registry of market entities (经营主体) and the facts attached to them."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.scoping import scoped
from enterprises import identity


class Region(models.Model):
    """An administrative division (GB/T 2260): province, city or county."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    """A section (门类, letter) or division (大类, two digits) of GB/T 4754-2017."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    section = models.ForeignKey(
        "self", verbose_name=_("section"), null=True, blank=True, on_delete=models.PROTECT, related_name="divisions"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self) -> str:
        prefix = f"{self.section_id}{self.code}" if self.section_id else self.code
        return f"{prefix} {self.name}"

    @property
    def is_section(self) -> bool:
        return self.section_id is None


class KeyArea(models.Model):
    """A key supervision area (重点领域, seed 002): food production, drugs, special equipment, …"""

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["code"]
        verbose_name = _("key area")
        verbose_name_plural = _("key areas")

    def __str__(self) -> str:
        return self.name


class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnterpriseQuerySet:
        """The entities `user` may see: the whole city for city-wide roles, one county otherwise.

        The one place where county scoping is decided (admin, API, views and exports all call it); an account
        without a region sees nothing (fail closed).
        """
        return scoped(self, user, region_field="region_id")

    def of_type(self, entity_type: str) -> EnterpriseQuerySet:
        """The entities of one type, as one range of the USCC order.

        The type is the code's second position (91 enterprise, 92 individual business, 93 cooperative; the check
        constraint `enterprise_type_matches_uscc` holds every row to it), so the rows of a type are one contiguous
        run of the USCC index, and of (region, uscc) within a county. As `entity_type = …` the planner walked the
        USCC order and filtered: a page of cooperatives (2 % of the registry, codes 93…) read 982k rows first, 7.9 s
        at 10^6; a county's individual businesses 0.48 s. As a range, both pages start at their first row (~1 ms)
        and the page's COUNT(*) is an index-only range scan.
        """
        code = identity.CODE_BY_TYPE.get(entity_type)
        if code is None:
            return self.none()
        return self.filter(uscc__gte=f"9{code}", uscc__lt=f"9{int(code) + 1}")


class Enterprise(BaseModel):
    """A market entity: enterprise, individual business (个体工商户) or farmers' cooperative."""

    class EntityType(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        INDIVIDUAL = "individual", _("Individual business")
        COOPERATIVE = "cooperative", _("Farmers' cooperative")

    class Status(models.TextChoices):
        OPERATING = "operating", _("Operating")  # 存续（在营、开业、在册）
        SUSPENDED = "suspended", _("Suspended (filed)")  # 歇业
        REVOKED = "revoked", _("Licence revoked")  # 吊销
        DEREGISTERED = "deregistered", _("Deregistered")  # 注销

    class RiskClass(models.TextChoices):
        A = "A", _("A (low risk)")
        B = "B", _("B (general risk)")
        C = "C", _("C (higher risk)")
        D = "D", _("D (high risk)")

    # BaseModel's created_at without its index: nothing filters or orders the registry by it, and every index of
    # this table costs ~2–5 s per 10^6 imported rows (issue 2) and is rewritten by every non-HOT update (issue 5).
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    entity_type = models.CharField(_("entity type"), max_length=12, choices=EntityType.choices)
    name = models.CharField(_("name"), max_length=200)
    former_names = models.JSONField(_("former names"), default=list, blank=True)
    registration_number = models.CharField(_("legacy registration number"), max_length=15, blank=True, db_index=True)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    # Personal data: never shown on public output unmasked (see enterprises.masking).
    legal_representative_id_number = models.CharField(_("legal representative ID number"), max_length=18, blank=True)
    address = models.CharField(_("registered address"), max_length=255)
    # No index of its own: ent_region_type_status_idx and ent_region_uscc_cov_idx both lead with region_id.
    region = models.ForeignKey(Region, verbose_name=_("supervising region"), on_delete=models.PROTECT, db_index=False)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry division"), null=True, blank=True, on_delete=models.PROTECT
    )
    industry_code = models.CharField(_("industry code"), max_length=5, blank=True, help_text=_("e.g. C1431"))
    registered_capital = models.DecimalField(
        _("registered capital (10,000 yuan)"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    registration_date = models.DateField(_("registration date"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.OPERATING)
    key_areas = models.ManyToManyField(KeyArea, verbose_name=_("key areas"), blank=True, related_name="enterprises")
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Name and former names in one column; a trigram GIN index on PostgreSQL serves substring search (3+ chars).
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    # Two-character words of the name and former names; a jsonb GIN index serves 2-character queries (trigrams
    # cannot), which are common in Chinese (恒泰, 晋中).
    name_grams = models.JSONField(_("name bigrams"), default=list, blank=True, editable=False)
    # Written only by the credit app; internal, never shown on public output.
    risk_class = models.CharField(_("risk class"), max_length=1, choices=RiskClass.choices, blank=True)
    risk_classified_at = models.DateTimeField(_("risk classified at"), null=True, blank=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")
        indexes = [
            models.Index(fields=["region", "entity_type", "status"], name="ent_region_type_status_idx"),
            # A county's codes are scattered over the uscc index: ordered county pages need their own index.
            # status and id ride along: a county's COUNT(*) by type (a USCC range) and status stays index-only, and so
            # do the county's ids that a report or a list joins its records to (not a scan of the whole registry).
            models.Index(fields=["region", "uscc"], include=["status", "id"], name="ent_region_uscc_cov_idx"),
            models.Index(fields=["name"], name="ent_name_idx"),
            models.Index(fields=["registration_date"], name="ent_regdate_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(registered_capital__isnull=True) | Q(registered_capital__gte=0),
                name="enterprise_capital_not_negative",
                violation_error_message=_("Registered capital cannot be negative."),
            ),
            # clean() derives the type from the code; the database holds every writer (imports, raw SQL) to it,
            # and EnterpriseQuerySet.of_type relies on it.
            models.CheckConstraint(
                condition=Q(entity_type="enterprise", uscc__startswith="91")
                | Q(entity_type="individual", uscc__startswith="92")
                | Q(entity_type="cooperative", uscc__startswith="93"),
                name="enterprise_type_matches_uscc",
                violation_error_message=_("The entity type does not match the second character of the USCC."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            self.uscc = identity.validate(self.uscc)
        except identity.InvalidUSCC as exc:
            errors["uscc"] = str(exc)
        else:
            derived = identity.entity_type_of(self.uscc)
            if derived is None:
                errors["uscc"] = "该代码不是市场监管部门登记的经营主体代码（第 1-2 位应为 91、92 或 93）"
            elif self.entity_type and self.entity_type != derived:
                errors["entity_type"] = "主体类型与统一社会信用代码第 2 位不一致"
            else:
                self.entity_type = derived
        if self.registration_date and self.registration_date > timezone.localdate():
            errors["registration_date"] = "成立日期不能晚于今天"
        if self.registered_capital is None and self.entity_type in {
            self.EntityType.ENTERPRISE,
            self.EntityType.COOPERATIVE,
        }:
            # Capital may be empty only for individual businesses, which have none registered.
            errors["registered_capital"] = "企业和农民专业合作社须填写注册资本"
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.search_text, self.name_grams = search_fields(self.name, self.former_names)
        super().save(*args, **kwargs)


def search_fields(name: str, former_names: list[str] | None) -> tuple[str, list[str]]:
    """The search column and the distinct 2-character words of the name and former names."""
    names = [name, *(former_names or [])]
    grams: dict[str, None] = {}
    for n in names:
        for i in range(len(n) - 1):
            grams.setdefault(n[i : i + 2], None)
    return " ".join(names), list(grams)


class AnnualReport(BaseModel):
    """An annual report (年报) for `year`, due 1 January – 30 June of the following year."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("market entity"), on_delete=models.PROTECT, related_name="annual_reports"
    )
    year = models.PositiveSmallIntegerField(_("report year"))
    filed_on = models.DateField(_("filed on"))
    on_time = models.BooleanField(_("filed on time"), editable=False)

    class Meta:
        ordering = ["enterprise", "-year"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year"],
                name="annual_report_once_per_year",
                violation_error_message=_("This entity already has an annual report for that year."),
            ),
        ]
        indexes = [models.Index(fields=["year", "on_time"], name="annual_report_year_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year}"

    @staticmethod
    def deadline(year: int) -> dt.date:
        return dt.date(year + 1, 6, 30)

    def save(self, *args, **kwargs) -> None:
        self.on_time = self.filed_on <= self.deadline(self.year)
        super().save(*args, **kwargs)


class RegistrationChange(BaseModel):
    """A registered change (变更登记) of name, legal representative, address, … as recorded by registration."""

    class Field(models.TextChoices):
        NAME = "name", _("Name")
        LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
        ADDRESS = "address", _("Address")
        CAPITAL = "registered_capital", _("Registered capital")
        INDUSTRY = "industry_code", _("Industry")
        STATUS = "status", _("Status")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="changes")
    field = models.CharField(_("field"), max_length=30, choices=Field.choices)
    old_value = models.CharField(_("old value"), max_length=255, blank=True)
    new_value = models.CharField(_("new value"), max_length=255, blank=True)
    changed_on = models.DateField(_("changed on"))

    class Meta:
        ordering = ["enterprise", "-changed_on"]
        verbose_name = _("registration change")
        verbose_name_plural = _("registration changes")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.field} {self.changed_on}"


class Licence(BaseModel):
    """An administrative licence (行政许可) held by the entity."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="licences")
    number = models.CharField(_("licence number"), max_length=60)
    name = models.CharField(_("licence"), max_length=100)
    authority = models.CharField(_("issuing authority"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALID)

    class Meta:
        ordering = ["enterprise", "-valid_from"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="licence_number_unique_per_authority"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class Commitment(BaseModel):
    """A credit commitment (信用承诺) the entity made, and whether it was kept or found false."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet verified")
        KEPT = "kept", _("Kept")
        FALSE = "false", _("False commitment")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="commitments")
    kind = models.CharField(_("kind"), max_length=60)
    text = models.TextField(_("text"))
    made_on = models.DateField(_("made on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    verified_on = models.DateField(_("verified on"), null=True, blank=True)

    class Meta:
        ordering = ["enterprise", "-made_on"]
        verbose_name = _("credit commitment")
        verbose_name_plural = _("credit commitments")

    def __str__(self) -> str:
        return f"{self.kind} {self.made_on}"


class Honour(BaseModel):
    """A positive record (荣誉): an award or a credit-compliance programme."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="honours")
    title = models.CharField(_("title"), max_length=200)
    awarded_by = models.CharField(_("awarded by"), max_length=100)
    awarded_on = models.DateField(_("awarded on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["enterprise", "-awarded_on"]
        verbose_name = _("honour")
        verbose_name_plural = _("honours")

    def __str__(self) -> str:
        return self.title


class Complaint(BaseModel):
    """A complaint or report (投诉举报) about the entity."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="complaints")
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=30, default="12315")
    summary = models.TextField(_("summary"))
    substantiated = models.BooleanField(_("substantiated"), null=True, blank=True)

    class Meta:
        ordering = ["enterprise", "-received_on"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.received_on}"
