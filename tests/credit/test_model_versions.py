"""Model versions: validation of bad input on save, live versions immutable (supersede instead), adoption."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError

from core.errors import ApplicationError
from core.models import AuditEvent
from credit import services
from credit.defaults import DEFAULT_CODE, DEFAULT_SPEC
from credit.models import ModelVersion, Run
from credit.rules import SpecError, validate_spec
from tests.credit.helpers import AS_OF, clean_entity, live_version

pytestmark = pytest.mark.django_db


def spec_with(change) -> dict:
    spec = copy.deepcopy(DEFAULT_SPEC)
    change(spec)
    return spec


def _bands(*bands):
    return lambda s: s.update(bands=[{"class": c, "min": lo, "max": hi} for c, lo, hi in bands])


BAD = [
    ("missing weight", lambda s: s["indicators"][0].pop("weight"), "指标 young 缺少权重"),
    ("empty weight", lambda s: s["indicators"][0].update(weight=None), "指标 young 缺少权重"),
    ("fractional weight", lambda s: s["indicators"][0].update(weight=1.5), "应为整数"),
    ("unknown indicator", lambda s: s["indicators"].append({"code": "horoscope", "weight": 5}), "未知指标：horoscope"),
    ("no code", lambda s: s["indicators"].append({"weight": 5}), "缺少指标代码"),
    ("duplicate", lambda s: s["indicators"].append({"code": "young", "weight": 5}), "重复出现"),
    ("unknown parameter", lambda s: s["indicators"][0].update(params={"decades": 2}), "没有参数 decades"),
    ("negative parameter", lambda s: s["indicators"][0].update(params={"months": -1}), "非负整数"),
    ("zero cap", lambda s: s["indicators"][0].update(params={"cap": 0}), "上限（cap）至少为 1"),
    ("overlapping bands", _bands(("A", None, 0), ("B", -10, 30), ("C", 30, 100), ("D", 100, None)), "重叠"),
    ("gapped bands", _bands(("A", None, 0), ("B", 10, 30), ("C", 30, 100), ("D", 100, None)), "空档（0 至 10）"),
    ("missing band", _bands(("A", None, 0), ("B", 0, 30), ("D", 30, None)), "恰好包含 A、B、C、D"),
    ("bounded A", _bands(("A", -50, 0), ("B", 0, 30), ("C", 30, 100), ("D", 100, None)), "A 类分数区间应无下限"),
    ("bounded D", _bands(("A", None, 0), ("B", 0, 30), ("C", 30, 100), ("D", 100, 500)), "D 类分数区间应无上限"),
    ("empty band", _bands(("A", None, 0), ("B", 0, 0), ("C", 0, 100), ("D", 100, None)), "下限（0）应小于上限（0）"),
    ("no bands", lambda s: s.pop("bands"), "分数区间"),
    ("rule references nothing", lambda s: s["hard_rules"].append({"min_class": "D"}), "没有引用任何指标"),
    ("rule on an unknown indicator", lambda s: s["hard_rules"].append({"indicator": "tarot", "min_class": "D"}),
     "引用了未知指标：tarot"),
    ("rule without class", lambda s: s["hard_rules"].append({"indicator": "revoked"}), "最低类别"),
    ("rule with value 0", lambda s: s["hard_rules"].append({"indicator": "revoked", "min_value": 0, "min_class": "C"}),
     "触发值"),
    ("no indicators", lambda s: s.update(indicators=[]), "至少应包含一个指标"),
    ("unknown top-level key", lambda s: s.update(weights={}), "无法识别的项：weights"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "change", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_specification_is_rejected_on_save_with_a_clear_message(label, change, message):
    spec = spec_with(change)
    with pytest.raises(SpecError) as excinfo:
        validate_spec(spec)
    assert any(message in m for m in excinfo.value.messages), excinfo.value.messages
    with pytest.raises(ValidationError) as saved:
        services.model_version_create(actor=None, code="bad", name="坏", spec=spec)
    assert any(message in m for m in saved.value.message_dict["spec"])
    assert not ModelVersion.objects.filter(code="bad").exists()


def test_the_default_specification_is_valid_and_live():
    version = live_version()
    assert version.code == DEFAULT_CODE
    model = validate_spec(version.spec)
    assert len(model.terms) == len(DEFAULT_SPEC["indicators"])


def test_a_live_version_cannot_be_edited_only_superseded(city_regulator):
    version = live_version()
    with pytest.raises(ApplicationError, match="不能修改"):
        services.model_version_update(actor=city_regulator, version=version, data={"name": "改名"})
    version.spec = spec_with(lambda s: s["indicators"][0].update(weight=99))
    with pytest.raises(ValidationError, match="不能修改"):
        version.full_clean()
    draft = services.model_version_supersede(actor=city_regulator, version=live_version())
    assert (draft.status, draft.supersedes_id, draft.spec) == ("draft", version.pk, live_version().spec)
    assert draft.code == f"{DEFAULT_CODE}-r1"
    services.model_version_update(
        actor=city_regulator, version=draft, data={"spec": spec_with(lambda s: s["indicators"][0].update(weight=20))}
    )
    assert live_version().spec == DEFAULT_SPEC
    assert AuditEvent.objects.filter(action="credit.model_version_updated", object_id=str(draft.pk)).exists()


def test_adopting_needs_a_shadow_run_and_supersedes_the_live_version_in_one_audited_action(city_regulator):
    clean_entity()
    previous = live_version()
    draft = services.model_version_supersede(actor=city_regulator, version=previous)
    with pytest.raises(ApplicationError, match="影子运行"):
        services.model_version_adopt(actor=city_regulator, version=draft)
    shadow = services.reclassify(as_of=AS_OF, model_version=draft)
    assert shadow.mode == Run.Mode.SHADOW
    services.model_version_adopt(actor=city_regulator, version=draft)
    draft.refresh_from_db()
    previous.refresh_from_db()
    assert draft.status == "live" and draft.adopted_by == city_regulator and draft.adopted_at is not None
    assert previous.status == "superseded" and previous.superseded_at is not None
    assert ModelVersion.objects.filter(status="live").count() == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"credit.model_version_adopted", "credit.model_version_superseded"} <= actions
    with pytest.raises(ApplicationError, match="只有候选"):
        services.model_version_adopt(actor=city_regulator, version=draft)
    # The next live run uses the new version.
    assert services.reclassify(as_of=AS_OF).model_version_id == draft.pk
