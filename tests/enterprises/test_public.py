"""The public search and entity pages: what matches, what is refused, what is never shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from core.errors import ApplicationError
from enterprises import identity
from enterprises.masking import mask_id_number, mask_phone
from enterprises.models import Enterprise, Region
from enterprises.selectors import (
    SearchKind,
    enterprise_search,
    enterprise_search_queryset,
    normalize_query,
    parse_search_query,
)
from tests.factories import EnterpriseFactory, make_uscc

pytestmark = pytest.mark.django_db

ID_NUMBER = "140702199001011234"


def _names(result) -> list[str]:
    return [e.name for e in result.results]


def _bad_check_character(code: str) -> str:
    """The same code with a wrong (but allowed) check character."""
    wrong = next(c for c in identity.ALPHABET if c != code[-1])
    return code[:-1] + wrong


# --- masking ----------------------------------------------------------------------------------------------------
def test_it_masks_the_middle_of_a_resident_id_number():
    assert mask_id_number(ID_NUMBER) == "1407**********1234"
    assert mask_id_number(" 14070219900101123X ") == "1407**********123X"


def test_it_masks_short_and_legacy_id_numbers_at_least_by_half():
    assert mask_id_number("140702900101123") == "140*********123"
    assert mask_id_number("AB12345") == "A*****5"
    assert mask_id_number("123") == "***"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


def test_it_masks_phone_numbers():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("0354-3021234") == "035*****1234"
    assert mask_phone("12345") == "****5"
    assert mask_phone("") == ""


# --- query parsing ----------------------------------------------------------------------------------------------
def test_it_normalises_fullwidth_letters_digits_and_spaces():
    assert normalize_query("  ＡＢｃ１２\u3000 恒泰  商贸 ") == "ABc12 恒泰 商贸"
    # Fullwidth brackets are how names are registered: kept as typed.
    assert normalize_query("恒泰（集团）") == "恒泰（集团）"


def test_it_classifies_codes_numbers_and_names():
    code = make_uscc(serial=1)
    fullwidth_lower = code.lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert parse_search_query(fullwidth_lower) == parse_search_query(code)
    assert parse_search_query(code).kind is SearchKind.USCC
    assert parse_search_query(code).text == code
    assert parse_search_query("1407 0200 0012 345").kind is SearchKind.REGISTRATION_NUMBER
    assert parse_search_query("恒泰").kind is SearchKind.NAME
    assert parse_search_query("").kind is SearchKind.EMPTY


def test_it_explains_a_code_with_a_bad_check_character():
    parsed = parse_search_query(_bad_check_character(make_uscc(serial=2)))
    assert parsed.kind is SearchKind.USCC
    assert "校验位" in parsed.message


def test_it_refuses_an_impossible_code_one_character_and_an_overlong_query():
    impossible = parse_search_query("91140702MA0IOSVZ00")
    assert impossible.kind is SearchKind.REFUSED
    assert "I、O、S、V、Z" in impossible.message
    assert parse_search_query("恒").message == "请输入至少 2 个字"
    assert parse_search_query("恒" * 101).kind is SearchKind.REFUSED
    with pytest.raises(ApplicationError, match="至少 2 个字"):
        enterprise_search_queryset(query="恒")


# --- search -----------------------------------------------------------------------------------------------------
def test_it_finds_an_entity_by_its_uscc_typed_in_lower_case():
    target = EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    EnterpriseFactory(name="另一家公司")
    result = enterprise_search(query=f" {target.uscc.lower()} ")
    assert result.query.kind is SearchKind.USCC
    assert [e.pk for e in result.results] == [target.pk]


def test_it_finds_an_entity_by_its_legacy_registration_number():
    target = EnterpriseFactory(registration_number="140702000012345")
    EnterpriseFactory(registration_number="140702000054321")
    assert [e.pk for e in enterprise_search(query="140702000012345").results] == [target.pk]


@pytest.mark.parametrize("fragment", ["鼎泰", "鼎泰商", "鼎泰商贸"])
def test_it_finds_names_by_fragments_of_two_three_and_four_characters(fragment):
    target = EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    EnterpriseFactory(name="晋中恒丰物流有限公司")
    assert [e.pk for e in enterprise_search(query=fragment).results] == [target.pk]


def test_it_finds_an_entity_by_a_former_name():
    target = EnterpriseFactory(name="山西新名字科技有限公司", former_names=["榆次旧日商行"])
    assert [e.pk for e in enterprise_search(query="旧日").results] == [target.pk]
    assert [e.pk for e in enterprise_search(query="榆次旧日商").results] == [target.pk]


def test_it_ranks_the_exact_name_first_then_shorter_names_then_by_uscc():
    long_a = EnterpriseFactory(name="鼎泰商贸有限责任公司", uscc=make_uscc(serial=30))
    long_b = EnterpriseFactory(name="鼎泰商贸有限责任公司", uscc=make_uscc(serial=31))
    short = EnterpriseFactory(name="鼎泰商贸有限公司")
    exact = EnterpriseFactory(name="鼎泰商贸有限公司分公司")
    result = enterprise_search(query="鼎泰商贸有限公司分公司")
    assert [e.pk for e in result.results] == [exact.pk]
    ranked = [e.pk for e in enterprise_search(query="鼎泰商贸").results]
    assert ranked[:1] == [short.pk]
    assert ranked[1:3] == [e.pk for e in sorted([long_a, long_b], key=lambda e: e.uscc)]
    assert ranked[3] == exact.pk


def test_it_fetches_one_row_more_than_the_limit_instead_of_counting():
    for i in range(4):
        EnterpriseFactory(name=f"鼎泰{i}号店")
    with CaptureQueriesContext(connection) as queries:
        result = enterprise_search(query="鼎泰", limit=3)
    assert len(result.results) == 3
    assert result.has_more is True
    assert len(queries) == 1
    assert "COUNT(" not in queries[0]["sql"].upper()
    assert enterprise_search(query="鼎泰", limit=4).has_more is False


def test_it_keeps_the_exact_name_even_outside_the_bounded_candidate_set():
    for i in range(5):
        EnterpriseFactory(name=f"鼎泰商贸{i}号分店")
    exact = EnterpriseFactory(name="鼎泰商贸")
    matches = list(enterprise_search_queryset(query="鼎泰商贸", candidates=2))
    assert matches[0].pk == exact.pk
    assert len(matches) <= 3


def test_it_searches_with_the_indexes_on_postgresql():
    """The forms the pg_trgm and jsonb GIN indexes can serve (icontains or an ORDER BY in the LIMIT would not)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL indexes")
    EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    with connection.cursor() as cursor:
        # A 1-row table is cheapest to scan: forbid scans to see which index the planner can use.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
    three = enterprise_search_queryset(query="鼎泰商").explain()
    two = enterprise_search_queryset(query="鼎泰").explain()
    punctuation = enterprise_search_queryset(query="%%%").explain()
    assert "ent_search_trgm_idx" in three
    assert "ent_name_grams_idx" in two
    assert "ent_name_grams_idx" in punctuation


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("分%", "晋中百分%公司"),  # 2 characters: the bigram, compared exactly
        ("百分%", "晋中百分%公司"),  # no run of 3 word characters: bigrams + escaped LIKE
        ("中百分%", "晋中百分%公司"),  # trigram LIKE, % escaped
        ("_线", "晋中下划_线公司"),
        ("中下划_", "晋中下划_线公司"),
        ("斜\\杠", "晋中反斜\\杠公司"),
        ("中反斜\\", "晋中反斜\\杠公司"),
    ],
)
def test_it_matches_like_metacharacters_literally(query, expected):
    for name in [
        "晋中百分%公司",
        "晋中百分之公司",
        "晋中下划_线公司",
        "晋中下划X线公司",
        "晋中反斜\\杠公司",
        "晋中反斜X杠公司",
    ]:
        EnterpriseFactory(name=name)
    assert _names(enterprise_search(query=query)) == [expected]


def test_it_treats_sql_in_the_query_as_text():
    EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    result = enterprise_search(query="' OR 1=1 --")
    assert result.results == []
    assert Enterprise.objects.count() == 1


# --- search page ------------------------------------------------------------------------------------------------
def test_it_shows_the_search_form_and_results_with_links(client):
    target = EnterpriseFactory(name="晋中鼎泰商贸有限公司", registration_date=dt.date(2016, 5, 4))
    response = client.get("/", {"q": "鼎泰"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="q"' in html
    assert target.name in html and target.uscc in html
    assert f'href="/e/{target.uscc}/"' in html
    assert "榆次区" in html
    assert "2016-05-04" in html
    assert str(target.get_entity_type_display()) in html
    assert str(target.get_status_display()) in html


def test_it_says_when_there_are_more_results_than_shown(client):
    for i in range(21):
        EnterpriseFactory(name=f"鼎泰{i:02d}号商店")
    html = client.get("/", {"q": "鼎泰"}).content.decode()
    assert html.count('class="entity-link"') == 20
    assert gettext("Showing the first %(limit)s matches; please narrow your search.") % {"limit": 20} in html


def test_it_refuses_a_one_character_query_with_a_message(client):
    EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    response = client.get("/", {"q": "鼎"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入至少 2 个字" in html
    assert "晋中鼎泰商贸有限公司" not in html


def test_it_shows_why_a_code_cannot_match(client):
    html = client.get("/", {"q": _bad_check_character(make_uscc(serial=3))}).content.decode()
    assert "统一社会信用代码校验位错误" in html


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "\\", "%%", "__", "\\\\"])
def test_it_escapes_metacharacters_in_the_page(client, query):
    EnterpriseFactory(name="晋中鼎泰商贸有限公司")
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "晋中鼎泰商贸有限公司" not in html
    if query.startswith("<"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_makes_public_pages_cacheable_for_a_minute_without_cookies(client):
    target = EnterpriseFactory()
    for url in ["/", f"/?q={target.uscc}", f"/e/{target.uscc}/"]:
        response = client.get(url)
        assert response.status_code == 200
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"public", "max-age=60"} <= cache_control
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies


def test_it_tells_robots_not_to_index_result_pages(client):
    home = client.get("/").content.decode()
    results = client.get("/", {"q": "鼎泰"}).content.decode()
    assert '<meta name="robots" content="index, follow">' in home
    assert '<meta name="robots" content="noindex, follow">' in results


def test_it_links_the_api_docs_in_the_footer(client):
    assert 'href="/api/docs/"' in client.get("/").content.decode()


# --- entity page ------------------------------------------------------------------------------------------------
def test_it_shows_the_registration_facts_of_an_entity(client):
    target = EnterpriseFactory(
        name="晋中鼎泰商贸有限公司",
        former_names=["榆次鼎泰商行", "晋中鼎泰商店"],
        registration_number="140702000012345",
        legal_representative="李四",
        address="山西省晋中市榆次区顺城街8号",
        registered_capital=Decimal("250.5000"),
        registration_date=dt.date(2016, 5, 4),
        status=Enterprise.Status.SUSPENDED,
    )
    response = client.get(f"/e/{target.uscc}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "晋中鼎泰商贸有限公司",
        target.uscc,
        str(target.get_entity_type_display()),
        "李四",
        "山西省晋中市榆次区顺城街8号",
        "榆次区",
        "零售业（F52）",
        "250.5 万元",
        "2016年5月4日",
        str(Enterprise.Status.SUSPENDED.label),
        "榆次鼎泰商行；晋中鼎泰商店",
        "140702000012345",
    ]:
        assert text in html, text
    assert f'<link rel="canonical" href="/e/{target.uscc}/">' in html
    assert '<meta name="robots" content="index, follow, noarchive">' in html


def test_it_shows_empty_credit_record_sections(client):
    target = EnterpriseFactory()
    html = client.get(f"/e/{target.uscc}/").content.decode()
    for title in [
        "Administrative penalties",
        "List of enterprises with abnormal operations",
        "List of serious illegal and dishonest enterprises",
    ]:
        assert gettext(title) in html
    assert html.count(gettext("No record")) == 3


def test_it_hides_the_capital_of_an_individual_business_without_one(client):
    shop = EnterpriseFactory(entity_type=Enterprise.EntityType.INDIVIDUAL, name="榆次区老王面馆")
    response = client.get(f"/e/{shop.uscc}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert gettext("Registered capital") not in html
    assert gettext("Operator") in html
    # A natural person's business: kept out of search engines.
    assert '<meta name="robots" content="noindex, noarchive">' in html


def test_it_never_renders_internal_data(client):
    target = EnterpriseFactory(
        name="晋中鼎泰商贸有限公司",
        risk_class=Enterprise.RiskClass.D,
        contact_phone="13912345678",
        contact_email="boss@dingtai.example",
        legal_representative_id_number=ID_NUMBER,
    )
    pages = [
        client.get(f"/e/{target.uscc}/").content.decode(),
        client.get("/", {"q": "鼎泰"}).content.decode(),
        client.get("/", {"q": target.uscc}).content.decode(),
    ]
    assert target.name in pages[0] and target.name in pages[1] and target.name in pages[2]
    for html in pages:
        for secret in [
            "13912345678",
            "boss@dingtai.example",
            ID_NUMBER,
            "19900101",
            mask_id_number(ID_NUMBER),
            str(Enterprise.RiskClass.D.label),
            gettext("risk class"),
            "风险",
        ]:
            assert secret not in html, secret
        assert "risk" not in html.lower()


def test_it_answers_a_malformed_code_with_a_400_page_and_the_reason(client):
    bad = _bad_check_character(make_uscc(serial=4))
    response = client.get(f"/e/{bad}/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "统一社会信用代码校验位错误" in html
    assert bad in html
    short = client.get("/e/9114070212345/")
    assert short.status_code == 400
    assert "应为 18 位" in short.content.decode()
    script = client.get("/e/%3Cscript%3E/")
    assert script.status_code == 400
    assert "<script>" not in script.content.decode()


def test_it_answers_an_unknown_valid_code_with_a_404_page(client):
    code = make_uscc(serial=5)
    response = client.get(f"/e/{code}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert code in html
    assert '<meta name="robots" content="noindex">' in html


def test_it_redirects_a_lower_case_code_to_the_canonical_address(client):
    target = EnterpriseFactory()
    response = client.get(f"/e/{target.uscc.lower()}/")
    assert response.status_code == 301
    assert response["Location"] == f"/e/{target.uscc}/"


def test_it_renders_the_site_404_page_for_unknown_addresses(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert gettext("Page not found") in response.content.decode()


def test_it_serves_entities_of_every_county(client):
    taigu = EnterpriseFactory(region=Region.objects.get(code="140703"), name="太谷鼎泰商贸有限公司")
    assert client.get(f"/e/{taigu.uscc}/").status_code == 200
