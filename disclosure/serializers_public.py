"""Serializers of the public credit record API (no login). Plain Serializers with every field listed, never
ModelSerializer: a field added to a model later must not reach the public by accident.

Never here: risk_class, contact details, the legal representative's ID number, case officers, content hashes,
internal notes (facts, statements, withdrawal reasons), documents. Personal ID numbers of restricted persons come masked
from disclosure.selectors.public_record.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from disclosure.selectors import PublicPenalty, PublicRecord, penalty_kinds


class PublicPenaltySerializer(serializers.Serializer):
    """The summary fields of a disclosed penalty (行政处罚信息公示)."""

    decision_number = serializers.CharField()
    decision_date = serializers.DateField()
    violation_type = serializers.CharField()
    kinds = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the kinds of penalty (fine, confiscation, …)."
    )
    kind_labels = serializers.SerializerMethodField(help_text="The kinds in the language of the request.")
    fine_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Fine in yuan, or null."
    )
    content = serializers.CharField(help_text="Penalty content as decided.")
    authority_name = serializers.CharField(help_text="The deciding authority.")
    disclosed_from = serializers.DateField()
    disclosed_until = serializers.DateField(help_text="Last day of disclosure.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_kind_labels(self, obj: PublicPenalty) -> list[str]:
        return [label for _code, label in penalty_kinds(obj.kinds)]


class PublicAbnormalListingSerializer(serializers.Serializer):
    """An abnormal-list entry, or (is_mark) the abnormal mark of an individual business."""

    reason = serializers.CharField()
    reason_label = serializers.CharField(source="reason_text", help_text="The reason as worded on the decision.")
    is_mark = serializers.BooleanField(help_text="Marked (individual business, 标记经营异常状态) rather than listed.")
    decided_on = serializers.DateField()
    decision_number = serializers.CharField()
    authority_name = serializers.CharField()
    reminder_published_on = serializers.DateField(
        allow_null=True, help_text="Day the public reminder before the 3-year escalation was published, or null."
    )


class PublicRestrictionSerializer(serializers.Serializer):
    """A restriction in force; a restricted person's ID number is masked."""

    kind = serializers.CharField()
    kind_label = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="Last day of the restriction.")
    person_name = serializers.CharField()
    person_id_number = serializers.CharField(help_text="Masked: 1407**********1234.")
    serious_listing_decision_number = serializers.CharField()


class PublicSeriousListingSerializer(serializers.Serializer):
    """A serious-list entry with the restrictions attached to it."""

    ground = serializers.CharField()
    ground_label = serializers.CharField(source="ground_text", help_text="The ground as worded on the decision.")
    decided_on = serializers.DateField()
    decision_number = serializers.CharField()
    authority_name = serializers.CharField()
    listed_until = serializers.DateField(allow_null=True, help_text="Last day on the list.")
    restrictions = PublicRestrictionSerializer(many=True)


class PublicRecordSerializer(serializers.Serializer):
    """An entity's public record: the registration facts of its public page and its disclosed credit records."""

    as_of = serializers.DateField(source="on", help_text="The day the record was read for.")
    uscc = serializers.CharField(source="enterprise.uscc")
    name = serializers.CharField(source="enterprise.name")
    entity_type = serializers.CharField(source="enterprise.entity_type")
    entity_type_label = serializers.CharField(source="enterprise.get_entity_type_display")
    legal_representative = serializers.CharField(
        source="enterprise.legal_representative", help_text="Legal representative, or the operator of an individual."
    )
    address = serializers.CharField(source="enterprise.address")
    region = serializers.CharField(source="enterprise.region_id", help_text="Supervising county (GB/T 2260).")
    region_name = serializers.CharField(source="enterprise.region.name")
    industry = serializers.SerializerMethodField(help_text="GB/T 4754-2017 section and division, e.g. F52.")
    industry_name = serializers.CharField(source="enterprise.industry.name", allow_null=True, default=None)
    registered_capital = serializers.DecimalField(
        source="enterprise.registered_capital",
        max_digits=16,
        decimal_places=4,
        allow_null=True,
        help_text="In 10,000 yuan (万元); null for individual businesses.",
    )
    registration_date = serializers.DateField(source="enterprise.registration_date")
    registration_number = serializers.CharField(source="enterprise.registration_number")
    status = serializers.CharField(source="enterprise.status")
    status_label = serializers.CharField(source="enterprise.get_status_display")
    former_names = serializers.ListField(source="enterprise.former_names", child=serializers.CharField())
    penalties = PublicPenaltySerializer(many=True, help_text="Penalties under disclosure on `as_of`.")
    abnormal_listings = PublicAbnormalListingSerializer(many=True, help_text="Active listings and marks.")
    serious_listings = PublicSeriousListingSerializer(many=True)
    restrictions = PublicRestrictionSerializer(many=True, help_text="Every restriction in force on `as_of`.")

    @extend_schema_field(OpenApiTypes.STR)
    def get_industry(self, obj: PublicRecord) -> str | None:
        industry = obj.enterprise.industry
        if industry is None:
            return None
        return f"{industry.section_id or ''}{industry.code}"
