"""Serializers of the staff listing API: read serializers of the abnormal and serious lists, and the input
serializers of each decision (they check the form of the input; the rules are in disclosure.services.listings)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disclosure import texts
from disclosure.models import AbnormalListing, Objection, Penalty, Restriction, SeriousListing
from disclosure.services import listings
from enterprises import identity
from enterprises.models import Enterprise

NOT_FOUND_IN_SCOPE = "您的辖区内没有该统一社会信用代码对应的经营主体。"


def not_in_future(value: dt.date | None) -> dt.date | None:
    """Decisions are recorded when made: a date after today is a typing error (the services accept any day because
    the nightly jobs replay given dates)."""
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError("日期不能晚于今天。")
    return value


@extend_schema_field(OpenApiTypes.STR)
class ScopedUSCCField(serializers.Field):
    """A USCC, validated, resolved to an entity the requesting user may see (same answer for unknown and
    out-of-scope codes, so the API does not confirm that another county's entity exists)."""

    default_error_messages = {"invalid": "请填写统一社会信用代码。"}

    def to_internal_value(self, data) -> Enterprise:
        if not isinstance(data, str) or not data.strip() or len(data) > 30:
            self.fail("invalid")
        code = data
        try:
            code = identity.validate(code)
        except identity.InvalidUSCC as exc:
            raise serializers.ValidationError(str(exc)) from exc
        request = self.context.get("request")
        user = getattr(request, "user", None)
        enterprise = Enterprise.objects.visible_to(user).select_related("region").filter(uscc=code).first()
        if enterprise is None:
            raise serializers.ValidationError(NOT_FOUND_IN_SCOPE)
        return enterprise

    def to_representation(self, value) -> str:
        return value.uscc if isinstance(value, Enterprise) else str(value)


# --- abnormal list --------------------------------------------------------------------------------------------------
class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objection
        fields = [
            "id",
            "filed_on",
            "statement",
            "status",
            "acceptance_due",
            "verification_due",
            "decided_on",
            "decision_reason",
        ]
        read_only_fields = fields


class AbnormalListingSerializer(serializers.ModelSerializer):
    """An abnormal-list entry as staff see it (decision, removal, objections, 3-year dates)."""

    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    entity_type = serializers.CharField(source="enterprise.entity_type", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    reason_text = serializers.SerializerMethodField(help_text="The reason as printed on the decision.")
    reminder_due = serializers.SerializerMethodField(help_text="Public reminder due (60 days before 3 years).")
    escalation_due = serializers.SerializerMethodField(help_text="3 years on the list: serious-list escalation due.")
    objections = ObjectionSerializer(many=True, read_only=True)

    class Meta:
        model = AbnormalListing
        fields = [
            "id",
            "uscc",
            "enterprise_name",
            "entity_type",
            "region",
            "reason",
            "reason_text",
            "year",
            "is_mark",
            "cause_date",
            "decided_on",
            "decision_number",
            "office",
            "authority_name",
            "legal_basis",
            "remedies",
            "facts",
            "status",
            "removed_on",
            "removal_decision_number",
            "removal_reason",
            "removal_note",
            "reminder_published_on",
            "reminder_due",
            "escalation_due",
            "objections",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_reason_text(self, obj: AbnormalListing) -> str:
        return texts.abnormal_reason_text(obj.enterprise.entity_type, obj.reason)

    @extend_schema_field(OpenApiTypes.DATE)
    def get_reminder_due(self, obj: AbnormalListing) -> dt.date | None:
        return None if obj.is_mark else listings.reminder_due(obj)

    @extend_schema_field(OpenApiTypes.DATE)
    def get_escalation_due(self, obj: AbnormalListing) -> dt.date | None:
        return None if obj.is_mark else listings.escalation_due(obj)


class AbnormalListInputSerializer(serializers.Serializer):
    """List an entity (or mark an individual business). For reason annual_report give the report `year`; the
    cause date (30 June of the next year) is then implied. Other reasons: `cause_date`, no year."""

    uscc = ScopedUSCCField(help_text="Unified social credit code of an entity in your scope.")
    reason = serializers.ChoiceField(choices=AbnormalListing.Reason.choices)
    year = serializers.IntegerField(required=False, default=0, min_value=0, max_value=9999)
    cause_date = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])
    decided_on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])
    facts = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    tolerance = serializers.BooleanField(
        required=False, default=False, help_text="Force majeure but reachable otherwise: hold back (暂不列入)."
    )
    correctable_slip = serializers.BooleanField(
        required=False, default=False, help_text="Only a one-time correctable slip in a report (可允许更正一次)."
    )


class AbnormalRemoveInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=AbnormalListing.RemovalReason.choices)
    on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ObjectionFileInputSerializer(serializers.Serializer):
    filed_on = serializers.DateField(validators=[not_in_future])
    statement = serializers.CharField(max_length=5000)


class ObjectionActionInputSerializer(serializers.Serializer):
    """accept (for verification), refuse (not accepted, with a reason), uphold (remove the entry) or dismiss."""

    action = serializers.ChoiceField(choices=["accept", "refuse", "uphold", "dismiss"])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])


class AbnormalListResultSerializer(AbnormalListingSerializer):
    """The new entry, with the late-decision warning if it was decided after the 10-working-day deadline."""

    deadline_warning = serializers.SerializerMethodField()

    class Meta(AbnormalListingSerializer.Meta):
        fields = [*AbnormalListingSerializer.Meta.fields, "deadline_warning"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_deadline_warning(self, obj: AbnormalListing) -> str:
        return getattr(obj, "deadline_warning", "")


# --- serious list ---------------------------------------------------------------------------------------------------
class RestrictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Restriction
        fields = ["id", "kind", "person_name", "person_id_number", "starts_on", "ends_on", "ended_on"]
        read_only_fields = fields


class SeriousListingSerializer(serializers.ModelSerializer):
    """A serious-list procedure from notice to removal, with its restrictions (internal: includes hidden ones)."""

    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    source_penalty_number = serializers.CharField(
        source="source_penalty.decision_number", read_only=True, allow_null=True, default=None
    )
    source_abnormal_number = serializers.CharField(
        source="source_abnormal.decision_number", read_only=True, allow_null=True, default=None
    )
    restrictions = RestrictionSerializer(many=True, read_only=True)

    class Meta:
        model = SeriousListing
        fields = [
            "id",
            "uscc",
            "enterprise_name",
            "region",
            "ground",
            "source_penalty",
            "source_penalty_number",
            "source_abnormal",
            "source_abnormal_number",
            "office",
            "authority_name",
            "legal_basis",
            "facts",
            "stage",
            "notice_number",
            "noticed_on",
            "statement_due",
            "statement",
            "hearing_requested",
            "decision_number",
            "decided_on",
            "listed_until",
            "removed_on",
            "removal_kind",
            "removal_decision_number",
            "hidden_from_public",
            "restrictions",
            "created_at",
        ]
        read_only_fields = fields


class SeriousNoticeInputSerializer(serializers.Serializer):
    """Serve a notice of intended listing. serious_violation: `source_penalty` (id) of the entity, heavier (or a
    fine with `heavy_fine`); abnormal_3_years: `source_abnormal` (id) listed for 3 years."""

    uscc = ScopedUSCCField(help_text="Unified social credit code of an entity in your scope.")
    ground = serializers.ChoiceField(choices=SeriousListing.Ground.choices)
    source_penalty = serializers.PrimaryKeyRelatedField(
        queryset=Penalty.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "行政处罚决定 {pk_value} 不存在。"},
    )
    source_abnormal = serializers.PrimaryKeyRelatedField(
        queryset=AbnormalListing.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "经营异常名录记录 {pk_value} 不存在。"},
    )
    heavy_fine = serializers.BooleanField(required=False, default=False)
    facts = serializers.CharField(max_length=5000)
    noticed_on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])


class SeriousStatementInputSerializer(serializers.Serializer):
    statement = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    hearing_requested = serializers.BooleanField(required=False, default=False)


class SeriousDecideInputSerializer(serializers.Serializer):
    list_it = serializers.BooleanField(help_text="true: list for 3 years; false: not listed (give the reason).")
    decided_on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class SeriousRemoveInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SeriousListing.RemovalKind.choices)
    on = serializers.DateField(required=False, allow_null=True, default=None, validators=[not_in_future])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
