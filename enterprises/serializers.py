"""Read serializers of the registry API. Internal assessments (risk_class) are not part of this API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.roles import BUREAU_ROLES
from enterprises.masking import mask_id_number
from enterprises.models import AnnualReport, Enterprise, Industry, Region


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class IndustryDivisionSerializer(serializers.ModelSerializer):
    full_code = serializers.SerializerMethodField(help_text="Section letter and division, e.g. C14.")

    class Meta:
        model = Industry
        fields = ["code", "full_code", "name", "section"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_full_code(self, obj: Industry) -> str:
        return f"{obj.section_id}{obj.code}" if obj.section_id else obj.code


class IndustrySerializer(serializers.ModelSerializer):
    """A GB/T 4754-2017 section with its divisions (a division has none)."""

    divisions = IndustryDivisionSerializer(many=True, read_only=True)

    class Meta:
        model = Industry
        fields = ["code", "name", "section", "divisions"]


class EnterpriseSerializer(serializers.ModelSerializer):
    """The registry record as regulators and department systems read it (never risk_class: credit issue)."""

    region_name = serializers.CharField(source="region.name", read_only=True)
    industry_name = serializers.CharField(source="industry.name", read_only=True, allow_null=True, default=None)
    former_names = serializers.ListField(child=serializers.CharField(), read_only=True)
    key_areas = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    legal_representative_id_number = serializers.SerializerMethodField(
        help_text="Full for staff of the bureau; masked (1407**********1234) for department API clients."
    )

    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "entity_type",
            "name",
            "former_names",
            "registration_number",
            "legal_representative",
            "legal_representative_id_number",
            "address",
            "region",
            "region_name",
            "industry",
            "industry_name",
            "industry_code",
            "registered_capital",
            "registration_date",
            "status",
            "key_areas",
            "contact_phone",
            "contact_email",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_legal_representative_id_number(self, obj: Enterprise) -> str:
        # Personal data: bureau staff need it (identity checks, the 3-year restriction on legal representatives);
        # another department's system does not, so it gets only the masked form (data minimisation).
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and (user.is_superuser or user.role in BUREAU_ROLES):
            return obj.legal_representative_id_number
        return mask_id_number(obj.legal_representative_id_number)


class AnnualReportSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = AnnualReport
        fields = ["id", "uscc", "enterprise_name", "year", "filed_on", "on_time"]
        read_only_fields = fields
