"""Forms of the credit admin pages: a credit check (one code, pasted codes or a file) and a report's scope."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit.models import CreditCheck


def _default_start() -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - 3) + dt.timedelta(days=1)
    except ValueError:
        return today.replace(year=today.year - 3, day=28)


class CheckForm(forms.Form):
    """One entity (a code) or a batch (pasted codes or an .xlsx/.csv list), for a purpose and a period."""

    uscc = forms.CharField(label=_("Unified social credit code (one entity)"), max_length=40, required=False)
    codes = forms.CharField(
        label=_("Or: codes of a batch, one per line"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
        required=False,
    )
    upload = forms.FileField(label=_("Or: a list as .xlsx or .csv (column 统一社会信用代码)"), required=False)
    purpose = forms.ChoiceField(label=_("purpose"), choices=[c for c in CreditCheck.Purpose.choices if c[0] != "self"])
    purpose_note = forms.CharField(label=_("purpose details"), max_length=200, required=False)
    period_start = forms.DateField(
        label=_("period from"), initial=_default_start, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("period to"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    output = forms.ChoiceField(
        label=_("Certificates of a batch"),
        choices=[("zip", _("one PDF per entity (zip)")), ("combined", _("one combined PDF"))],
        initial="zip",
    )

    def clean(self):
        data = super().clean()
        given = [
            bool((data.get("uscc") or "").strip()),
            bool((data.get("codes") or "").strip()),
            bool(data.get("upload")),
        ]
        if sum(given) == 0:
            raise forms.ValidationError("请填写一个统一社会信用代码，或粘贴批量代码，或上传名单文件")
        if sum(given) > 1:
            raise forms.ValidationError("单个代码、粘贴代码和上传文件只能选择一种")
        return data


class ReportForm(forms.Form):
    region = forms.ChoiceField(label=_("County"), required=False)
    start = forms.DateField(label=_("period from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("period to"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, counties=(), city_wide: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "全市")] if city_wide else []
        self.fields["region"].choices = choices + [(c.code, c.name) for c in counties]
