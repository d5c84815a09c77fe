"""Benchmark: public search (`/?q=…`) and API search (`/api/v1/enterprises/?search=…`) at the loaded size.

Samples are drawn from the database with a fixed seed: 200 existing USCCs, and 200 fragments each of 2, 3 and 4
Chinese characters cut from real names (what a user types: 恒泰, 恒泰商, 恒泰商贸, 晋中市 …). Requests go through
django.test.Client (the full middleware and view stack, no network). Targets (issue 2): USCC p95 ≤ 20 ms, name
fragment p95 ≤ 100 ms.
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import quote

from bench.common import count_queries, login_client, now_iso, peak_rss_mb, time_gets

SAMPLES = 200
SEED = 2026
PUBLIC_SEARCH = "/?q={}"
API_SEARCH = "/api/v1/enterprises/?search={}"
USCC_TARGET_MS = 20
NAME_TARGET_MS = 100
API_USER = "city"  # the demo city regulator (seed_demo)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def sample_entities(count: int, *, seed: int = SEED) -> list[tuple[str, str]]:
    """`count` (uscc, name) pairs of existing entities, reproducibly (random ids between min and max id)."""
    from django.db.models import Max, Min

    from enterprises.models import Enterprise

    bounds = Enterprise.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    rng = random.Random(seed)
    found: dict[int, tuple[str, str]] = {}
    attempts = 0
    while len(found) < count and attempts < 20:
        attempts += 1
        wanted = {rng.randint(bounds["lo"], bounds["hi"]) for _ in range(count * 2)}
        for pk, uscc, name in Enterprise.objects.filter(id__in=wanted).values_list("id", "uscc", "name"):
            found.setdefault(pk, (uscc, name))
    return [found[pk] for pk in sorted(found)][:count]


def name_fragments(names: list[str], length: int, count: int, *, seed: int = SEED) -> list[str]:
    """`count` substrings of `length` Chinese characters cut at random places from the given names."""
    rng = random.Random(f"{seed}:{length}")
    runs = [run for name in names for run in _CJK_RUN.findall(name) if len(run) >= length]
    fragments = []
    while runs and len(fragments) < count:
        run = rng.choice(runs)
        start = rng.randrange(len(run) - length + 1)
        fragments.append(run[start : start + length])
    return fragments


def _with_target(figures: dict[str, Any], target_ms: float) -> dict[str, Any]:
    ok = figures.get("status_codes", {}).keys() == {"200"}
    return {**figures, "target_p95_ms": target_ms, "meets_target": bool(ok and figures["p95_ms"] <= target_ms)}


def _uscc_hit_rate(client: Any, pairs: list[tuple[str, str]], url: str, **extra: Any) -> float | None:
    """Share of USCC lookups whose answer contains the entity's name (a timing of a wrong answer is no timing)."""
    hits = 0
    checked = 0
    for uscc, name in pairs[:50]:
        response = client.get(url.format(quote(uscc)), **extra)
        if response.status_code != 200:
            continue
        checked += 1
        body = response.content.decode("utf-8", "replace")
        hits += name in body or name.encode("unicode_escape").decode() in body
    return round(hits / checked, 3) if checked else None


def run(results: dict[str, Any], *, entities: int) -> None:
    from django.test import Client

    pairs = sample_entities(SAMPLES)
    names = [name for _uscc, name in sample_entities(SAMPLES * 3, seed=SEED + 1)]
    fragments = {n: name_fragments(names, n, SAMPLES) for n in (2, 3, 4)}
    public = Client()
    figures: dict[str, Any] = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only search",
        "sampling": f"{len(pairs)} USCCs of existing entities; {SAMPLES} fragments of 2/3/4 Chinese characters "
        "cut at random from existing names; seed 2026",
    }

    # Public site, anonymous.
    uscc_urls = [PUBLIC_SEARCH.format(quote(u)) for u, _n in pairs]
    figures["public_uscc"] = _with_target(time_gets(public, uscc_urls), USCC_TARGET_MS)
    figures["public_uscc"]["answer_contains_name"] = _uscc_hit_rate(public, pairs, PUBLIC_SEARCH)
    figures["public_uscc"]["sql_queries"] = count_queries(public, uscc_urls[0])[1] if uscc_urls else None
    for n, frags in fragments.items():
        urls = [PUBLIC_SEARCH.format(quote(f)) for f in frags]
        key = f"public_name_{n}_chars"
        figures[key] = _with_target(time_gets(public, urls), NAME_TARGET_MS)
        figures[key]["examples"] = frags[:5]
        figures[key]["sql_queries"] = count_queries(public, urls[0])[1] if urls else None

    # API, as the city regulator (session auth; token auth costs the same lookup).
    try:
        api = login_client(API_USER)
    except Exception as exc:
        figures["api"] = {"skipped": f"cannot log in as {API_USER!r}: {exc}"}
    else:
        extra = {"HTTP_ACCEPT": "application/json"}
        urls = [API_SEARCH.format(quote(u)) for u, _n in pairs]
        figures["api_uscc"] = _with_target(time_gets(api, urls, **extra), USCC_TARGET_MS)
        figures["api_uscc"]["answer_contains_name"] = _uscc_hit_rate(api, pairs, API_SEARCH, **extra)
        figures["api_uscc"]["sql_queries"] = count_queries(api, urls[0], **extra)[1] if urls else None
        for n, frags in fragments.items():
            urls = [API_SEARCH.format(quote(f)) for f in frags]
            key = f"api_name_{n}_chars"
            figures[key] = _with_target(time_gets(api, urls, **extra), NAME_TARGET_MS)
            figures[key]["sql_queries"] = count_queries(api, urls[0], **extra)[1] if urls else None
    figures["peak_rss_mb_bench_process"] = peak_rss_mb()
    results["search"] = figures
