"""Benchmark: the public credit record and the public lists at the loaded size (issue 3): `/e/<USCC>/` and
`GET /api/v1/public/enterprises/<USCC>/` (target p95 ≤ 50 ms), the public abnormal and serious lists — first page,
twenty "next page" steps deep (keyset), a county filter and a 2-character name search (target p95 ≤ 200 ms).

The record pages are timed for entities that have a public record (an open listing, a disclosed penalty: the
pages with the most to read) and for entities picked at random (most have none). Each page's SQL queries are
counted once, apart from the timed runs. Everything goes through django.test.Client: the full middleware and view
stack, anonymous, no network (a proxy's cache would only make it faster).
"""

from __future__ import annotations

import html
import random
import re
from typing import Any
from urllib.parse import quote

from bench.common import count_queries, now_iso, peak_rss_mb, time_gets

RECORD_TARGET_MS = 50
LIST_TARGET_MS = 200
SAMPLES = 100
LIST_SAMPLES = 25
DEEP_STEPS = 20
SEED = 2026


def _with_target(figures: dict[str, Any], target_ms: float, queries: int | None) -> dict[str, Any]:
    ok = figures["status_codes"].keys() == {"200"}
    return {
        **figures,
        "sql_queries": queries,
        "target_p95_ms": target_ms,
        "meets_target": bool(ok and figures["p95_ms"] <= target_ms),
    }


def _sample_usccs() -> dict[str, list[str]]:
    """USCCs of entities with a public record (listed, disclosed) and of random entities, reproducibly."""
    from django.utils import timezone

    from disclosure import selectors
    from enterprises.models import Enterprise

    today = timezone.localdate()
    rng = random.Random(SEED)
    ids: set[int] = set()
    for queryset in (
        selectors.public_abnormal(on=today),
        selectors.public_serious(on=today),
        selectors.public_penalties(on=today),
    ):
        found = list(queryset.order_by("enterprise_id").values_list("enterprise_id", flat=True)[:2000])
        ids.update(rng.sample(found, min(len(found), SAMPLES // 3 + 1)))
    with_record = list(Enterprise.objects.filter(pk__in=ids).order_by("pk").values_list("uscc", flat=True))
    last = Enterprise.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picks = {rng.randint(1, last) for _ in range(SAMPLES * 2)}
    random_ones = list(Enterprise.objects.filter(pk__in=picks).order_by("pk").values_list("uscc", flat=True))
    return {"with_record": with_record[:SAMPLES], "random": random_ones[:SAMPLES]}


def _deep_urls(client: Any, first_url: str, steps: int) -> list[str]:
    """The URLs of the first `steps` "next page" links, followed from `first_url`."""
    urls = []
    url = first_url
    pattern = re.compile(r'href="(' + re.escape(first_url.split("?")[0]) + r'\?[^"]*after=[^"]*)"')
    for _ in range(steps):
        match = pattern.search(client.get(url).content.decode())
        if not match:
            break
        url = html.unescape(match.group(1))
        urls.append(url)
    return urls


def run(results: dict[str, Any], *, entities: int) -> None:
    from django.test import Client

    figures: dict[str, Any] = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only public",
        "samples": SAMPLES,
    }
    client = Client()
    usccs = _sample_usccs()
    for number, (group, codes) in enumerate(usccs.items(), start=1):
        for kind, pattern in (("page", "/e/{}/"), ("api", "/api/v1/public/enterprises/{}/")):
            urls = [pattern.format(code) for code in codes]
            # The public API is throttled per address (120/min): each group of samples is its own visitor (a
            # documentation address, RFC 5737), so the throttle runs as in production but a group's ~106 requests
            # stay under one visitor's rate. A 429 still fails the target.
            extra = {"HTTP_ACCEPT": "application/json", "REMOTE_ADDR": f"198.51.100.{number}"} if kind == "api" else {}
            timing = time_gets(client, urls, warmup=5, **extra)
            queries = count_queries(client, urls[0], **extra)[1] if urls else None
            figures[f"record_{kind}_{group}"] = _with_target(timing, RECORD_TARGET_MS, queries)
    for name in ("abnormal", "serious"):
        first = f"/{name}/"
        pages = {
            "first_page": [first] * LIST_SAMPLES,
            "deep_pages": _deep_urls(client, first, DEEP_STEPS),
            "county_filter": [f"{first}?region=140702"] * LIST_SAMPLES,
            "search_2_chars": [f"{first}?q={quote('恒泰')}"] * LIST_SAMPLES,
        }
        for page, urls in pages.items():
            if not urls:
                figures[f"{name}_{page}"] = {"skipped": "no next page (the list is shorter than one page)"}
                continue
            timing = time_gets(client, urls, warmup=2)
            figures[f"{name}_{page}"] = _with_target(timing, LIST_TARGET_MS, count_queries(client, urls[-1])[1])
    figures["all_meet_target"] = all(v.get("meets_target", True) for v in figures.values() if isinstance(v, dict))
    figures["peak_rss_mb_bench_process"] = peak_rss_mb()
    results["public"] = figures
