"""Row validation: every cell of a row is checked and every problem reported (column as in the file, reason in
Chinese); a good row becomes a normalised record ready for staging.

This runs 10^6 times for a city's registry, so the hot paths are plain code with fast paths for the common case
(ISO dates, valid codes); anything unusual falls through to the slower, precise check and its message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import add

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from enterprises import identity
from enterprises.importing.columns import HeaderMap
from enterprises.models import AnnualReport, Enterprise, Industry, Region

Cell = str | dt.date
RowErrors = list[tuple[str, str]]  # (column as in the file, message)

ENTERPRISE_RECORD = (
    "uscc", "entity_type", "name", "former_names", "registration_number", "legal_representative",
    "legal_representative_id_number", "address", "region_id", "industry_id", "industry_code", "registered_capital",
    "registration_date", "status", "contact_phone", "contact_email", "search_text", "name_grams",
)  # fmt: skip
# Optional columns: None in a record means "the file has no such column: keep what the registry has".
OPTIONAL_FIELDS = ("registration_number", "legal_representative_id_number", "contact_phone", "contact_email")
ANNUAL_REPORT_RECORD = ("uscc", "year", "filed_on", "on_time")

MIN_DATE = dt.date(1900, 1, 1)
MIN_REPORT_YEAR = 2000
_CAPITAL_QUANTUM = Decimal("0.0001")
_CAPITAL_MAX = Decimal("1e12")  # numeric(16, 4)


class CellError(ValueError):
    """A cell's value is refused; the message says why (Chinese)."""


# --- Cells ------------------------------------------------------------------------------------------------------
_FORMULA_START = frozenset("=+-@")
_CONTROL_START = frozenset("\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_START_NAMES = {"\t": "制表符", "\r": "回车符"}


def cell_text(value: Cell) -> str:
    """The cell as stripped text, refusing what a spreadsheet would run as a formula (formula/CSV injection):
    a value starting with = + - @ (after spaces), tab or CR that is not a plain number."""
    if type(value) is not str:
        return value.isoformat()  # an XLSX date cell in a text column
    text = value.strip()
    if (value[:1] in _CONTROL_START or text[:1] in _FORMULA_START) and not _NUMBER.fullmatch(text):
        first = value[:1] if value[:1] in _CONTROL_START else text[:1]
        raise CellError(
            f"单元格以“{_START_NAMES.get(first, first)}”开头，可能是公式（公式注入风险），已拒绝；"
            "如确为文本，请删除开头的该字符"
        )
    if text == "\\N":  # the NULL marker of the COPY stream: never a real value
        raise CellError("单元格内容无效")
    return text


def _has_content(cells: list[Cell]) -> bool:
    return any(c.strip() if type(c) is str else True for c in cells)


def single_line(value: Cell, *, label: str, max_length: int, required: bool) -> str:
    text = " ".join(cell_text(value).split())  # line breaks and runs of spaces (also full-width) → one space
    if not text:
        if required:
            raise CellError(f"{label}不能为空")
        return ""
    if len(text) > max_length:
        raise CellError(f"{label}过长（{len(text)} 个字符，最多 {max_length} 个）")
    return text


_DATE = re.compile(
    r"(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)


def parse_date(value: Cell, *, label: str, today: dt.date) -> dt.date:
    """YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日, YYYYMMDD (an optional time of day is ignored), or a date cell;
    not in the future and not before 1900."""
    if type(value) is str:
        text = cell_text(value)
        if not text:
            raise CellError(f"{label}不能为空")
        day = None
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                day = None
        if day is None:
            match = _DATE.fullmatch(text)
            if match is None:
                raise CellError(f"{label}“{text}”无法识别，应为 YYYY-MM-DD、YYYY/M/D 或 YYYY年M月D日")
            year, month, dom, month8, dom8 = match.groups()
            try:
                day = dt.date(int(year), int(month or month8), int(dom or dom8))
            except ValueError as exc:
                raise CellError(f"{label}“{text}”不是有效的日期") from exc
    else:
        day = value  # type: ignore[assignment]
    if day > today:
        raise CellError(f"{label} {day.isoformat()} 晚于今天（{today.isoformat()}），不能是将来的日期")
    if day < MIN_DATE:
        raise CellError(f"{label} {day.isoformat()} 早于 1900 年，请检查")
    return day


def fast_search_fields(name: str, former_names: list[str]) -> tuple[str, list[str]]:
    """enterprises.models.search_fields, several times faster (bigrams built in C); a test checks they agree."""
    if not former_names:
        return name, list(dict.fromkeys(map(add, name, name[1:])))
    names = [name, *former_names]
    return " ".join(names), list(dict.fromkeys(g for n in names for g in map(add, n, n[1:])))


# A cell that needs the full path: one starting with a formula character or a space, or ending with a space
# (cells joined with \x1f, a control character the row has already been checked not to hold).
_SUSPECT_EDGE = re.compile(r"\x1f[=+\-@ ]| \x1f")
_PLAIN_CAPITAL = re.compile(r"\d{1,12}(?:\.\d{1,4})?")
_TYPE_BY_PREFIX = {"9" + code: entity_type for code, entity_type in identity.TYPE_BY_CODE.items()}
_CACHE_SIZE = 50_000


# --- USCC -------------------------------------------------------------------------------------------------------
_USCC_VALUE = {c: i for i, c in enumerate(identity.ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31, GB 32100-2015
# Per position, character → value × weight: the weighted sum becomes 17 dictionary look-ups.
_USCC_WEIGHTED = tuple({c: v * w for c, v in _USCC_VALUE.items()} for w in _USCC_WEIGHTS)


def uscc_is_valid_fast(code: str) -> bool:
    """The mod-31 check of GB 32100 as python-stdnum computes it, without its cleaning and exceptions (a test
    cross-checks the two). False means "not sure": the caller then asks identity.validate for the reason."""
    if len(code) != 18 or not code[:8].isascii() or not code[:8].isdigit():
        return False
    try:
        total = sum(map(dict.__getitem__, _USCC_WEIGHTED, code))  # C-level loop over 17 positions
        return _USCC_VALUE[code[17]] == -total % 31
    except KeyError:
        return False


def parse_uscc(value: Cell) -> str:
    text = cell_text(value)
    if uscc_is_valid_fast(text):
        return text
    if re.fullmatch(r"\d(\.\d+)?[eE]\+\d+", text):
        raise CellError("统一社会信用代码被 Excel 存成了数字（已丢失位数）：请将该列设为“文本”格式后重新录入")
    try:
        return identity.validate(text)
    except identity.InvalidUSCC as exc:
        raise CellError(str(exc)) from exc


# --- Enterprises ------------------------------------------------------------------------------------------------
ENTITY_TYPE_VALUES = {
    "enterprise": Enterprise.EntityType.ENTERPRISE,
    "企业": Enterprise.EntityType.ENTERPRISE,
    "individual": Enterprise.EntityType.INDIVIDUAL,
    "个体工商户": Enterprise.EntityType.INDIVIDUAL,
    "个体": Enterprise.EntityType.INDIVIDUAL,
    "cooperative": Enterprise.EntityType.COOPERATIVE,
    "农民专业合作社": Enterprise.EntityType.COOPERATIVE,
    "合作社": Enterprise.EntityType.COOPERATIVE,
}
ENTITY_TYPE_LABELS = {
    Enterprise.EntityType.ENTERPRISE: "企业",
    Enterprise.EntityType.INDIVIDUAL: "个体工商户",
    Enterprise.EntityType.COOPERATIVE: "农民专业合作社",
}
STATUS_VALUES = {
    "operating": Enterprise.Status.OPERATING,
    "suspended": Enterprise.Status.SUSPENDED,
    "revoked": Enterprise.Status.REVOKED,
    "deregistered": Enterprise.Status.DEREGISTERED,
    "存续": Enterprise.Status.OPERATING,
    "在营": Enterprise.Status.OPERATING,
    "开业": Enterprise.Status.OPERATING,
    "在业": Enterprise.Status.OPERATING,
    "在册": Enterprise.Status.OPERATING,
    "歇业": Enterprise.Status.SUSPENDED,
    "吊销": Enterprise.Status.REVOKED,
    "注销": Enterprise.Status.DEREGISTERED,
}
_INDUSTRY = re.compile(r"([A-Za-z])?\s*(\d{1,4})")
_FORMER_SEPARATORS = re.compile(r"[;；]")
_ID_NUMBER = re.compile(r"[0-9A-Za-z]{1,18}")
_REGISTRATION_NUMBER = re.compile(r"[0-9A-Za-z]{1,15}")


def parse_entity_type(text: str) -> str:
    """An entity type written in English or Chinese, including registry wording such as 有限责任公司（自然人独资）."""
    key = text.strip().lower()
    found = ENTITY_TYPE_VALUES.get(key)
    if found is not None:
        return found
    if "个体" in key:
        return Enterprise.EntityType.INDIVIDUAL
    if "合作社" in key:
        return Enterprise.EntityType.COOPERATIVE
    if any(word in key for word in ("公司", "企业", "合伙", "个人独资", "分支机构", "厂")):
        return Enterprise.EntityType.ENTERPRISE
    raise CellError(
        f"无法识别的主体类型“{text}”，应为 enterprise/individual/cooperative 或 企业/个体工商户/农民专业合作社"
    )


def parse_status(text: str) -> str:
    key = text.strip().lower()
    if not key:
        return Enterprise.Status.OPERATING
    found = STATUS_VALUES.get(key)
    if found is not None:
        return found
    # Registry wording: 吊销，未注销 is revoked (check 吊销 before 注销); 存续（在营、开业、在册） is operating.
    for word, status in (("吊销", "revoked"), ("注销", "deregistered"), ("歇业", "suspended")):
        if word in key:
            return status
    if any(word in key for word in ("存续", "在营", "开业", "在业", "在册")):
        return Enterprise.Status.OPERATING
    raise CellError(
        f"无法识别的登记状态“{text}”，应为 operating/suspended/revoked/deregistered 或 存续（在营）/歇业/吊销/注销"
    )


def parse_capital(value: Cell) -> Decimal | None:
    """Registered capital in 10,000 yuan: ≥ 0, at most 4 decimals; thousands separators and a 万元 suffix allowed."""
    text = cell_text(value)
    if not text:
        return None
    cleaned = text.replace(",", "").replace("，", "").removesuffix("万元").removesuffix("万").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise CellError(f"注册资本“{text}”不是有效的数字（单位：万元）") from exc
    if not amount.is_finite():
        raise CellError(f"注册资本“{text}”不是有效的数字（单位：万元）")
    if amount < 0:
        raise CellError(f"注册资本不能为负数（{text}）")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise CellError("注册资本最多保留 4 位小数（单位：万元）")
    if amount >= _CAPITAL_MAX:
        raise CellError(f"注册资本 {text} 过大，请确认单位为万元")
    return amount.quantize(_CAPITAL_QUANTUM)


@dataclass(frozen=True)
class ReferenceData:
    """What rows are checked against, loaded once per import."""

    counties: dict[str, str]  # county code or name → code
    county_names: dict[str, str]  # code → name
    sections: dict[str, str]  # division "14" → section letter "C"
    today: dt.date
    allowed_region: str | None  # a county-scoped actor may import only that county's entities

    @classmethod
    def load(cls, *, allowed_region: str | None) -> ReferenceData:
        counties = dict(Region.objects.filter(level=Region.Level.COUNTY).values_list("code", "name"))
        lookup = {code: code for code in counties}
        lookup.update({name: code for code, name in counties.items()})
        sections = dict(Industry.objects.filter(section__isnull=False).values_list("code", "section_id"))
        return cls(
            counties=lookup,
            county_names=counties,
            sections=sections,
            today=timezone.localdate(),
            allowed_region=allowed_region,
        )


class EnterpriseRows:
    """Validates enterprise rows of one table; `__call__` returns (record or None, errors, USCC or None)."""

    def __init__(self, header: HeaderMap, ref: ReferenceData) -> None:
        self.ref = ref
        self.width = header.width
        self.names = header.names
        idx = header.index
        self.i_uscc = idx["uscc"]
        self.i_name = idx["name"]
        self.i_rep = idx["legal_representative"]
        self.i_address = idx["address"]
        self.i_region = idx["region_code"]
        self.i_industry = idx["industry_code"]
        self.i_capital = idx["registered_capital"]
        self.i_date = idx["registration_date"]
        self.i_status = idx["status"]
        self.i_type = idx.get("entity_type")
        self.i_former = idx.get("former_names")
        self.optional = [(key, idx[key]) for key in OPTIONAL_FIELDS if key in idx]
        # Parsed values of cells that repeat across rows (industry codes, dates, statuses, types): bounded caches.
        self._industries: dict[str, tuple[str, str]] = {}
        self._dates: dict[str, dt.date] = {}
        self._statuses: dict[str, str] = {}
        self._types: dict[str, str] = {}

    def __call__(self, row_no: int, cells: list[Cell]) -> tuple[tuple | None, RowErrors, str | None]:
        """The fast path for an ordinary valid row, the full path (every error, its message) otherwise."""
        record = self.fast(cells)
        if record is not None:
            return record, [], record[0]
        return self.full(row_no, cells)

    def fast(self, cells: list[Cell]) -> tuple | None:
        """The record of an ordinary valid row whose cells need no cleaning (all text, no formula start, no
        stray whitespace), or None whenever anything is unusual: the full path then decides and explains.
        Gives the same records as `full` (tested)."""
        if len(cells) != self.width:
            return None
        try:
            joined = "".join(cells)  # type: ignore[arg-type]
        except TypeError:  # an XLSX date cell
            return None
        if (
            not joined.isprintable()  # a tab, line break, NUL, full-width or no-break space …
            or "  " in joined
            or _SUSPECT_EDGE.search("\x1f" + "\x1f".join(cells) + "\x1f") is not None  # type: ignore[arg-type]
        ):
            return None
        uscc = cells[self.i_uscc]
        if not uscc_is_valid_fast(uscc):
            return None
        entity_type = _TYPE_BY_PREFIX.get(uscc[:2])
        if entity_type is None:
            return None
        if self.i_type is not None:
            text = cells[self.i_type]
            if text and self._cached(self._types, text, parse_entity_type) != entity_type:
                return None
        name = cells[self.i_name]
        legal_representative = cells[self.i_rep]
        address = cells[self.i_address]
        if not (0 < len(name) <= 200 and 0 < len(legal_representative) <= 100 and 0 < len(address) <= 255):
            return None
        ref = self.ref
        region_id = ref.counties.get(cells[self.i_region])
        if region_id is None or (ref.allowed_region is not None and region_id != ref.allowed_region):
            return None
        industry = self._cached(self._industries, cells[self.i_industry], self._industry)
        if industry is None:
            return None
        text = cells[self.i_capital]
        if text:
            if _PLAIN_CAPITAL.fullmatch(text) is None:
                return None
            capital = Decimal(text).quantize(_CAPITAL_QUANTUM)
        elif entity_type == Enterprise.EntityType.INDIVIDUAL:
            capital = None
        else:
            return None
        registration_date = self._cached(self._dates, cells[self.i_date], self._date)
        status = self._cached(self._statuses, cells[self.i_status], parse_status)
        if registration_date is None or status is None:
            return None
        former: list[str] = []
        if self.i_former is not None and cells[self.i_former]:
            try:
                former = self._former_names(cells[self.i_former], name)
            except CellError:
                return None
        optional: dict[str, str] = {}
        for key, position in self.optional:
            try:
                optional[key] = self._optional(key, cells[position])
            except CellError:
                return None
        search_text, grams = fast_search_fields(name, former)
        return (
            uscc, entity_type, name, former, optional.get("registration_number"), legal_representative,
            optional.get("legal_representative_id_number"), address, region_id, industry[0], industry[1], capital,
            registration_date, status, optional.get("contact_phone"), optional.get("contact_email"), search_text,
            grams,
        )  # fmt: skip

    @staticmethod
    def _cached(cache: dict, text: str, parse):
        """parse(text) through a bounded cache; None if parse refuses the value."""
        value = cache.get(text)
        if value is None:
            try:
                value = parse(text)
            except CellError:
                return None
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[text] = value
        return value

    def _date(self, text: str) -> dt.date:
        return parse_date(text, label="成立日期", today=self.ref.today)

    def full(self, row_no: int, cells: list[Cell]) -> tuple[tuple | None, RowErrors, str | None]:
        """Every check with its message; also the record of a valid row the fast path declined."""
        errors: RowErrors = []
        names = self.names
        ref = self.ref
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        elif len(cells) > self.width and _has_content(cells[self.width :]):
            errors.append(("", f"该行有 {len(cells)} 列，多于表头的 {self.width} 列（多出的列没有列名）"))

        uscc = entity_type = None
        try:
            uscc = parse_uscc(cells[self.i_uscc])
            entity_type = identity.entity_type_of(uscc)
            if entity_type is None:
                raise CellError("该代码不是市场监管部门登记的经营主体代码（第 1-2 位应为 91、92 或 93）")
        except CellError as exc:
            errors.append((names["uscc"], str(exc)))
            uscc = None

        if self.i_type is not None:
            try:
                text = cell_text(cells[self.i_type])
                if text and entity_type is not None:
                    given = parse_entity_type(text)
                    if given != entity_type:
                        raise CellError(
                            f"主体类型“{text}”与统一社会信用代码第 2 位（{uscc[1]}："  # type: ignore[index]
                            f"{ENTITY_TYPE_LABELS[entity_type]}）不一致"
                        )
            except CellError as exc:
                errors.append((names["entity_type"], str(exc)))

        name = legal_representative = address = ""
        try:
            name = single_line(cells[self.i_name], label="名称", max_length=200, required=True)
        except CellError as exc:
            errors.append((names["name"], str(exc)))
        try:
            legal_representative = single_line(cells[self.i_rep], label="法定代表人", max_length=100, required=True)
        except CellError as exc:
            errors.append((names["legal_representative"], str(exc)))
        try:
            address = single_line(cells[self.i_address], label="住所", max_length=255, required=True)
        except CellError as exc:
            errors.append((names["address"], str(exc)))

        region_id = None
        try:
            text = cell_text(cells[self.i_region])
            if not text:
                raise CellError("所属区域（区县代码）不能为空")
            region_id = ref.counties.get(text)
            if region_id is None:
                raise CellError(f"未知的区县代码“{text}”：应为本市区县的 6 位行政区划代码（如 140702）或区县名称")
            if ref.allowed_region is not None and region_id != ref.allowed_region:
                own = ref.county_names.get(ref.allowed_region, ref.allowed_region)
                raise CellError(f"您只能导入本辖区（{own}）的经营主体")
        except CellError as exc:
            errors.append((names["region_code"], str(exc)))
            region_id = None

        industry_id = industry_code = None
        try:
            industry_id, industry_code = self._industry(cells[self.i_industry])
        except CellError as exc:
            errors.append((names["industry_code"], str(exc)))

        capital = None
        try:
            capital = parse_capital(cells[self.i_capital])
            if capital is None and entity_type is not None and entity_type != Enterprise.EntityType.INDIVIDUAL:
                raise CellError("企业和农民专业合作社须填写注册资本（单位：万元）；只有个体工商户可以为空")
        except CellError as exc:
            errors.append((names["registered_capital"], str(exc)))

        registration_date = None
        try:
            registration_date = parse_date(cells[self.i_date], label="成立日期", today=ref.today)
        except CellError as exc:
            errors.append((names["registration_date"], str(exc)))

        status = Enterprise.Status.OPERATING
        try:
            status = parse_status(cell_text(cells[self.i_status]))
        except CellError as exc:
            errors.append((names["status"], str(exc)))

        former: list[str] = []
        if self.i_former is not None:
            try:
                former = self._former_names(cells[self.i_former], name)
            except CellError as exc:
                errors.append((names["former_names"], str(exc)))

        optional: dict[str, str] = {}
        for key, position in self.optional:
            try:
                optional[key] = self._optional(key, cells[position])
            except CellError as exc:
                errors.append((names[key], str(exc)))

        if errors:
            return None, errors, uscc
        search_text, grams = fast_search_fields(name, former)
        record = (
            uscc, entity_type, name, former, optional.get("registration_number"), legal_representative,
            optional.get("legal_representative_id_number"), address, region_id, industry_id, industry_code, capital,
            registration_date, status, optional.get("contact_phone"), optional.get("contact_email"), search_text,
            grams,
        )  # fmt: skip
        return record, errors, uscc

    def _industry(self, value: Cell) -> tuple[str, str]:
        """GB/T 4754-2017 with or without the section letter (C14, 14, C1431, 1431) → ("14", "C1431")."""
        text = cell_text(value)
        if not text:
            raise CellError("行业代码不能为空（GB/T 4754-2017，如 C14 或 C1431）")
        match = _INDUSTRY.fullmatch(text)
        if match is None:
            raise CellError(f"行业代码“{text}”格式错误，应为 GB/T 4754-2017 代码，如 C14、14、C1431 或 1431")
        letter, digits = match.groups()
        if len(digits) == 1:
            digits = "0" + digits  # Excel drops the leading zero of 01–09
        division = digits[:2]
        section = self.ref.sections.get(division)
        if section is None:
            raise CellError(f"行业代码“{text}”的大类 {division} 不存在（GB/T 4754-2017）")
        if letter and letter.upper() != section:
            raise CellError(f"行业代码“{text}”的门类字母有误：大类 {division} 属于门类 {section}")
        return division, section + digits

    @staticmethod
    def _former_names(value: Cell, name: str) -> list[str]:
        former: list[str] = []
        for part in _FORMER_SEPARATORS.split(cell_text(value)):
            item = " ".join(part.split())
            if not item or item == name or item in former:
                continue
            if len(item) > 200:
                raise CellError(f"曾用名过长（{len(item)} 个字符，最多 200 个）")
            if item[:1] in _FORMULA_START:
                raise CellError(f"曾用名以“{item[:1]}”开头，可能是公式（公式注入风险），已拒绝")
            former.append(item)
        return former

    @staticmethod
    def _optional(key: str, value: Cell) -> str:
        text = cell_text(value)
        if not text:
            return ""
        if key == "contact_phone":
            if len(text) > 30:
                raise CellError(f"联系电话过长（{len(text)} 个字符，最多 30 个）")
        elif key == "contact_email":
            try:
                validate_email(text)
            except ValidationError as exc:
                raise CellError(f"电子邮箱“{text}”格式错误") from exc
        elif key == "registration_number":
            if not _REGISTRATION_NUMBER.fullmatch(text):
                raise CellError(f"注册号“{text}”格式错误，应为不超过 15 位的数字或字母")
        elif key == "legal_representative_id_number":
            text = text.upper()
            if not _ID_NUMBER.fullmatch(text):
                raise CellError("法定代表人证件号码格式错误，应为不超过 18 位的数字或字母")
        return text


# --- Annual reports ---------------------------------------------------------------------------------------------
class AnnualReportRows:
    """Validates annual-report rows; `__call__` returns (record or None, errors, (USCC, year) or None)."""

    def __init__(self, header: HeaderMap, ref: ReferenceData) -> None:
        self.ref = ref
        self.width = header.width
        self.names = header.names
        self.i_uscc = header.index["uscc"]
        self.i_year = header.index["year"]
        self.i_filed = header.index["filed_on"]

    def __call__(self, row_no: int, cells: list[Cell]) -> tuple[tuple | None, RowErrors, tuple[str, int] | None]:
        errors: RowErrors = []
        names = self.names
        today = self.ref.today
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        elif len(cells) > self.width and _has_content(cells[self.width :]):
            errors.append(("", f"该行有 {len(cells)} 列，多于表头的 {self.width} 列（多出的列没有列名）"))
        uscc = None
        try:
            uscc = parse_uscc(cells[self.i_uscc])
        except CellError as exc:
            errors.append((names["uscc"], str(exc)))
        year = None
        last_year = today.year - 1  # a year's report is filed the year after: the current year cannot be reported
        try:
            text = cell_text(cells[self.i_year]).removesuffix("年").removesuffix("年度").strip()
            if not text:
                raise CellError("年报年度不能为空")
            if not (text.isascii() and text.isdigit()):
                raise CellError(f"年报年度“{text}”不是年份")
            year = int(text)
            if not MIN_REPORT_YEAR <= year <= last_year:
                raise CellError(f"年报年度应在 {MIN_REPORT_YEAR} 至 {last_year} 年之间（{year} 年的年报尚不能报送）")
        except CellError as exc:
            errors.append((names["year"], str(exc)))
            year = None
        filed_on = None
        try:
            filed_on = parse_date(cells[self.i_filed], label="报送日期", today=today)
            if year is not None and filed_on < dt.date(year + 1, 1, 1):
                raise CellError(
                    f"报送日期 {filed_on.isoformat()} 早于 {year + 1} 年 1 月 1 日：{year} 年度的年报在次年报送"
                )
        except CellError as exc:
            errors.append((names["filed_on"], str(exc)))
        key = (uscc, year) if uscc is not None and year is not None else None
        if errors:
            return None, errors, key
        on_time = filed_on <= AnnualReport.deadline(year)  # type: ignore[operator,arg-type]
        return (uscc, year, filed_on, on_time), errors, key
