"""Admin forms of penalties and disclosure policies.

The forms save nothing themselves: clean() calls the service (inside a savepoint), so a refusal of the service is
shown as a form error on the right field and leaves the database as it was; the admin then only redirects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.models import Department
from disclosure.models import DisclosurePolicy, Penalty
from disclosure.services.penalties import (
    disclosure_policy_create,
    disclosure_policy_update,
    penalty_correct,
    penalty_record,
)

# Fields of the decision that staff enter and correct (the disclosure is computed, never typed in).
DECISION_FIELDS = [
    "enterprise", "decision_number", "decision_date", "procedure", "kinds", "fine_amount", "domain",
    "violation_type", "legal_basis", "content", "authority_name", "case_officer", "restriction_until",
]  # fmt: skip


def departments_for(user: Any) -> Any:
    """Departments a staff user without a department of its own may record for: the city's all, a county's its own."""
    if user.is_city_wide:
        return Department.objects.all()
    return Department.objects.filter(region_code=user.region_code) if user.region_code else Department.objects.none()


class ServiceForm(forms.ModelForm):
    """A model form whose save is a service call made in clean(); `result` holds what the service returned."""

    request: ClassVar[HttpRequest | None] = None  # set on the class the admin builds for each request
    # Service error fields → form fields (the service speaks of the USCC, the form of the enterprise).
    field_aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.result: Any = None

    def _post_clean(self) -> None:
        # No construct_instance()/full_clean() on the form's instance: the service validates and saves, and an
        # existing record must not be mutated in memory by a form that the service then refuses.
        return

    def call_service(self) -> Any:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.result = self.call_service()
        except ApplicationError as exc:
            self._add_service_error(exc)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned

    def _add_service_error(self, exc: ApplicationError) -> None:
        fields = exc.extra.get("fields") or {}
        placed = False
        for name, messages in fields.items():
            target = self.field_aliases.get(name, name)
            if target in self.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(target, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class PenaltyFormBase(ServiceForm):
    kinds = forms.MultipleChoiceField(
        label=_("kinds of penalty"), choices=Penalty.Kind.choices, widget=forms.CheckboxSelectMultiple
    )
    field_aliases: ClassVar[dict[str, str]] = {"uscc": "enterprise"}

    class Meta:
        model = Penalty
        fields = DECISION_FIELDS

    def decision(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "uscc": data["enterprise"].uscc,
            "decision_number": data["decision_number"],
            "decision_date": data["decision_date"],
            "procedure": data["procedure"],
            "kinds": list(data["kinds"]),
            "fine_amount": data.get("fine_amount"),
            "domain": data["domain"],
            "violation_type": data["violation_type"],
            "legal_basis": data["legal_basis"],
            "content": data.get("content") or "",
            "authority_name": data.get("authority_name") or "",
            "case_officer": data.get("case_officer") or "",
            "restriction_until": data.get("restriction_until"),
        }


class PenaltyAddForm(PenaltyFormBase):
    """Staff entry of a penalty decision: penalty_record, with the department of the user (or chosen by a user who
    has none, e.g. the city bureau's regulators) and optionally the redacted document."""

    disclosed_from = forms.DateField(
        label=_("disclosed from"), required=False, help_text=_("Leave empty to start the disclosure today.")
    )
    upload = forms.FileField(
        label=_("redacted decision document (PDF)"),
        required=False,
        help_text=_("PDF only, at most 10 MB; personal data masked."),
    )

    class Meta(PenaltyFormBase.Meta):
        fields = [*DECISION_FIELDS, "department"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "department" in self.fields and self.request is not None:
            self.fields["department"].queryset = departments_for(self.request.user)
            self.fields["department"].required = True

    def call_service(self) -> Penalty:
        user = self.request.user if self.request is not None else None
        department = getattr(user, "department", None) or self.cleaned_data.get("department")
        penalty, created = penalty_record(
            actor=user,
            department=department,
            disclosed_from=self.cleaned_data.get("disclosed_from"),
            document=self.cleaned_data.get("upload"),
            **self.decision(),
        )
        if not created:
            # Nothing was written; say so instead of pretending a new record was added.
            raise ApplicationError(
                f"该部门已登记文号为“{penalty.decision_number}”且内容相同的行政处罚（记录 {penalty.pk}），未重复登记。",
                code="already_recorded",
            )
        return penalty


class PenaltyCorrectForm(PenaltyFormBase):
    """Correction of a wrongly entered penalty by staff: penalty_correct with a required reason."""

    correction_reason = forms.CharField(
        label=_("reason for the correction"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required: kept in the audit trail with the values before and after."),
    )

    def call_service(self) -> Penalty:
        changed = [name for name in self.changed_data if name in DECISION_FIELDS]
        if not changed:
            return self.instance
        decision = self.decision()
        # The service names the party by its USCC; the form by the enterprise.
        keys = ["uscc" if name == "enterprise" else name for name in changed]
        changes = {key: decision[key] for key in keys}
        user = self.request.user if self.request is not None else None
        return penalty_correct(
            actor=user, penalty=self.instance, changes=changes, reason=self.cleaned_data["correction_reason"]
        )


class PenaltyWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for the withdrawal"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The decision was revoked or changed. The penalty leaves the public record at once."),
    )


class PenaltyDocumentForm(forms.Form):
    file = forms.FileField(
        label=_("redacted decision document (PDF)"),
        help_text=_("PDF only, at most 10 MB; personal data masked."),
    )


class DisclosurePolicyForm(ServiceForm):
    """A disclosure policy row: created or changed through the audited services."""

    class Meta:
        model = DisclosurePolicy
        fields = [
            "code", "name", "scheme", "basis", "effective_from", "retroactive_if_lenient", "minor_months",
            "general_months", "serious_months", "repair_general_months", "repair_serious_months",
            "repair_key_domain_months", "disclosure_deadline_working_days", "withdrawal_deadline_working_days",
        ]  # fmt: skip

    def call_service(self) -> DisclosurePolicy:
        user = self.request.user if self.request is not None else None
        if self.instance.pk is None:
            fields = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
            return disclosure_policy_create(actor=user, **fields)
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}
        return disclosure_policy_update(actor=user, policy=self.instance, changes=changes)
