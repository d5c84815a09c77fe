"""The class is internal (DESIGN.md §3.5): for a whole seeded population, no public page, public API answer or list
shows it, its score, its explanation or the model; enterprise users and department systems get none of it.

(Certificates, the other public output the issue names, do not exist yet — the credit-check issue builds them; its
tests must extend this one.)
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import User
from credit.models import RiskResult
from credit.selectors import explanation_of
from enterprises.models import Enterprise
from tests.factories import UserFactory

DEMO_TODAY = dt.date(2026, 11, 22)
# Words that only the classification uses (风险 "risk", 分类 "classification", 评分 "score", the model's name).
FORBIDDEN = re.compile(r"risk|风险|分类|评分|score|信用风险分类指标模型|硬性规则|合计 -?\d+ 分", re.I)


def _explanations(result: RiskResult) -> list[str]:
    explanation = explanation_of(result)
    return [f"{line.text} {line.signed}" for line in explanation.lines] + [explanation.text]


def _check(html: str, secrets: list[str], where: str) -> None:
    assert not FORBIDDEN.search(html), (where, FORBIDDEN.search(html).group(0))
    leaked = [s for s in secrets if s in html]
    assert not leaked, (where, leaked[:3])


@pytest.mark.slow
@pytest.mark.django_db
def test_no_public_page_or_answer_of_a_seeded_population_shows_the_class(client, monkeypatch):
    from disclosure.api_public import PublicRecordView

    monkeypatch.setattr(PublicRecordView, "throttle_classes", [])
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: DEMO_TODAY)
    call_command("seed_demo", enterprises=1500, seed=2026, today=DEMO_TODAY, stdout=io.StringIO())
    results = {r.enterprise_id: r for r in RiskResult.objects.select_related("model_version", "enterprise")}
    entities = list(Enterprise.objects.order_by("id"))
    # The population is classified, every class occurs, and most results have an explanation to leak.
    assert len(results) == len(entities) == 1500
    assert {e.risk_class for e in entities} == {"A", "B", "C", "D"}
    assert sum(1 for r in results.values() if r.contributions) > 1000

    for enterprise in entities:
        result = results[enterprise.pk]
        secrets = _explanations(result)
        page = client.get(f"/e/{enterprise.uscc}/")
        assert page.status_code == 200
        _check(page.content.decode(), secrets, enterprise.uscc)
        api = client.get(f"/api/v1/public/enterprises/{enterprise.uscc}/")
        assert api.status_code == 200
        payload = api.json()
        text = json.dumps(payload, ensure_ascii=False)
        _check(text, secrets, f"api {enterprise.uscc}")
        assert not {"risk_class", "risk_classified_at", "score", "contributions"} & _keys(payload)

    for url in ("/", "/?q=晋中", "/?q=榆次", "/abnormal/", "/serious/", "/abnormal/?page=2", "/serious/?q=有限"):
        response = client.get(url)
        assert response.status_code == 200, url
        _check(response.content.decode(), [], url)


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.django_db
def test_an_enterprise_user_sees_no_class_anywhere(client, api_client):
    from credit import services
    from tests.credit.helpers import AS_OF, clean_entity

    enterprise = clean_entity()
    services.reclassify(as_of=AS_OF)
    assert Enterprise.objects.get(pk=enterprise.pk).risk_class == "A"
    owner = UserFactory(role=User.Role.ENTERPRISE, is_staff=False)
    client.force_login(owner)
    assert client.get("/admin/credit/snapshot/").status_code == 302  # not staff: the admin login
    page = client.get(f"/e/{enterprise.uscc}/").content.decode()
    _check(page, _explanations(RiskResult.objects.get(enterprise=enterprise)), "owner")
    api_client.force_authenticate(owner)
    assert api_client.get(f"/api/v1/credit/classes/{enterprise.uscc}/").status_code == 403
