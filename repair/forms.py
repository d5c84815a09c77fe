"""Forms of the enterprise portal and of the staff review actions. They check the shape of the input; the rules
are the services' (a refusal there becomes a form error, nothing written)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from enterprises import identity
from repair.models import Material

FILE_HELP = _("PDF, JPG or PNG, at most 10 MB.")
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def _uscc_field() -> forms.CharField:
    return forms.CharField(
        label=_("unified social credit code"),
        max_length=18,
        min_length=18,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def clean_uscc(value: str) -> str:
    try:
        return identity.validate(value)
    except identity.InvalidUSCC as exc:
        raise forms.ValidationError(str(exc)) from exc


class PortalLoginForm(AuthenticationForm):
    """Login with the USCC as username (django-axes counts the failures of this form too)."""

    username = _uscc_field()

    error_messages = {
        "invalid_login": "统一社会信用代码或密码不正确。",
        "inactive": "该账号已停用，请联系登记机关。",
    }

    def clean_username(self) -> str:
        return (self.cleaned_data.get("username") or "").strip().upper()


class _PasswordPair(forms.Form):
    password1 = forms.CharField(
        label=_("new password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("repeat the new password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致。")
        return data


class ActivationForm(_PasswordPair):
    uscc = _uscc_field()
    code = forms.CharField(
        label=_("activation code"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )
    field_order = ["uscc", "code", "password1", "password2"]

    def clean_uscc(self) -> str:
        return clean_uscc(self.cleaned_data["uscc"])


class ResetRequestForm(forms.Form):
    uscc = _uscc_field()

    def clean_uscc(self) -> str:
        return clean_uscc(self.cleaned_data["uscc"])


class ResetConfirmForm(ActivationForm):
    code = forms.CharField(
        label=_("verification code"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )


class ApplicationForm(forms.Form):
    """An application for one record: statement, contact, the materials, 容缺 on request; one-time key."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    statement = forms.CharField(
        label=_("statement of the applicant"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What obligations you fulfilled and how the harm was removed."),
    )
    contact_name = forms.CharField(label=_("contact person"), max_length=50)
    contact_phone = forms.CharField(label=_("contact phone"), max_length=30)
    application_form = forms.FileField(
        label=Material.Kind.APPLICATION_FORM.label,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    credit_commitment = forms.FileField(
        label=Material.Kind.CREDIT_COMMITMENT.label,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    proof_of_fulfilment = forms.FileField(
        label=Material.Kind.PROOF_OF_FULFILMENT.label,
        required=False,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    other = forms.FileField(
        label=Material.Kind.OTHER.label,
        required=False,
        help_text=FILE_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    tolerance = forms.BooleanField(
        label=_("Accept with the proof of fulfilment to follow (容缺受理)"),
        required=False,
        help_text=_("I commit to supply the missing material within the period set; otherwise the repair is revoked."),
    )

    def __init__(self, *args, secondary: tuple[str, ...] = (), tolerance_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        if "proof_of_fulfilment" not in secondary:
            self.fields["proof_of_fulfilment"].help_text = _("Optional for this kind of repair.")
        if not secondary or not tolerance_allowed:
            del self.fields["tolerance"]

    def uploads(self) -> list[tuple[str, object]]:
        return [
            (kind, self.cleaned_data[kind])
            for kind in ("application_form", "credit_commitment", "proof_of_fulfilment", "other")
            if self.cleaned_data.get(kind)
        ]


class SupplyForm(forms.Form):
    kind = forms.ChoiceField(label=_("material"), choices=Material.Kind.choices)
    file = forms.FileField(
        label=_("file"), help_text=FILE_HELP, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT})
    )
    note = forms.CharField(label=_("note"), required=False, max_length=1000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False)


class RequestMaterialsForm(forms.Form):
    requested = forms.CharField(
        label=_("material requested"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("Everything that is missing, at once (一次性告知)."),
    )
