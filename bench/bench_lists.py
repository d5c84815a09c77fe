"""Benchmark: the registry list pages at the loaded size — the admin changelist and the API list — as the city
regulator (whole city) and as a county regulator (榆次区, the largest county). Target (issue 2): p95 ≤ 200 ms with
a bounded number of SQL queries (counted once per page with CaptureQueriesContext, apart from the timed runs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bench.common import count_queries, login_client, now_iso, peak_rss_mb, time_gets

SAMPLES = 25
TARGET_MS = 200
USERS = {"city_regulator": "city", "county_regulator_140702": "yuci"}
ADMIN_PAGES = {
    "admin_page_1": "/admin/enterprises/enterprise/",
    "admin_page_100": "/admin/enterprises/enterprise/?p=100",
    "admin_county_filter": "/admin/enterprises/enterprise/?region__code__exact=140702",
    "admin_search_2_chars": "/admin/enterprises/enterprise/?q=" + quote("恒泰"),
}
API_PAGES = {
    "api_page_1": "/api/v1/enterprises/",
    "api_page_100": "/api/v1/enterprises/?page=100",
    "api_region_and_type": "/api/v1/enterprises/?region=140702&entity_type=individual",
}


def run(results: dict[str, Any], *, entities: int) -> None:
    figures: dict[str, Any] = {
        "date": now_iso(),
        "entities": entities,
        "command": "python -m bench --only lists",
        "samples_per_page": SAMPLES,
        "target_p95_ms": TARGET_MS,
    }
    for persona, username in USERS.items():
        try:
            client = login_client(username)
        except Exception as exc:
            figures[persona] = {"skipped": f"cannot log in as {username!r}: {exc}"}
            continue
        pages: dict[str, Any] = {}
        for name, url in {**ADMIN_PAGES, **API_PAGES}.items():
            extra = {"HTTP_ACCEPT": "application/json"} if url.startswith("/api/") else {}
            timing = time_gets(client, [url] * SAMPLES, warmup=2, **extra)
            _status, queries = count_queries(client, url, **extra)
            ok = timing["status_codes"].keys() == {"200"}
            pages[name] = {
                "url": url,
                **timing,
                "sql_queries": queries,
                "meets_target": bool(ok and timing["p95_ms"] <= TARGET_MS),
            }
        figures[persona] = pages
    figures["peak_rss_mb_bench_process"] = peak_rss_mb()
    results["lists"] = figures
