"""The regulators' pages and API: render for city and county regulators, county scoping, nobody else sees classes."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from core.models import User
from credit import services
from credit.defaults import DEFAULT_SPEC
from credit.models import ModelVersion, Run
from enterprises.models import Enterprise, Region
from tests.credit.helpers import AS_OF, clean_entity, live_version
from tests.disclosure.factories import AbnormalListingFactory, PenaltyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

YUCI, TAIGU = "140702", "140703"


@pytest.fixture
def classified():
    """Two entities in 榆次区 (one punished: C), one in 太谷区 (A), classified, with a 2-month trend."""
    yuci = Region.objects.get(code=YUCI)
    taigu = Region.objects.get(code=TAIGU)
    punished = clean_entity(region=yuci, name="晋中恒泰榆次商贸有限公司")
    PenaltyFactory(enterprise=punished, decision_date=dt.date(2026, 3, 2))
    clean = clean_entity(region=yuci, name="晋中鼎盛榆次有限公司")
    other = clean_entity(region=taigu, name="太谷区鑫源商贸有限公司")
    AbnormalListingFactory(enterprise=other, office=taigu, decided_on=dt.date(2026, 11, 1))
    services.reclassify(as_of=dt.date(2026, 10, 31), history=True)
    run = services.reclassify(as_of=AS_OF)
    return {"punished": punished, "clean": clean, "other": other, "run": run}


def test_the_entity_page_shows_the_class_and_its_explanation_to_regulators(client, city_regulator, classified):
    client.force_login(city_regulator)
    html = client.get(f"/admin/enterprises/enterprise/{classified['punished'].pk}/change/").content.decode()
    assert "行政处罚 1 次（近 1 年）" in html and "+60" in html
    assert "信用风险分类指标模型 2026 版" in html
    # The panel is read-only: the entity form still saves.
    assert 'name="risk_result-TOTAL_FORMS"' in html or "risk_result" in html


def test_inspectors_and_reviewers_see_no_class_on_the_entity_page(client, classified):
    for role in (User.Role.INSPECTOR, User.Role.CREDIT_REVIEWER):
        user = UserFactory(role=role, region_code=YUCI)
        client.force_login(user)
        response = client.get(f"/admin/enterprises/enterprise/{classified['punished'].pk}/change/")
        assert response.status_code == 200
        assert "行政处罚 1 次（近 1 年）" not in response.content.decode()
        assert client.get("/admin/credit/riskresult/").status_code == 403


def test_the_dashboard_renders_the_distribution_and_the_trend_chart(client, city_regulator, classified):
    client.force_login(city_regulator)
    response = client.get("/admin/credit/snapshot/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "2026-10" in html and "2026-11" in html
    assert "榆次区" in html and "太谷区" in html
    assert client.get(f"/admin/credit/snapshot/?county={TAIGU}").status_code == 200


def test_a_county_regulator_sees_only_its_county(client, county_regulator, classified):
    client.force_login(county_regulator)
    dashboard = client.get("/admin/credit/snapshot/").content.decode()
    assert "榆次区" in dashboard and "太谷区" not in dashboard
    assert client.get(f"/admin/credit/snapshot/?county={TAIGU}").status_code == 404
    results = client.get("/admin/credit/riskresult/").content.decode()
    assert classified["punished"].uscc in results and classified["other"].uscc not in results
    assert client.get(f"/admin/credit/riskresult/{classified['other'].pk}/change/").status_code == 404
    run_page = client.get(f"/admin/credit/run/{classified['run'].pk}/change/").content.decode()
    assert "榆次区" in run_page and "太谷区" not in run_page
    changes = client.get("/admin/credit/classchange/").content.decode()
    assert classified["other"].uscc not in changes
    # Model versions: readable, not editable by a county.
    assert client.get(f"/admin/credit/modelversion/{live_version().pk}/change/").status_code == 200
    assert client.get("/admin/credit/modelversion/add/").status_code == 403


def test_the_run_page_compares_a_shadow_run_with_live_and_offers_adoption(client, city_regulator, classified):
    strict = copy.deepcopy(DEFAULT_SPEC)
    strict["bands"][0]["max"] = -40
    strict["bands"][1]["min"] = -40
    draft = services.model_version_create(actor=city_regulator, code="2026.9", name="试行版", spec=strict)
    shadow = services.reclassify(as_of=AS_OF, model_version=draft)
    client.force_login(city_regulator)
    html = client.get(f"/admin/credit/run/{shadow.pk}/change/").content.decode()
    assert "榆次区" in html and "太谷区" in html
    assert f"/admin/credit/modelversion/{draft.pk}/adopt/" in html
    # The migration matrix: the one A entity of the live run (score −30) moves to B under the stricter A band.
    assert shadow.counts["would_change"] == 1
    assert shadow.migration[YUCI]["A"] == {"B": 1}
    page = client.get(f"/admin/credit/modelversion/{draft.pk}/change/").content.decode()
    assert f"/admin/credit/run/{shadow.pk}/change/" in page
    response = client.post(f"/admin/credit/modelversion/{draft.pk}/adopt/")
    assert response.status_code == 302
    assert ModelVersion.objects.get(pk=draft.pk).status == "live"


def test_the_admin_rejects_a_bad_draft_with_the_reason(client, city_regulator):
    client.force_login(city_regulator)
    spec = copy.deepcopy(DEFAULT_SPEC)
    spec["indicators"][0].pop("weight")
    import json

    response = client.post(
        "/admin/credit/modelversion/add/",
        {"code": "bad", "name": "坏版本", "description": "", "spec": json.dumps(spec, ensure_ascii=False)},
    )
    assert response.status_code == 200
    assert "指标 young 缺少权重" in response.content.decode()
    assert not ModelVersion.objects.filter(code="bad").exists()
    response = client.post(
        "/admin/credit/modelversion/add/",
        {"code": "good", "name": "好版本", "description": "", "spec": json.dumps(DEFAULT_SPEC, ensure_ascii=False)},
    )
    assert response.status_code == 302
    assert ModelVersion.objects.get(code="good").status == "draft"


def test_a_live_version_page_is_read_only_with_a_supersede_button(client, city_regulator):
    client.force_login(city_regulator)
    version = live_version()
    html = client.get(f"/admin/credit/modelversion/{version.pk}/change/").content.decode()
    assert f"/admin/credit/modelversion/{version.pk}/supersede/" in html
    assert 'name="spec"' not in html
    response = client.post(f"/admin/credit/modelversion/{version.pk}/change/", {"name": "x", "spec": "{}"})
    assert response.status_code == 403
    response = client.post(f"/admin/credit/modelversion/{version.pk}/supersede/")
    draft = ModelVersion.objects.get(supersedes=version)
    assert response.url == f"/admin/credit/modelversion/{draft.pk}/change/"


def test_the_shadow_button_queues_a_run_on_commit(client, city_regulator, django_capture_on_commit_callbacks):
    from unittest import mock

    draft = services.model_version_create(actor=city_regulator, code="2026.3", name="试", spec=DEFAULT_SPEC)
    client.force_login(city_regulator)
    with mock.patch("credit.tasks.shadow_run.delay") as delay, django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/credit/modelversion/{draft.pk}/shadow/")
    assert response.status_code == 302
    delay.assert_called_once()
    assert delay.call_args.args[0] == draft.pk


# --- API --------------------------------------------------------------------------------------------------------


def test_the_regulators_api_gives_classes_with_their_explanation(api_client, city_regulator, classified):
    api_client.force_authenticate(city_regulator)
    listing = api_client.get("/api/v1/credit/classes/").json()
    assert listing["count"] == 3 if "count" in listing else len(listing["results"]) == 3
    detail = api_client.get(f"/api/v1/credit/classes/{classified['punished'].uscc.lower()}/").json()
    assert detail["risk_class"] == "C" and detail["model_version"] == "2026.2"
    assert sum(line["points"] for line in detail["lines"]) == detail["score"]
    assert "行政处罚 1 次（近 1 年） +60" in detail["explanation"]
    assert detail["as_of"] == "2026-11-22"
    only_c = api_client.get("/api/v1/credit/classes/?risk_class=C").json()["results"]
    assert {r["uscc"] for r in only_c} == {classified["punished"].uscc, classified["other"].uscc}
    history = api_client.get(f"/api/v1/credit/classes/{classified['punished'].uscc}/history/").json()
    assert [h["new_class"] for h in history] == ["C"]
    distribution = api_client.get("/api/v1/credit/distribution/").json()
    assert {row["region"]: row["counts"] for row in distribution}[YUCI] == {"A": 1, "B": 0, "C": 1, "D": 0}


def test_the_api_is_scoped_to_the_county(api_client, county_regulator, classified):
    api_client.force_authenticate(county_regulator)
    uscc = {r["uscc"] for r in api_client.get("/api/v1/credit/classes/").json()["results"]}
    assert uscc == {classified["punished"].uscc, classified["clean"].uscc}
    assert api_client.get(f"/api/v1/credit/classes/{classified['other'].uscc}/").status_code == 404
    assert [row["region"] for row in api_client.get("/api/v1/credit/distribution/").json()] == [YUCI]


def test_department_clients_and_enterprise_users_get_no_class(api_client, api_client_user, classified):
    enterprise_user = UserFactory(role=User.Role.ENTERPRISE, is_staff=False)
    for user in (api_client_user, enterprise_user):
        api_client.force_authenticate(user)
        for url in ("/api/v1/credit/classes/", f"/api/v1/credit/classes/{classified['punished'].uscc}/",
                    "/api/v1/credit/distribution/"):  # fmt: skip
            response = api_client.get(url)
            assert response.status_code == 403, (user.role, url)
            assert response.json()["error"]["message"] in ("该账户无权查看信用风险分类。", "该账户无权查询企业登记库。")
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/credit/classes/").status_code in (401, 403)
    # The registry API never carries the class either.
    api_client.force_authenticate(api_client_user)
    record = api_client.get(f"/api/v1/enterprises/{classified['punished'].uscc}/").json()
    assert "risk_class" not in record and "score" not in record


def test_the_api_schema_documents_the_credit_endpoints(api_client, city_regulator):
    api_client.force_authenticate(city_regulator)
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/v1/credit/classes/{uscc}/" in schema["paths"]
    assert not any(path.startswith("/api/v1/public/") and "credit" in path for path in schema["paths"])


def test_the_run_list_and_the_result_list_render(client, city_regulator, classified):
    client.force_login(city_regulator)
    for url in ("/admin/credit/run/", "/admin/credit/riskresult/", "/admin/credit/classchange/",
                "/admin/credit/modelversion/", f"/admin/credit/riskresult/{classified['punished'].pk}/change/",
                "/admin/credit/riskresult/?risk_class=C", f"/admin/credit/riskresult/?county={TAIGU}"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert Run.objects.filter(mode=Run.Mode.HISTORY).exists()
    assert Enterprise.objects.exclude(risk_class="").count() == 3


def test_the_entity_form_still_saves_with_the_panel_on_the_page(client, city_regulator, classified):
    from tests.enterprises.test_admin import _form_data

    enterprise = classified["punished"]
    client.force_login(city_regulator)
    assert (
        "行政处罚 1 次（近 1 年）"
        in client.get(f"/admin/enterprises/enterprise/{enterprise.pk}/change/").content.decode()
    )
    response = client.post(
        f"/admin/enterprises/enterprise/{enterprise.pk}/change/", _form_data(enterprise, name="新名称有限公司")
    )
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "新名称有限公司" and enterprise.risk_class == "C"  # the class is never a form field
