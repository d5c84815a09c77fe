"""The unified social credit code (统一社会信用代码, GB 32100-2015) and what its positions say.

Position 1: registration authority (9 = market regulation); position 2: entity type (1 enterprise,
2 individual business, 3 farmers' cooperative); positions 3-8: administrative division (GB/T 2260);
9-17: organisation code; 18: check character. Validation itself is python-stdnum's.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc as stdnum_uscc

# Position 2 under authority 9 (market regulation) → our entity types.
TYPE_BY_CODE = {"1": "enterprise", "2": "individual", "3": "cooperative"}
CODE_BY_TYPE = {v: k for k, v in TYPE_BY_CODE.items()}
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z


class InvalidUSCC(ValueError):
    """A code that is not a valid USCC; the message is for the user (Chinese)."""


def normalize(value: str) -> str:
    return "".join(str(value).split()).upper()


def validate(value: str) -> str:
    """The normalised code, or InvalidUSCC with a reason a clerk understands."""
    code = normalize(value)
    if not code:
        raise InvalidUSCC("统一社会信用代码不能为空")
    if len(code) != 18:
        raise InvalidUSCC(f"统一社会信用代码应为 18 位，实际为 {len(code)} 位")
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        raise InvalidUSCC(f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）")
    try:
        stdnum_uscc.validate(code)
    except stdnum_exceptions.InvalidChecksum as exc:
        raise InvalidUSCC("统一社会信用代码校验位错误") from exc
    except stdnum_exceptions.ValidationError as exc:
        raise InvalidUSCC("统一社会信用代码格式错误") from exc
    return code


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except InvalidUSCC:
        return False
    return True


def entity_type_of(code: str) -> str | None:
    """Our entity type from positions 1-2, or None if the code is not one the market regulator issues."""
    if code[0] != "9":
        return None
    return TYPE_BY_CODE.get(code[1])


def region_of(code: str) -> str:
    return code[2:8]


def with_check_character(first17: str) -> str:
    """Complete 17 characters with their check character (used by the demo generator and tests)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)
