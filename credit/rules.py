"""The rules of a model version, as pure functions: validating its specification, scoring an entity's features,
and explaining a result in plain Chinese.

A specification (ModelVersion.spec):

    {"indicators": [{"code": "penalties_recent", "weight": 60, "params": {"years": 1, "cap": 3}}, …],
     "hard_rules": [{"indicator": "serious_listed", "min_value": 1, "min_class": "D"}, …],
     "bands": [{"class": "A", "min": null, "max": -20}, {"class": "B", "min": -20, "max": 40}, …]}

Points of an indicator: weight × min(value, cap) if value ≥ threshold, else 0. Score: the sum of the points. Class:
the band of the score (bands are half-open [min, max), A lowest), raised to the `min_class` of every hard rule
that holds (value ≥ min_value) — hard rules first, then bands (DESIGN.md §3.5). The same arithmetic runs in SQL
(credit.engine) and here (the portable path and the explanation); tests check both agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credit.indicators import GROUPS, INDICATORS
from credit.models import CLASSES


class SpecError(Exception):
    """A specification that cannot be a model version; `messages` say why, in Chinese."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Term:
    """One indicator of a version, with its weight and its parameters resolved against the defaults."""

    code: str
    weight: int
    params: Mapping[str, Any]

    @property
    def cap(self) -> int:
        return int(self.params["cap"])

    @property
    def threshold(self) -> int:
        return int(self.params["threshold"])

    def points(self, value: int) -> int:
        return self.weight * min(value, self.cap) if value >= self.threshold else 0


@dataclass(frozen=True)
class HardRule:
    indicator: str
    min_value: int
    min_class: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Band:
    risk_class: str
    low: int | None  # inclusive; None: no lower bound
    high: int | None  # exclusive; None: no upper bound


@dataclass(frozen=True)
class Model:
    """A validated specification."""

    terms: tuple[Term, ...]
    hard_rules: tuple[HardRule, ...]
    bands: tuple[Band, ...]

    @property
    def feature_codes(self) -> list[str]:
        """Every indicator whose value is needed: the weighted ones, then those only a hard rule reads."""
        codes = [t.code for t in self.terms]
        for rule in self.hard_rules:
            if rule.indicator not in codes:
                codes.append(rule.indicator)
        return codes

    def params_of(self, code: str) -> Mapping[str, Any]:
        for term in self.terms:
            if term.code == code:
                return term.params
        for rule in self.hard_rules:
            if rule.indicator == code:
                return rule.params
        return INDICATORS[code].defaults

    def band_of(self, score: int) -> str:
        for band in self.bands:
            if (band.low is None or score >= band.low) and (band.high is None or score < band.high):
                return band.risk_class
        raise AssertionError("validated bands cover every score")

    def classify(self, features: Mapping[str, int]) -> tuple[str, int, dict[str, list[int]], str]:
        """(class, score, {code: [value, points]} of the contributing indicators, hard rule applied or '')."""
        contributions: dict[str, list[int]] = {}
        score = 0
        for term in self.terms:
            value = int(features.get(term.code) or 0)
            points = term.points(value)
            if points:
                contributions[term.code] = [value, points]
                score += points
        risk_class = self.band_of(score)
        applied = ""
        for rule in self.hard_rules:
            if int(features.get(rule.indicator) or 0) >= rule.min_value and rule.min_class > risk_class:
                risk_class, applied = rule.min_class, rule.indicator
        return risk_class, score, contributions, applied


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def validate_spec(spec: Any) -> Model:
    """The specification as a Model, or SpecError with every problem found (in Chinese)."""
    errors: list[str] = []
    if not isinstance(spec, Mapping):
        raise SpecError(["模型规格应为一个 JSON 对象，包含 indicators、hard_rules 和 bands"])
    unknown_keys = set(spec) - {"indicators", "hard_rules", "bands"}
    if unknown_keys:
        errors.append(f"模型规格中有无法识别的项：{'、'.join(sorted(unknown_keys))}")

    terms: list[Term] = []
    entries = spec.get("indicators")
    if not isinstance(entries, list) or not entries:
        errors.append("模型至少应包含一个指标（indicators）")
        entries = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            errors.append(f"第 {n} 个指标应为一个对象")
            continue
        code = entry.get("code")
        if not code:
            errors.append(f"第 {n} 个指标缺少指标代码（code）")
            continue
        if code not in INDICATORS:
            errors.append(f"未知指标：{code}（可用指标：{'、'.join(sorted(INDICATORS))}）")
            continue
        if code in seen:
            errors.append(f"指标 {code} 重复出现")
            continue
        seen.add(code)
        extra = set(entry) - {"code", "weight", "params"}
        if extra:
            errors.append(f"指标 {code} 中有无法识别的项：{'、'.join(sorted(extra))}")
        if "weight" not in entry or entry["weight"] is None or entry["weight"] == "":
            errors.append(f"指标 {code} 缺少权重（weight）")
            continue
        weight = _int(entry["weight"])
        if weight is None:
            errors.append(f"指标 {code} 的权重应为整数（分值），现为 {entry['weight']!r}")
            continue
        params = _params(code, entry.get("params"), errors)
        if params is not None:
            terms.append(Term(code=code, weight=weight, params=params))

    rules: list[HardRule] = []
    rule_entries = spec.get("hard_rules", [])
    if not isinstance(rule_entries, list):
        errors.append("硬性规则（hard_rules）应为一个列表")
        rule_entries = []
    for n, entry in enumerate(rule_entries, start=1):
        if not isinstance(entry, Mapping):
            errors.append(f"第 {n} 条硬性规则应为一个对象")
            continue
        code = entry.get("indicator")
        if not code:
            errors.append(f"第 {n} 条硬性规则没有引用任何指标（indicator）")
            continue
        if code not in INDICATORS:
            errors.append(f"第 {n} 条硬性规则引用了未知指标：{code}")
            continue
        min_class = entry.get("min_class")
        if min_class not in CLASSES:
            errors.append(f"第 {n} 条硬性规则的最低类别（min_class）应为 A、B、C 或 D")
            continue
        min_value = _int(entry.get("min_value", 1))
        if min_value is None or min_value < 1:
            errors.append(f"第 {n} 条硬性规则的触发值（min_value）应为正整数")
            continue
        extra = set(entry) - {"indicator", "min_value", "min_class", "params"}
        if extra:
            errors.append(f"第 {n} 条硬性规则中有无法识别的项：{'、'.join(sorted(extra))}")
        weighted = next((t for t in terms if t.code == code), None)
        if weighted is not None and entry.get("params"):
            errors.append(f"第 {n} 条硬性规则引用的指标 {code} 已在指标中设置参数，规则中不能另设参数")
            continue
        params = weighted.params if weighted is not None else _params(code, entry.get("params"), errors)
        if params is not None:
            rules.append(HardRule(indicator=code, min_value=min_value, min_class=min_class, params=params))

    bands = _bands(spec.get("bands"), errors)
    if errors:
        raise SpecError(errors)
    return Model(terms=tuple(terms), hard_rules=tuple(rules), bands=tuple(bands))


def _params(code: str, given: Any, errors: list[str]) -> dict[str, Any] | None:
    defaults = INDICATORS[code].defaults
    if given is None:
        return dict(defaults)
    if not isinstance(given, Mapping):
        errors.append(f"指标 {code} 的参数（params）应为一个对象")
        return None
    params = dict(defaults)
    ok = True
    for key, value in given.items():
        if key not in defaults:
            errors.append(f"指标 {code} 没有参数 {key}（可用参数：{'、'.join(sorted(defaults))}）")
            ok = False
            continue
        default = defaults[key]
        if isinstance(default, int):
            number = _int(value)
            if number is None or number < 0:
                errors.append(f"指标 {code} 的参数 {key} 应为非负整数，现为 {value!r}")
                ok = False
                continue
            params[key] = number
        elif not isinstance(value, str) or not value:
            errors.append(f"指标 {code} 的参数 {key} 应为非空文字")
            ok = False
        else:
            params[key] = value
    if ok and params["cap"] < 1:
        errors.append(f"指标 {code} 的上限（cap）至少为 1")
        ok = False
    return params if ok else None


def _bands(entries: Any, errors: list[str]) -> list[Band]:
    if not isinstance(entries, list) or not entries:
        errors.append("模型应包含分数区间（bands），A、B、C、D 各一个")
        return []
    bands: list[Band] = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping) or entry.get("class") not in CLASSES:
            errors.append(f"第 {n} 个分数区间应为对象，且类别（class）为 A、B、C 或 D")
            return []
        low, high = entry.get("min"), entry.get("max")
        if (low is not None and _int(low) is None) or (high is not None and _int(high) is None):
            errors.append(f"{entry['class']} 类分数区间的上下限应为整数或 null")
            return []
        if low is not None and high is not None and low >= high:
            errors.append(f"{entry['class']} 类分数区间的下限（{low}）应小于上限（{high}）")
            return []
        bands.append(Band(entry["class"], low, high))
    classes = [b.risk_class for b in bands]
    if sorted(classes) != list(CLASSES):
        errors.append(f"分数区间应恰好包含 A、B、C、D 各一个，现为：{'、'.join(classes)}")
        return []
    bands.sort(key=lambda b: b.risk_class)
    if bands[0].low is not None:
        errors.append(f"A 类分数区间应无下限（min 为 null），现为 {bands[0].low}：低于该分数的主体将没有类别")
    if bands[-1].high is not None:
        errors.append(f"D 类分数区间应无上限（max 为 null），现为 {bands[-1].high}：高于该分数的主体将没有类别")
    for lower, upper in itertools.pairwise(bands):
        if lower.high is None or upper.low is None or lower.high > upper.low:
            errors.append(f"{lower.risk_class} 类与 {upper.risk_class} 类的分数区间重叠")
        elif lower.high < upper.low:
            errors.append(
                f"{lower.risk_class} 类与 {upper.risk_class} 类的分数区间之间有空档（{lower.high} 至 {upper.low}）"
            )
    return bands


# ==============================================================================================================
# Explanation
# ==============================================================================================================


@dataclass(frozen=True)
class Line:
    code: str
    group: str
    text: str
    value: int
    points: int

    @property
    def signed(self) -> str:
        return f"{self.points:+d}"


def explain(model: Model, contributions: Mapping[str, Sequence[int]]) -> list[Line]:
    """The contributing indicators in the model's order, each as plain Chinese with its points."""
    lines = []
    for term in model.terms:
        if term.code not in contributions:
            continue
        value, points = contributions[term.code]
        spec = INDICATORS[term.code]
        lines.append(Line(term.code, GROUPS[spec.group], spec.describe(value, term.params), value, points))
    return lines


def hard_rule_text(model: Model, code: str) -> str:
    rule = next((r for r in model.hard_rules if r.indicator == code), None)
    if rule is None:
        return ""
    return f"{INDICATORS[code].label} → 至少 {rule.min_class} 类"
