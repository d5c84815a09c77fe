"""`manage.py seed_demo`: the demo population of 晋中市 (issue 2), on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from core.models import User
from enterprises import demo, identity
from enterprises.models import AnnualReport, Enterprise, Licence, RegistrationChange, search_fields

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)
N = 3000
SEED = 7


def seed(**options) -> str:
    out = io.StringIO()
    params = {"enterprises": N, "seed": SEED, "today": TODAY, "password": "Demo-pass-2026", "stdout": out}
    params.update(options)
    call_command("seed_demo", **params)
    return out.getvalue()


def digest(rows) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update("|".join(str(v) for v in row).encode())
        h.update(b"\n")
    return h.hexdigest()


@pytest.fixture
def population() -> str:
    return seed()


def test_it_loads_the_entity_types_in_the_proportions_of_seed_003(population):
    counts = Counter(Enterprise.objects.values_list("entity_type", flat=True))
    assert sum(counts.values()) == N
    total = 75_263 + 239_777 + 5_671
    assert counts["enterprise"] / N == pytest.approx(75_263 / total, abs=0.025)
    assert counts["individual"] / N == pytest.approx(239_777 / total, abs=0.025)
    assert counts["cooperative"] / N == pytest.approx(5_671 / total, abs=0.01)
    assert counts["cooperative"] > 0


def test_it_sizes_the_counties_realistically(population):
    by_county = dict(Enterprise.objects.values_list("region_id").annotate(n=Count("id")).values_list("region_id", "n"))
    assert set(by_county) == {code for code, _name, _w in demo.COUNTIES}
    ranked = sorted(by_county, key=by_county.get, reverse=True)
    assert ranked[0] == "140702"  # 榆次区, the urban core
    assert set(ranked[1:5]) >= {"140781", "140728"}  # 介休、平遥 right behind (太谷 close)
    assert set(ranked[-4:]) >= {"140721", "140723"}  # 榆社、和顺 among the smallest
    assert by_county["140702"] > 3 * by_county["140722"]


def test_it_generates_valid_unique_codes_with_type_and_region_positions(population):
    rows = list(
        Enterprise.objects.values_list(
            "uscc",
            "entity_type",
            "region_id",
            "registration_number",
            "registration_date",
            "legal_representative_id_number",
        )
    )
    assert len({r[0] for r in rows}) == len(rows) == N
    for uscc, entity_type, region, reg_no, registered, id_number in rows:
        assert identity.validate(uscc) == uscc
        assert not set(uscc) & set("IOSVZ")
        assert identity.entity_type_of(uscc) == entity_type
        assert identity.region_of(uscc) == region
        org = uscc[8:17]
        assert org[:2] == "MA" and demo.org_code_check(org[:8]) == org[8]
        assert identity.with_check_character(uscc[:17]) == uscc
        if reg_no:
            assert registered < demo.LEGACY_NUMBER_BEFORE
            assert len(reg_no) == 15 and reg_no.isdigit() and demo.mod11_10_check(reg_no[:14]) == reg_no[14]
        assert len(id_number) == 18 and id_number.startswith("1407")
        birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        assert registered.year - birth.year >= 18
        assert (
            demo.resident_id_number(region_code=id_number[:6], birth=birth, sequence=int(id_number[14:17])) == id_number
        )
    assert any(r[3] for r in rows) and any(not r[3] for r in rows)


def test_it_is_deterministic_for_the_same_size_seed_and_date(population):
    in_db = digest(Enterprise.objects.order_by("id").values_list("uscc", "name", "registration_date"))
    generated = digest(
        (s.uscc, s.name, s.registration_date) for s in demo.generate_population(entities=N, seed=SEED, today=TODAY)
    )
    assert in_db == generated
    again = digest(
        (s.uscc, s.name, s.registration_date) for s in demo.generate_population(entities=N, seed=SEED, today=TODAY)
    )
    assert again == generated
    other_seed = digest(
        (s.uscc, s.name, s.registration_date) for s in demo.generate_population(entities=N, seed=SEED + 1, today=TODAY)
    )
    assert other_seed != generated


def test_it_does_nothing_with_if_empty_when_entities_exist(population):
    reports = AnnualReport.objects.count()
    out = seed(if_empty=True, enterprises=50)
    assert "跳过" in out
    assert Enterprise.objects.count() == N
    assert AnnualReport.objects.count() == reports


def test_it_refuses_to_add_to_a_populated_database_without_force(population):
    with pytest.raises(CommandError, match="--force"):
        seed(enterprises=50)
    assert Enterprise.objects.count() == N

    seed(enterprises=50, force=True)
    assert Enterprise.objects.count() == N + 50
    assert Enterprise.objects.values("uscc").distinct().count() == N + 50


def test_it_creates_a_demo_user_for_every_role_once(population):
    expected = {username: (role, region) for username, role, region, _su in demo.DEMO_USERS}
    users = {u.username: u for u in User.objects.filter(username__in=expected)}
    assert set(users) == set(expected)
    for username, (role, region) in expected.items():
        user = users[username]
        assert user.role == role and user.region_code == region
        assert [g.name for g in user.groups.all()] == [f"role:{role}"]
        assert user.check_password("Demo-pass-2026")
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["city"].is_superuser
    assert users["api-health"].department.code == "health"
    assert users["officer"].is_staff and users["officer"].department.name == "晋中市榆次区财政局"
    assert users["api-health"].auth_token.key in population
    assert {u.role for u in users.values()} >= set(User.Role.values) - {User.Role.ENTERPRISE}

    seed(enterprises=0, force=True, password="another-password-1")
    assert User.objects.filter(username__in=expected).count() == len(expected)
    assert User.objects.get(username="yuci").check_password("Demo-pass-2026")  # existing users are not touched


def test_it_lists_the_demo_logins(population):
    out = io.StringIO()
    call_command("seed_demo", list_users=True, stdout=out)
    lines = out.getvalue().splitlines()
    staff = [line for line in lines if "企业用户" not in line]
    assert len(staff) == len(demo.DEMO_USERS)
    # The repair step's entity accounts follow: the login is the USCC (see repair/demo.py).
    entities = [line for line in lines if "企业用户" in line]
    assert entities and all(len(line.split()[0]) == 18 for line in entities)
    assert all(line.startswith("    ") for line in lines)
    fields = [line.split() for line in lines]
    assert ["yuci", "县局监管人员", "榆次区"] in fields
    assert ["officer", "信用核查专员", "榆次区"] in fields
    assert ["admin", "系统管理员", "全市"] in fields
    assert ["api-health", "部门接口账号", "全市"] in fields


def test_it_files_annual_reports_at_the_rates_of_seed_003(population):
    year = 2025
    deadline = dt.date(2026, 6, 30)
    for entity_type, rate, tolerance in (("enterprise", 0.9319, 0.03), ("individual", 0.9617, 0.02),
                                         ("cooperative", 0.946, 0.08)):  # fmt: skip
        due = Enterprise.objects.filter(
            entity_type=entity_type, status__in=["operating", "suspended"], registration_date__lte=dt.date(year, 12, 31)
        )
        filed = due.filter(annual_reports__year=year).count()
        assert filed / due.count() == pytest.approx(rate, abs=tolerance), entity_type
    reports = AnnualReport.objects.filter(year=year)
    assert reports.filter(on_time=False).exists()
    assert reports.filter(on_time=True).count() > 10 * reports.filter(on_time=False).count()
    assert not reports.filter(on_time=True, filed_on__gt=deadline).exists()
    assert not reports.filter(on_time=False, filed_on__lte=deadline).exists()
    assert not reports.filter(filed_on__gt=TODAY).exists()
    assert set(AnnualReport.objects.values_list("year", flat=True).distinct()) == {2021, 2022, 2023, 2024, 2025}
    # Only entities that owed the report filed it.
    assert not AnnualReport.objects.filter(enterprise__status__in=["revoked", "deregistered"]).exists()
    assert not AnnualReport.objects.filter(year=2024, enterprise__registration_date__gt=dt.date(2024, 12, 31)).exists()


def test_it_fills_the_search_columns_and_keeps_former_names_searchable(population):
    renamed = Enterprise.objects.exclude(former_names=[])
    assert 0.01 * N < renamed.count() < 0.06 * N
    for e in renamed[:20]:
        assert (e.search_text, e.name_grams) == search_fields(e.name, e.former_names)
        assert e.former_names[0] in e.search_text
        assert RegistrationChange.objects.filter(enterprise=e, field="name", old_value=e.former_names[0]).exists()
    plain = Enterprise.objects.filter(former_names=[]).first()
    assert (plain.search_text, plain.name_grams) == search_fields(plain.name, [])


def test_it_tags_key_areas_and_licences_by_industry(population):
    catering = Enterprise.objects.filter(industry_code__startswith="H62")
    assert catering.exists()
    assert not catering.exclude(key_areas="catering").exists()
    food = Enterprise.objects.filter(industry_id__in=["13", "14", "15"])
    assert food.exists() and not food.exclude(key_areas="food_production").exists()
    assert Licence.objects.filter(enterprise__in=food, name="食品生产许可证").exists()
    codes = Enterprise.objects.values_list("industry_code", "industry_id")
    assert all(len(code) == 5 and code[0].isalpha() and code[1:3] == division for code, division in codes)
    individual_divisions = Counter(
        Enterprise.objects.filter(entity_type="individual").values_list("industry_id", flat=True)
    )
    assert [d for d, _n in individual_divisions.most_common(2)] == ["52", "62"]  # retail and catering dominate


def test_it_keeps_registered_capital_for_enterprises_and_cooperatives(population):
    with_capital = Enterprise.objects.filter(entity_type__in=["enterprise", "cooperative"])
    assert not with_capital.filter(registered_capital=None).exists()
    individual = Enterprise.objects.filter(entity_type="individual")
    assert individual.filter(registered_capital=None).count() > 0.8 * individual.count()
    for e in Enterprise.objects.all()[:200]:
        e.full_clean()  # every seeded row passes the model's own validation


def test_it_stops_the_pipelined_writer_at_the_first_failing_chunk():
    written: list[int] = []

    def write(chunk: list[int]) -> None:
        if chunk[0] == 30:
            raise RuntimeError("COPY failed")
        written.append(chunk[0])

    with pytest.raises(RuntimeError, match="COPY failed"):
        demo.write_pipelined(demo.chunked(range(1000), 10), write)
    assert written == [0, 10, 20]

    done: list[int] = []
    demo.write_pipelined(demo.chunked(range(95), 10), lambda chunk: done.append(len(chunk)))
    assert done == [10] * 9 + [5]  # every chunk, in order
