"""Serializers of the repair API: what an application shows (to its owner and to staff alike — nothing internal
about other entities), and the inputs of filing and of the review actions."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from repair.models import ApplicationStep, Material, RepairApplication, RepairDocument


class StepSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ApplicationStep
        fields = ["kind", "kind_display", "at", "actor_label", "note", "next_due"]


class MaterialSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "supplied_later",
            "created_at",
            "url",
        ]

    def get_url(self, obj: Material) -> str:
        return reverse("repair:material", args=[obj.application_id, obj.pk])


class DocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RepairDocument
        fields = ["id", "doc_type", "number", "issued_on", "sha256", "url"]

    def get_url(self, obj: RepairDocument) -> str:
        return reverse("repair:document", args=[obj.application_id, obj.pk])


class RepairApplicationSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    responsible_office = serializers.CharField(source="responsible_office_id", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = RepairApplication
        fields = [
            "id", "number", "uscc", "enterprise_name", "kind", "target_label", "status", "status_display", "channel",
            "responsible_office", "responsible_authority", "filed_on", "acceptance_due", "accepted_on",
            "decision_due", "due_on", "due_note", "overdue", "immediate", "tolerance", "tolerance_missing",
            "materials_due", "materials_completed_on", "requested_materials", "decided_on", "decision_reason",
            "revoked_on", "revocation_reason",
        ]  # fmt: skip

    def get_overdue(self, obj: RepairApplication) -> bool:
        today = self.context["today"]
        return bool(obj.is_open and obj.due_on is not None and obj.due_on < today)


class RepairApplicationDetailSerializer(RepairApplicationSerializer):
    steps = StepSerializer(many=True, read_only=True)
    materials = MaterialSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)

    class Meta(RepairApplicationSerializer.Meta):
        fields = [
            *RepairApplicationSerializer.Meta.fields,
            "statement",
            "contact_name",
            "contact_phone",
            "steps",
            "materials",
            "documents",
        ]


class ApplicationInputSerializer(serializers.Serializer):
    """Filing (multipart): the record, the statement, the contact, the materials, 容缺 on request."""

    target_type = serializers.ChoiceField(choices=["penalty", "abnormal", "serious", "inspection"])
    target_id = serializers.IntegerField(min_value=1)
    statement = serializers.CharField(max_length=4000)
    contact_name = serializers.CharField(max_length=50)
    contact_phone = serializers.CharField(max_length=30)
    application_form = serializers.FileField()
    credit_commitment = serializers.FileField()
    proof_of_fulfilment = serializers.FileField(required=False)
    other = serializers.FileField(required=False)
    tolerance = serializers.BooleanField(required=False, default=False)
    submission_key = serializers.UUIDField(
        required=False, help_text="A key of the client's own: a retry with the same key returns the same application."
    )


class SupplyInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Material.Kind.choices)
    file = serializers.FileField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class OptionalReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequestMaterialsInputSerializer(serializers.Serializer):
    requested = serializers.CharField(max_length=4000)


class EligibilitySerializer(serializers.Serializer):
    """One current record of the entity and what the rules say about it."""

    target_type = serializers.CharField()
    target_id = serializers.IntegerField(source="record.pk")
    kind = serializers.CharField()
    label = serializers.CharField()
    authority = serializers.CharField()
    may_apply = serializers.BooleanField(source="may_apply_now")
    immediate = serializers.BooleanField(source="eligibility.immediate")
    tolerance_allowed = serializers.BooleanField(source="eligibility.tolerance_allowed")
    reasons = serializers.ListField(child=serializers.CharField(), source="eligibility.reasons")
    from_date = serializers.DateField(source="eligibility.from_date", allow_null=True)
    rule = serializers.CharField(source="eligibility.rule")
    open_application = serializers.CharField(source="open_application.number", allow_null=True, default=None)
