"""Forms of the inspections admin: the action forms (redraw reason, result, dismissal, statistics period).

They validate input only; every rule is in inspections.services (the admin shows a service's refusal as the
form's error).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Region
from inspections.models import Result

EVIDENCE_HELP = _("Photos, scanned records or documents; several files may be chosen at once.")


RATIO_ERRORS = {
    # The model's own validator messages end in "%。" and cannot be %-formatted by Django (a crash on a bad ratio);
    # the form and the API check the range first with these.
    "min_value": "抽查比例不能小于 %(limit_value)s%%。",
    "max_value": "抽查比例不能大于 %(limit_value)s%%。",
    "invalid": "抽查比例应为数字（百分比，如 10 或 2.5）。",
}
RATIO_FIELDS = ("ratio_a", "ratio_b", "ratio_c", "ratio_d", "ratio_unclassified")


def ratio_field(name: str) -> forms.DecimalField:
    """A plan's ratio as a form field: the model's label and default (A 1 %, B 2 %, C 10 %, D 30 %), range 0–100."""
    from inspections.models import Plan

    model_field = Plan._meta.get_field(name)
    return forms.DecimalField(
        label=model_field.verbose_name,
        initial=model_field.default,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        error_messages=RATIO_ERRORS,
    )


class ConfirmForm(forms.Form):
    """An action without input (commit, draw, reveal, publish, confirm): the button is the confirmation."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("请填写理由。")
        return reason


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input (the pattern of Django's documentation)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ResultForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=Result.Outcome.choices)
    inspected_on = forms.DateField(label=_("inspected on"), initial=timezone.localdate)
    details = forms.CharField(label=_("findings"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    evidence = MultipleFileField(label=_("evidence files"), required=False, help_text=EVIDENCE_HELP)
    evidence_description = forms.CharField(label=_("description of the files"), max_length=200, required=False)


class StatisticsForm(forms.Form):
    start = forms.DateField(label=_("from"))
    end = forms.DateField(label=_("to"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = dt.date(today.year, 1, 1)
        self.fields["end"].initial = dt.date(today.year, 12, 31)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError("结束日期不能早于开始日期。")
        return data


def counties_for(user) -> list[Region]:
    """The counties whose figures the user may see: all of them for the city, its own for a county."""
    counties = Region.objects.filter(level="county").order_by("code")
    if user.is_city_wide:
        return list(counties)
    return list(counties.filter(code=user.region_code))


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("Excel (.xlsx) or CSV (UTF-8 or GB18030). The first row is the header, in English or Chinese."),
    )
    dry_run = forms.BooleanField(label=_("Only check, do not import"), required=False)
