"""Serializers of the regulators' credit API (never part of the public API: the class is internal)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credit.models import ClassChange, RiskResult
from credit.selectors import explanation_of


class ExplanationLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    group = serializers.CharField()
    text = serializers.CharField(help_text="plain Chinese, e.g. 行政处罚 2 次（近 1 年）")
    value = serializers.IntegerField(help_text="the feature's value (a count or 1 for a flag)")
    points = serializers.IntegerField()


class RiskResultSerializer(serializers.ModelSerializer):
    """An entity's current class with its score, each indicator's contribution, model version and data date."""

    uscc = serializers.CharField(source="enterprise.uscc")
    name = serializers.CharField(source="enterprise.name")
    region = serializers.CharField(source="enterprise.region_id")
    model_version = serializers.CharField(source="model_version.code")
    explanation = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    hard_rule_text = serializers.SerializerMethodField()

    class Meta:
        model = RiskResult
        fields = [
            "uscc", "name", "region", "risk_class", "score", "hard_rule", "hard_rule_text", "lines", "explanation",
            "model_version", "as_of", "updated_at",
        ]  # fmt: skip

    def _explanation(self, obj: RiskResult):
        cache = self.context.setdefault("_explanations", {})
        if obj.pk not in cache:
            cache[obj.pk] = explanation_of(obj)
        return cache[obj.pk]

    def get_explanation(self, obj: RiskResult) -> str:
        return self._explanation(obj).text

    def get_hard_rule_text(self, obj: RiskResult) -> str:
        return self._explanation(obj).hard_rule

    @extend_schema_field(ExplanationLineSerializer(many=True))
    def get_lines(self, obj: RiskResult) -> list[dict]:
        return [
            {"code": ln.code, "group": ln.group, "text": ln.text, "value": ln.value, "points": ln.points}
            for ln in self._explanation(obj).lines
        ]


class ClassChangeSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="model_version.code")

    class Meta:
        model = ClassChange
        fields = ["old_class", "new_class", "score", "model_version", "as_of", "changed_at"]
