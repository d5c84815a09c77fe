"""Serializers of the inspections API. The seed of a draw appears only once revealed; risk classes (internal,
DESIGN.md §3.5) appear only in a plan's preview for regulators, never on tasks."""

from __future__ import annotations

from rest_framework import serializers

from inspections.forms import RATIO_ERRORS, RATIO_FIELDS
from inspections.models import (
    AbnormalProposal,
    CaseLead,
    Draw,
    Evidence,
    InspectionItem,
    Inspector,
    Plan,
    Result,
    Task,
)


class InspectionItemSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = InspectionItem
        fields = ["id", "code", "name", "department", "department_name", "legal_basis", "kind", "active"]


class InspectorSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.code", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    qualifications = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    conflicts = serializers.SlugRelatedField(slug_field="uscc", many=True, read_only=True)

    class Meta:
        model = Inspector
        fields = [
            "id", "name", "department", "region", "qualifications", "warrant_number", "warrant_expires_on", "active",
            "conflicts",
        ]  # fmt: skip


class DrawSerializer(serializers.ModelSerializer):
    seed = serializers.CharField(source="public_seed", read_only=True)

    class Meta:
        model = Draw
        fields = [
            "number", "status", "commitment", "committed_at", "seed", "revealed_at", "algorithm", "snapshot_hash",
            "snapshot_size", "roster_hash", "result_hash", "drawn_at", "redraw_reason",
        ]  # fmt: skip


class PlanSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    items = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    scope_regions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    scope_industries = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    scope_key_areas = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    draws = DrawSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id", "name", "year", "region", "status", "items", "scope_regions", "scope_industries", "scope_key_areas",
            "scope_entity_types", *RATIO_FIELDS, "frequency_cap", "planned_start", "planned_end", "published_on",
            "draws",
        ]  # fmt: skip


def _ratio() -> serializers.DecimalField:
    # "%%": Django %-formats the message with the limit (the model validator's unescaped "%。" crashes there).
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        error_messages={
            "min_value": "抽查比例不能小于 0%%。",
            "max_value": "抽查比例不能大于 100%%。",
            "invalid": RATIO_ERRORS["invalid"],
        },
    )


class PlanInputSerializer(serializers.Serializer):
    """Create or change a draft plan: items by code, scope by region/industry/key-area codes, ratios in percent."""

    name = serializers.CharField(max_length=200)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    region = serializers.CharField(max_length=6)
    items = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    scope_regions = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    scope_industries = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    scope_key_areas = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    scope_entity_types = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    ratio_a = _ratio()
    ratio_b = _ratio()
    ratio_c = _ratio()
    ratio_d = _ratio()
    ratio_unclassified = _ratio()
    frequency_cap = serializers.IntegerField(min_value=1, required=False)
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()


class PreviewClassSerializer(serializers.Serializer):
    risk_class = serializers.CharField()
    population = serializers.IntegerField()
    ratio = serializers.DecimalField(max_digits=5, decimal_places=2)
    expected = serializers.IntegerField()


class PlanPreviewSerializer(serializers.Serializer):
    scope_total = serializers.IntegerField()
    population_total = serializers.IntegerField()
    expected_total = serializers.IntegerField()
    already_covered = serializers.IntegerField()
    coverage = serializers.FloatField()
    warnings = serializers.ListField(child=serializers.CharField())
    by_class = PreviewClassSerializer(many=True)


class DrawInputSerializer(serializers.Serializer):
    reveal = serializers.BooleanField(default=True)


class RedrawReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class TaskSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    address = serializers.CharField(source="enterprise.address", read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    inspectors = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "plan", "plan_name", "uscc", "enterprise_name", "address", "status", "inspectors"]

    def get_inspectors(self, obj: Task) -> list[dict]:
        return [
            {"name": a.inspector.name, "warrant_number": a.inspector.warrant_number, "department": a.department_id}
            for a in obj.assignments.all()
        ]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "description", "created_at"]


class ResultSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.name", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Result
        fields = [
            "id", "task", "plan", "uscc", "inspected_on", "outcome", "outcome_display", "problem_found", "details",
            "recorded_by", "publication_due", "published_on", "overdue", "evidence",
        ]  # fmt: skip


class ResultInputSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Result.Outcome.choices)
    inspected_on = serializers.DateField()
    details = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    evidence_description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CaseLeadSerializer(serializers.ModelSerializer):
    """A case lead (案件线索) with the finding it came from."""

    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    plan = serializers.IntegerField(source="result.plan_id", read_only=True)
    inspected_on = serializers.DateField(source="result.inspected_on", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CaseLead
        fields = [
            "id", "result", "plan", "uscc", "enterprise_name", "inspected_on", "summary", "status", "status_display",
            "closed_note", "created_at",
        ]  # fmt: skip


class AbnormalProposalSerializer(serializers.ModelSerializer):
    """A "not reachable" finding proposed for the abnormal list, and its decision."""

    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    plan = serializers.IntegerField(source="result.plan_id", read_only=True)
    inspected_on = serializers.DateField(source="result.inspected_on", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = AbnormalProposal
        fields = [
            "id", "result", "plan", "uscc", "enterprise_name", "inspected_on", "status", "status_display", "listing",
            "decided_at", "decision_note", "created_at",
        ]  # fmt: skip
