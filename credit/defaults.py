"""The default model: version "2026.1" (INITIAL_*, loaded by the data migration 0002_default_model, frozen) and
its successor "2026.2" (DEFAULT_*, 0004_inspection_indicator: the same plus double-random inspection findings,
`inspection_problems`, 30 points per problem outcome of the last 3 years, at most 2 counted — a finding weighs half a
recent penalty: it was ordered corrected, not punished).

Weights are points per unit of the feature (a count or a flag); positive points raise the risk. The reasoning:
supervision facts weigh most (a penalty of the last year 60 points, a heavier penalty 60 more, an open abnormal
listing 40 plus the hard rule "at least C", the serious list the hard rule "D"), dynamic information next (missing
or late annual reports, an unreachable address, frequent changes of legal representative or address), basic
attributes little (a new entity, a key area, a revoked licence), related parties a little, and positive records
(honours, credit-compliance programmes, three clean years as seed 003 §五(二) defines 守信) lower the score.
The bands put an entity with no facts at all in B; A needs positive records, C a fact of supervision or several
lesser ones, D several serious facts.
"""

from __future__ import annotations

import copy

INITIAL_CODE = "2026.1"
INITIAL_NAME = "信用风险分类指标模型 2026 版"

INITIAL_SPEC: dict = {
    "indicators": [
        {"code": "young", "weight": 10},
        {"code": "established", "weight": -15},
        {"code": "key_area", "weight": 10},
        {"code": "large_capital", "weight": -5},
        {"code": "revoked", "weight": 60},
        {"code": "reports_missing", "weight": 30},
        {"code": "reports_late", "weight": 20},
        {"code": "unreachable", "weight": 40},
        {"code": "frequent_changes", "weight": 10},
        {"code": "licences_lapsed", "weight": 15},
        {"code": "penalties_recent", "weight": 60},
        {"code": "penalties_earlier", "weight": 30},
        {"code": "penalties_heavy", "weight": 60},
        {"code": "abnormal_listed", "weight": 40},
        {"code": "abnormal_past", "weight": 25},
        {"code": "serious_listed", "weight": 100},
        {"code": "serious_past", "weight": 40},
        {"code": "complaints", "weight": 30},
        {"code": "false_commitments", "weight": 40},
        {"code": "related_listed", "weight": 20},
        {"code": "honours", "weight": -20},
        {"code": "compliance", "weight": -25},
        {"code": "clean_record", "weight": -15},
    ],
    "hard_rules": [
        {"indicator": "serious_listed", "min_value": 1, "min_class": "D"},
        {"indicator": "abnormal_listed", "min_value": 1, "min_class": "C"},
    ],
    "bands": [
        {"class": "A", "min": None, "max": -15},
        {"class": "B", "min": -15, "max": 30},
        {"class": "C", "min": 30, "max": 100},
        {"class": "D", "min": 100, "max": None},
    ],
}


DEFAULT_CODE = "2026.2"
DEFAULT_NAME = "信用风险分类指标模型 2026 版（含双随机抽查结果）"
DEFAULT_SPEC: dict = {
    **copy.deepcopy(INITIAL_SPEC),
    "indicators": [
        *INITIAL_SPEC["indicators"][:13],  # up to penalties_heavy: the supervision facts next to each other
        {"code": "inspection_problems", "weight": 30},
        *INITIAL_SPEC["indicators"][13:],
    ],
}
