"""The draw algorithm `jz-draw/1`: pure functions, no database, so anyone can re-run a draw from its published inputs.

Inputs
  - the population snapshot: the entities in scope as (id, risk class) pairs sorted by id, serialised as the lines
    ``"{id},{class}\\n"`` (class "" when not yet classified) in UTF-8; its SHA-256 is the snapshot hash;
  - the roster snapshot: per department the eligible inspectors (``"D,{department},{inspector}\\n"`` sorted) and
    their declared conflicts (``"X,{inspector},{entity}\\n"`` sorted); its SHA-256 is the roster hash;
  - the seed (64 hex characters), committed as SHA-256(seed) before the draw and revealed after it;
  - the plan's ratios (percent with two decimals) per class.

PRNG: a counter-mode stream over SHA-256: block i of stream "label" is SHA-256(seed "|" label "|" i as 8 bytes
big-endian), read as four 64-bit big-endian words. A uniform integer below n uses rejection sampling (words at or
above the largest multiple of n below 2^64 are skipped), so there is no modulo bias. Python's `random` is not used:
only its `random()` output is guaranteed across versions, not `sample()` or `randrange()`.

Sampling: the strata are the classes A, B, C, D, "" in this order. A stratum of N entities with ratio r % yields
k = round_half_up(N × r / 100) entities — exact integer arithmetic on r in hundredths of a percent:
k = (N × r·100 + 5000) // 10000 (so 1 % of 250 is 3: 2.5 rounds up; 1 % of 249 is 2). The k entities are the first
k of a partial Fisher–Yates shuffle of the stratum (in id order) driven by the stream "stratum:{class or -}".

Assignment: drawn entities are visited in (stratum order, id) order. For each department (ascending id) the eligible
inspectors start at load 0 with a tie-break word from the stream "tiebreak:{department}" drawn in inspector-id
order; each entity takes the 2 inspectors with the lowest (load, tie-break, id) that have no declared conflict with
it, and their load grows by one. Loads within a department therefore never differ by more than one except where a
conflict forced a skip. Fewer than 2 eligible inspectors in a department, or fewer than 2 unconflicted for an
entity, stops the whole draw (no partial draw).

Result: the lines ``"{position},{entity},{class},{department}:{inspector};…\\n"``; the result hash is SHA-256 of
``"jz-draw/1\\n{snapshot hash}\\n{roster hash}\\n{seed}\\n"`` followed by these lines.
"""

from __future__ import annotations

import hashlib
import heapq
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress

ALGORITHM = "jz-draw/1"
INSPECTORS_PER_DEPARTMENT = 2
STRATA = ("A", "B", "C", "D", "")
_TWO64 = 1 << 64


class DrawShortfall(Exception):
    """Not enough eligible inspectors: the draw stops before anything is written."""

    def __init__(self, message: str, *, department: int | None = None, enterprise: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.department = department
        self.enterprise = enterprise


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment_of(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Stream:
    """A deterministic stream of 64-bit words: SHA-256 in counter mode under (seed, label)."""

    def __init__(self, seed: str, label: str) -> None:
        self._prefix = f"{seed}|{label}|".encode()
        self._counter = 0
        self._words: list[int] = []

    def word(self) -> int:
        if not self._words:
            block = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._words = [int.from_bytes(block[i : i + 8], "big") for i in (24, 16, 8, 0)]
        return self._words.pop()  # pops the word at offset 0 first

    def below(self, n: int) -> int:
        """A uniform integer in [0, n) without modulo bias."""
        if n <= 0:
            raise ValueError("n must be positive")
        limit = _TWO64 - (_TWO64 % n)
        while True:
            x = self.word()
            if x < limit:
                return x % n


def stratum_size(population: int, ratio_percent: Decimal | str | int) -> int:
    """round_half_up(population × ratio / 100), exactly (ratio has at most two decimals)."""
    hundredths = int((Decimal(ratio_percent) * 100).to_integral_value())
    if not 0 <= hundredths <= 10000:
        raise ValueError("ratio outside 0–100 %")
    return (population * hundredths + 5000) // 10000


def sample(ids: Sequence[int | bytes], k: int, stream: Stream) -> list[int | bytes]:
    """The first k of a partial Fisher–Yates shuffle of `ids` (sparse: memory grows with k, not len(ids))."""
    n = len(ids)
    swapped: dict[int, int] = {}
    out: list[int] = []
    for i in range(min(k, n)):
        j = i + stream.below(n - i)
        vi = swapped.get(i, i)
        vj = swapped.get(j, j)
        swapped[j] = vi
        out.append(ids[vj])
    return out


def population_bytes(rows: Iterable[tuple[int, str]]) -> bytes:
    return "".join([f"{eid},{cls or ''}\n" for eid, cls in rows]).encode()


def parse_population(data: bytes) -> list[tuple[int, str]]:
    return [(int(eid), cls) for eid, cls in (line.split(",", 1) for line in data.decode().split("\n") if line)]


Strata = dict[str, list]  # class → the ids of its stratum in id order (ints, or their decimal digits as bytes)


def strata_of(population: Iterable[tuple[int, str]]) -> Strata:
    """The strata of a population given as (id, class) rows in id order; a class outside A–D counts as unclassified."""
    by_class: Strata = {c: [] for c in STRATA}
    append_to = {c: ids.append for c, ids in by_class.items()}
    unclassified = append_to[""]
    for eid, cls in population:  # one pass, no per-row lookups beyond one dict get (10^6 rows)
        append_to.get(cls, unclassified)(eid)
    return by_class


def snapshot_strata(data: bytes) -> tuple[Strata, int]:
    """The strata of a population snapshot (its canonical bytes) and its size, without a Python loop per line.

    The ids stay bytes (their digits): only the drawn ones are turned into ints. Same result as
    `strata_of(parse_population(data))`; a snapshot this fast path cannot read exactly (a class outside A–D or
    holding a comma) goes through that slow path instead.
    """
    lines = data.count(b"\n")
    tokens = data.replace(b"\n", b",").split(b",")  # id, class, id, class, …, "" (after the last newline)
    if len(tokens) == 2 * lines + 1 and not tokens[-1]:
        ids, classes = tokens[0:-1:2], tokens[1::2]
        by_class: Strata = {c: list(compress(ids, map(c.encode().__eq__, classes))) for c in STRATA}
        if sum(map(len, by_class.values())) == lines:
            return by_class, lines
    population = parse_population(data)
    return strata_of(population), len(population)


def roster_bytes(departments: Mapping[int, Iterable[int]], conflicts: Iterable[tuple[int, int]]) -> bytes:
    lines = [f"D,{d},{i}\n" for d in sorted(departments) for i in sorted(departments[d])]
    lines += [f"X,{i},{e}\n" for i, e in sorted(set(conflicts))]
    return "".join(lines).encode()


def parse_roster(data: bytes) -> tuple[dict[int, list[int]], set[tuple[int, int]]]:
    departments: dict[int, list[int]] = {}
    conflicts: set[tuple[int, int]] = set()
    for line in data.decode().splitlines():
        kind, a, b = line.split(",")
        if kind == "D":
            departments.setdefault(int(a), []).append(int(b))
        else:
            conflicts.add((int(a), int(b)))
    return departments, conflicts


@dataclass
class DrawOutcome:
    """What a draw produced: the tasks in order, per-stratum counts, and the result hash."""

    tasks: list[tuple[int, str, list[tuple[int, int]]]] = field(default_factory=list)  # (entity, class, [(dept, insp)])
    strata: dict[str, dict[str, int]] = field(default_factory=dict)
    result_hash: str = ""


def result_lines(tasks: Iterable[tuple[int, str, Sequence[tuple[int, int]]]]) -> bytes:
    return "".join(
        f"{pos},{eid},{cls},{';'.join(f'{d}:{i}' for d, i in sorted(pairs))}\n"
        for pos, (eid, cls, pairs) in enumerate(tasks)
    ).encode()


def result_hash(*, snapshot_hash: str, roster_hash: str, seed: str, lines: bytes) -> str:
    head = f"{ALGORITHM}\n{snapshot_hash}\n{roster_hash}\n{seed}\n".encode()
    return sha256_hex(head + lines)


def run(
    *,
    population: Sequence[tuple[int, str]] | None = None,
    strata: Mapping[str, Sequence[int | bytes]] | None = None,
    ratios: Mapping[str, Decimal],
    departments: Mapping[int, Sequence[int]],
    conflicts: set[tuple[int, int]],
    seed: str,
    department_names: Mapping[int, str] | None = None,
) -> DrawOutcome:
    """Run the draw (see the module docstring) over `population` rows or its `strata` (`snapshot_strata`);
    raises DrawShortfall before producing anything partial."""
    names = department_names or {}
    if strata is None:
        strata = strata_of(population or ())
    by_class = {c: strata.get(c, []) for c in STRATA}

    outcome = DrawOutcome()
    selected: list[tuple[int, str]] = []
    for cls in STRATA:
        ids = by_class[cls]
        k = stratum_size(len(ids), ratios.get(cls, Decimal(0)))
        picks = sample(ids, k, Stream(seed, f"stratum:{cls or '-'}"))
        outcome.strata[cls] = {"population": len(ids), "drawn": len(picks)}
        selected.extend((eid, cls) for eid in sorted(map(int, picks)))

    for dept in sorted(departments):
        pool = sorted(departments[dept])
        if len(pool) < INSPECTORS_PER_DEPARTMENT:
            label = names.get(dept, str(dept))
            raise DrawShortfall(
                f"部门“{label}”符合条件的检查人员（具备本计划事项资格、执法证件在计划期内有效）只有 {len(pool)} 名，"
                f"每个检查对象至少需要 {INSPECTORS_PER_DEPARTMENT} 名，缺 {INSPECTORS_PER_DEPARTMENT - len(pool)} 名；"
                "未进行抽取。",
                department=dept,
            )

    assignments: dict[int, list[tuple[int, int]]] = {eid: [] for eid, _ in selected}
    for dept in sorted(departments):
        pool = sorted(departments[dept])
        tiebreak = Stream(seed, f"tiebreak:{dept}")
        heap = [(0, tiebreak.word(), insp) for insp in pool]
        heapq.heapify(heap)
        members = set(pool)
        conflicted = {e for i, e in conflicts if i in members}  # entities some inspector of the department declared
        for eid, _cls in selected:
            if eid not in conflicted and INSPECTORS_PER_DEPARTMENT == 2:
                # No conflict possible: the two lowest, each put back with one more task. The heap's entries are
                # distinct, so what it yields depends only on its contents: the same picks as the general path.
                load_a, tb_a, insp_a = heapq.heappop(heap)
                load_b, tb_b, insp_b = heapq.heapreplace(heap, (load_a + 1, tb_a, insp_a))
                heapq.heappush(heap, (load_b + 1, tb_b, insp_b))
                assignments[eid] += ((dept, insp_a), (dept, insp_b))
                continue
            picked: list[tuple[int, int, int]] = []
            skipped: list[tuple[int, int, int]] = []
            while len(picked) < INSPECTORS_PER_DEPARTMENT and heap:
                entry = heapq.heappop(heap)
                (skipped if (entry[2], eid) in conflicts else picked).append(entry)
            if len(picked) < INSPECTORS_PER_DEPARTMENT:
                label = names.get(dept, str(dept))
                raise DrawShortfall(
                    f"部门“{label}”对检查对象（编号 {eid}）无回避关系的合格检查人员只有 {len(picked)} 名，"
                    f"至少需要 {INSPECTORS_PER_DEPARTMENT} 名；未进行抽取。",
                    department=dept,
                    enterprise=eid,
                )
            for load, tb, insp in picked:
                assignments[eid].append((dept, insp))
                heapq.heappush(heap, (load + 1, tb, insp))
            for entry in skipped:
                heapq.heappush(heap, entry)

    outcome.tasks = [(eid, cls, assignments[eid]) for eid, cls in selected]
    return outcome
