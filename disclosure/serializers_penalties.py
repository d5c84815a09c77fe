"""Serializers of the penalty API: the department push (input), the withdrawal (input) and the record with its
disclosure (output). They check shapes and types; the rules are disclosure.services.penalties'."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disclosure.models import DisclosurePolicy, Penalty
from disclosure.selectors import penalty_shown_on


class PenaltyPushSerializer(serializers.Serializer):
    """What a department's system sends. The department is the token's: a body cannot name another one."""

    uscc = serializers.CharField(max_length=30, help_text="Unified social credit code of the punished entity.")
    decision_number = serializers.CharField(max_length=100, help_text="Decision number (文号), unique per department.")
    decision_date = serializers.DateField(help_text="Date of the decision; not in the future.")
    procedure = serializers.ChoiceField(choices=Penalty.Procedure.choices)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Penalty.Kind.choices),
        allow_empty=False,
        help_text="Kinds of penalty, each at most once.",
    )
    fine_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        default=None,
        help_text="Fine in yuan: required with the kind `fine`, forbidden without it.",
    )
    domain = serializers.ChoiceField(choices=Penalty.Domain.choices)
    violation_type = serializers.CharField(max_length=200)
    legal_basis = serializers.CharField()
    content = serializers.CharField(allow_blank=True, default="", help_text="Penalty content (处罚内容).")
    authority_name = serializers.CharField(max_length=100, allow_blank=True, default="")
    restriction_until = serializers.DateField(
        allow_null=True, default=None, help_text="Last day of a legal restriction (e.g. an employment ban), if any."
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Unknown keys are refused rather than ignored: a client that sends `department` (or a misspelt field)
        # must learn that it has no effect.
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                errors = {
                    name: ["部门由访问令牌确定，不接受 department 字段。" if name == "department" else "不支持的字段。"]
                    for name in unknown
                }
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class PenaltyWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the decision is withdrawn (revoked or changed).")


class PolicyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisclosurePolicy
        fields = ["code", "name"]


class DisclosureSerializer(serializers.Serializer):
    """The disclosure of a penalty: whether, why not, from when to when, under which policy and tier."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword: the fields are built here rather than as class attributes.
        return {
            "disclosed": serializers.BooleanField(read_only=True),
            "reason": serializers.CharField(
                source="not_disclosed_reason", read_only=True, help_text="Why it is not disclosed; empty when it is."
            ),
            "from": serializers.DateField(source="disclosed_from", read_only=True, allow_null=True),
            "until": serializers.DateField(
                source="disclosed_until", read_only=True, allow_null=True, help_text="Last day shown."
            ),
            "policy": PolicyRefSerializer(read_only=True, allow_null=True),
            "tier": serializers.ChoiceField(choices=Penalty.Tier.choices, read_only=True),
            "repair_possible_from": serializers.DateField(read_only=True, allow_null=True),
            "due_by": serializers.DateField(
                source="disclosure_due_by",
                read_only=True,
                allow_null=True,
                help_text="To be disclosed by (20 working days of the decision); null if the calendar is unknown.",
            ),
            "ended_on": serializers.DateField(source="disclosure_ended_on", read_only=True, allow_null=True),
            "end_reason": serializers.ChoiceField(
                source="disclosure_end_reason", choices=Penalty.EndReason.choices, read_only=True, allow_blank=True
            ),
            "public_today": serializers.SerializerMethodField(
                help_text="Whether the public record shows it today (in force, begun, not ended, not expired)."
            ),
            "note": serializers.SerializerMethodField(help_text="Why a date could not be computed, if so."),
        }

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_public_today(self, penalty: Penalty) -> bool:
        return penalty_shown_on(penalty, on=timezone.localdate())

    @extend_schema_field(OpenApiTypes.STR)
    def get_note(self, penalty: Penalty) -> str:
        return getattr(penalty, "disclosure_note", "") or ""


class PenaltySerializer(serializers.ModelSerializer):
    """A penalty as its department and the regulators read it (the case officer stays internal to the admin)."""

    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=Penalty.Kind.choices), read_only=True)
    has_document = serializers.SerializerMethodField(help_text="Whether the redacted decision document is on file.")
    disclosure = DisclosureSerializer(source="*", read_only=True)

    class Meta:
        model = Penalty
        fields = [
            "id",
            "uscc",
            "enterprise_name",
            "department",
            "department_name",
            "decision_number",
            "decision_date",
            "procedure",
            "kinds",
            "fine_amount",
            "domain",
            "violation_type",
            "legal_basis",
            "content",
            "authority_name",
            "restriction_until",
            "status",
            "withdrawn_at",
            "withdrawal_reason",
            "has_document",
            "disclosure",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_document(self, penalty: Penalty) -> bool:
        return bool(penalty.document)
