"""The public lists /abnormal/ (经营异常名录) and /serious/ (严重违法失信名单): who is on them, search by name or
code, the county filter, "next page" paging without OFFSET, and no marks, removed or hidden entries."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disclosure import selectors
from disclosure.models import AbnormalListing, SeriousListing
from enterprises.models import Enterprise, Region
from tests.disclosure.factories import AbnormalListingFactory, SeriousListingFactory
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 15)
DAY = dt.timedelta(days=1)
ROW = re.compile(r'<a class="entity-link" href="/e/(?P<uscc>[0-9A-Z]{18})/">(?P<name>[^<]+)</a>')


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def _get(client, path: str, **params) -> str:
    response = client.get(f"{path}?{urlencode(params)}" if params else path)
    assert response.status_code == 200
    return response.content.decode()


def _names(html: str) -> list[str]:
    return [m["name"] for m in ROW.finditer(html)]


def _link(html: str, css: str) -> str | None:
    found = re.search(rf'<a class="{css}"[^>]* href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _listed(name: str, *, region: str = "140702", **kwargs) -> AbnormalListing:
    """An entity of `region` on the abnormal list, decided by its county's bureau (as the services do)."""
    county = Region.objects.get(code=region)
    enterprise = EnterpriseFactory(name=name, region=county)
    return AbnormalListingFactory(enterprise=enterprise, office=county, **kwargs)


def _serious(name: str, *, region: str = "140702", **kwargs) -> SeriousListing:
    county = Region.objects.get(code=region)
    enterprise = EnterpriseFactory(name=name, region=county)
    return SeriousListingFactory(enterprise=enterprise, office=county, **kwargs)


# --- who is on the lists ----------------------------------------------------------------------------------------
def test_the_abnormal_list_shows_active_listings_and_no_marks_or_removed_ones(client):
    _listed("晋中在列商贸有限公司")
    coop = EnterpriseFactory(entity_type=Enterprise.EntityType.COOPERATIVE, name="榆次区金谷种植专业合作社")
    AbnormalListingFactory(enterprise=coop, reason=AbnormalListing.Reason.UNREACHABLE, year=0)
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL, name="榆次区老王杂货店")
    AbnormalListingFactory(enterprise=shop, is_mark=True)
    _listed(
        "晋中已移出商贸有限公司",
        status=AbnormalListing.Status.REMOVED,
        removed_on=TODAY - DAY,
        removal_reason=AbnormalListing.RemovalReason.CURED,
    )
    _listed("晋中明天列入商贸有限公司", decided_on=TODAY + DAY)

    html = _get(client, "/abnormal/")
    assert sorted(_names(html)) == sorted(["晋中在列商贸有限公司", "榆次区金谷种植专业合作社"])
    assert "经营异常名录" in html
    assert "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告" in html
    assert "通过登记的住所无法联系" in html  # a cooperative's reason, worded for cooperatives


def test_the_serious_list_shows_listed_entries_and_nothing_hidden_pending_or_over(client):
    shown = _serious("晋中在列严重违法有限公司", listed_until=TODAY)
    _serious("晋中告知阶段有限公司", stage=SeriousListing.Stage.NOTICE, decision_number="", decided_on=None)
    _serious(
        "晋中提前移出有限公司",
        stage=SeriousListing.Stage.REMOVED,
        removed_on=TODAY - DAY,
        removal_kind=SeriousListing.RemovalKind.EARLY_REPAIR,
        hidden_from_public=True,
    )
    # Hidden but (wrongly) still at stage "listed": hidden wins.
    _serious("晋中隐藏在列有限公司", hidden_from_public=True)
    _serious("晋中届满未移出有限公司", listed_until=TODAY - DAY)

    html = _get(client, "/serious/")
    assert _names(html) == ["晋中在列严重违法有限公司"]
    assert shown.decision_number not in html  # the list shows who and why; the record has the document number
    assert TODAY.isoformat() in html  # listed until
    assert "违反法律、行政法规" in html


def test_the_lists_link_to_each_entity_record_and_to_each_other(client):
    listing = _listed("晋中链接测试商贸有限公司")
    html = _get(client, "/abnormal/")
    assert f'href="/e/{listing.enterprise.uscc}/"' in html
    assert 'href="/serious/"' in html
    record = _get(client, f"/e/{listing.enterprise.uscc}/")
    assert 'href="/abnormal/"' in record and 'href="/serious/"' in record
    assert "/static/css/disclosure.css" in record and "/static/css/disclosure.css" in html


def test_an_empty_list_says_so(client):
    html = _get(client, "/serious/")
    assert _names(html) == []
    assert 'class="empty"' in html


# --- search and filter ------------------------------------------------------------------------------------------
def test_it_searches_the_list_by_name_fragment_of_two_or_more_characters(client):
    _listed("晋中鼎泰商贸有限公司")
    _listed("晋中恒丰物流有限公司", reason=AbnormalListing.Reason.UNREACHABLE, year=0)
    EnterpriseFactory(name="晋中鼎泰建材有限公司")  # matches, but is not on the list
    assert _names(_get(client, "/abnormal/", q="鼎泰")) == ["晋中鼎泰商贸有限公司"]
    assert _names(_get(client, "/abnormal/", q="恒丰物流")) == ["晋中恒丰物流有限公司"]
    assert _names(_get(client, "/abnormal/", q="不存在的名称")) == []


def test_it_finds_a_listed_entity_among_many_registered_ones_with_a_common_word(client):
    """The candidate cap of the registry search (200 names) applies among listed entities, not the registry."""
    EnterpriseFactory.create_batch(210, name=factory.Sequence(lambda n: f"晋中商贸{n}号有限公司"))
    _listed("晋中商贸在列有限公司")
    assert _names(_get(client, "/abnormal/", q="商贸")) == ["晋中商贸在列有限公司"]


def test_it_searches_the_list_by_code(client):
    listing = _listed("晋中代码查询商贸有限公司")
    _listed("晋中另一家商贸有限公司", reason=AbnormalListing.Reason.UNREACHABLE, year=0)
    code = listing.enterprise.uscc
    assert _names(_get(client, "/abnormal/", q=code.lower())) == ["晋中代码查询商贸有限公司"]


def test_it_refuses_a_one_character_search_with_the_reason(client):
    _listed("晋中鼎泰商贸有限公司")
    html = _get(client, "/abnormal/", q="鼎")
    assert "请输入至少 2 个字" in html
    assert _names(html) == []


def test_it_filters_the_list_by_county(client):
    _listed("榆次区某商贸有限公司", region="140702")
    _listed("太谷区某商贸有限公司", region="140703")
    _serious("平遥县某严重违法有限公司", region="140728")
    _serious("介休市某严重违法有限公司", region="140781")
    assert _names(_get(client, "/abnormal/", region="140703")) == ["太谷区某商贸有限公司"]
    assert _names(_get(client, "/serious/", region="140728")) == ["平遥县某严重违法有限公司"]
    html = _get(client, "/abnormal/", region="140703", q="榆次")
    assert _names(html) == []
    assert '<option value="140703" selected>' in html


def test_the_county_filter_is_the_county_that_decided_the_listing(client):
    """An entity that moved to another county after its listing stays under the county whose bureau listed it."""
    listing = _listed("晋中搬迁商贸有限公司", region="140703")
    Enterprise.objects.filter(pk=listing.enterprise_id).update(region_id="140728")
    assert _names(_get(client, "/abnormal/", region="140703")) == ["晋中搬迁商贸有限公司"]
    assert _names(_get(client, "/abnormal/", region="140728")) == []


def test_it_asks_to_narrow_a_search_that_matches_too_many_entities(client, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 3)
    for i in range(4):
        _listed(f"晋中宽泛{i}号商贸有限公司", reason=AbnormalListing.Reason.UNREACHABLE, year=0)
    html = _get(client, "/abnormal/", q="宽泛")
    assert len(_names(html)) == 3
    assert 'role="alert"' in html
    assert 'role="alert"' not in _get(client, "/abnormal/", q="晋中宽泛1号")


def test_an_unknown_region_shows_every_region_and_says_so(client):
    _listed("榆次区某商贸有限公司", region="140702")
    html = _get(client, "/abnormal/", region="999999")
    assert _names(html) == ["榆次区某商贸有限公司"]
    assert 'role="alert"' in html


# --- paging -----------------------------------------------------------------------------------------------------
def test_it_pages_through_the_whole_list_forwards_and_back_without_gaps(client):
    # 45 entries over 3 decision days: ties on the day are ordered by id, and pages cut through a day.
    expected = []
    for i in range(45):
        listing = _listed(f"晋中分页{i:02d}号商贸有限公司", decided_on=dt.date(2026, 7, 6 + i % 3))
        expected.append(listing)
    expected.sort(key=lambda a: (a.decided_on, a.pk), reverse=True)
    expected_names = [a.enterprise.name for a in expected]

    pages, url = [], "/abnormal/"
    while url:
        html = _get(client, url)
        pages.append(_names(html))
        url = _link(html, "pager-next")
    assert [len(p) for p in pages] == [20, 20, 5]
    assert [name for page in pages for name in page] == expected_names
    assert "45" in _get(client, "/abnormal/")  # the count (exact below the cap)

    # Back from the last page: the same pages in reverse; the first page has no "previous".
    html = _get(client, "/abnormal/")
    html = _get(client, _link(html, "pager-next"))
    html = _get(client, _link(html, "pager-next"))
    back = []
    while (previous := _link(html, "pager-previous")) is not None:
        html = _get(client, previous)
        back.append(_names(html))
    assert back == [pages[1], pages[0]]
    assert _link(html, "pager-first") is None


def test_paging_keeps_the_search_and_the_county(client):
    for i in range(25):
        _listed(f"晋中翻页保留{i:02d}号商贸有限公司", region="140703")
    _listed("晋中翻页保留其他县商贸有限公司", region="140702")
    html = _get(client, "/abnormal/", q="翻页保留", region="140703")
    next_url = _link(html, "pager-next")
    assert next_url is not None and "region=140703" in next_url and "q=" in next_url
    second = _names(_get(client, next_url))
    assert len(_names(html)) + len(second) == 25
    assert "晋中翻页保留其他县商贸有限公司" not in second


def test_a_bad_cursor_shows_the_first_page(client):
    _listed("晋中游标商贸有限公司")
    assert _names(_get(client, "/abnormal/", after="garbage")) == ["晋中游标商贸有限公司"]


def test_the_count_is_capped(client, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_COUNT_CAP", 3)
    for i in range(5):
        _listed(f"晋中计数{i}号商贸有限公司")
    queryset = selectors.abnormal_list(on=TODAY).queryset
    page = selectors.list_page(queryset, cursor=None, size=2)
    assert (page.count, page.count_is_exact, len(page.rows)) == (3, False, 2)
    # Pages after the first are not counted again.
    later = selectors.list_page(queryset, cursor=selectors.Cursor.decode(page.next_cursor, forward=True), size=2)
    assert (later.count, len(later.rows)) == (None, 2)
    assert 'class="result-count"' not in _get(client, "/abnormal/", after=page.next_cursor)
    assert 'class="result-count"' in _get(client, "/abnormal/")


def test_the_list_pages_need_a_bounded_number_of_queries(client):
    for i in range(30):
        _listed(f"晋中查询数{i:02d}号商贸有限公司", region=["140702", "140703", "140728"][i % 3])
        _serious(f"晋中查询数严重{i:02d}号有限公司", region=["140702", "140703"][i % 2])
    for path, params in [
        ("/abnormal/", {}),
        ("/abnormal/", {"q": "查询数", "region": "140703"}),
        ("/serious/", {"q": "严重"}),
    ]:
        with CaptureQueriesContext(connection) as queries:
            _get(client, path, **params)
        assert len(queries.captured_queries) <= 5, [q["sql"] for q in queries.captured_queries]
