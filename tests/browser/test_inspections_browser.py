"""The public pages of double-random inspections in a real headless browser: the plan page before and after the draw,
and the verification page, genuine and after the stored draw was tampered with in the database."""

from __future__ import annotations

import zlib
from decimal import Decimal

import pytest
from django.utils.translation import gettext

from inspections.models import Draw, DrawSnapshot, Task
from inspections.services.draws import draw_commit, draw_execute, plan_publish
from tests.inspections.factories import InspectorFactory, ItemFactory, make_plan, make_population

# live_server serves from another thread: the data must be committed (the reference data: see conftest.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/inspection-verify.png"


@pytest.fixture
def plan():
    item = ItemFactory(name="企业公示信息抽查", legal_basis="《企业信息公示暂行条例》第十四条")
    for _ in range(6):
        InspectorFactory(items=[item])
    make_population({"A": 120, "B": 60, "C": 40, "D": 10, "": 20})
    return make_plan(items=[item], name="2026年度榆次区双随机抽查计划", ratio_c=Decimal("15"))


def _plan_url(live_server, plan) -> str:
    return f"{live_server.url}/inspections/{plan.pk}/"


def test_the_plan_page_shows_the_commitment_then_the_seed_and_the_drawn_entities(live_server, page, plan):
    draw = draw_commit(actor=None, plan=plan)
    response = page.goto(_plan_url(live_server, plan))
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "2026年度榆次区双随机抽查计划"
    assert "榆次区" in page.locator(".plan-scope").inner_text()
    items = page.locator(".item-table tbody tr")
    assert items.count() == 1
    assert "企业公示信息抽查" in items.first.inner_text()
    assert "《企业信息公示暂行条例》第十四条" in items.first.inner_text()
    assert page.locator(".ratio").all_inner_texts() == [
        "A：1%",
        "B：2%",
        "C：15%",
        "D：30%",
        f"{gettext('Not yet classified')}：2%",
    ]
    # Before the draw: the commitment is public, the seed is not.
    assert page.locator("#draw-1 .commitment").inner_text() == draw.commitment
    assert page.locator("#draw-1 .seed").inner_text() == gettext("Revealed after the draw")
    assert draw.seed not in page.content()
    assert page.locator(".drawn-entity").count() == 0
    assert page.locator(".verify-link").count() == 0

    draw = draw_execute(actor=None, draw=draw)
    plan_publish(actor=None, plan=plan)
    page.reload()
    assert page.locator("#draw-1 .seed").inner_text() == draw.seed
    assert page.locator("#draw-1 .commitment").inner_text() == draw.commitment
    assert page.locator("#draw-1 .snapshot-hash").inner_text() == draw.snapshot_hash
    assert page.locator("#draw-1 .algorithm").inner_text() == "jz-draw/1"
    tasks = list(Task.objects.filter(draw=draw).select_related("enterprise").order_by("position"))
    # 1 % of 120, 2 % of 60, 15 % of 40, 30 % of 10, 2 % of 20, each rounded half up: 1 + 1 + 6 + 3 + 0
    assert len(tasks) == 11
    rows = page.locator(".drawn-entity")
    assert rows.count() == len(tasks)
    assert tasks[0].enterprise.uscc in rows.first.inner_text()
    assert tasks[-1].enterprise.name in rows.last.inner_text()
    assert page.locator(".drawn-table thead th").count() == 4  # position, name, code, region: never the risk class


def test_the_verification_page_confirms_a_genuine_draw_and_fails_visibly_after_tampering(live_server, page, plan):
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    page.goto(_plan_url(live_server, plan))
    page.locator("#draw-1 .verify-link").click()
    page.wait_for_url(f"**/inspections/{plan.pk}/draws/1/verify/")
    assert page.locator(".verify-ok").is_visible()
    assert page.locator(".verify-failed").count() == 0
    checks = page.locator(".check")
    assert checks.count() >= 6
    assert page.locator(".check-failed").count() == 0
    assert draw.seed in page.content() and draw.result_hash in page.content()

    # A stored result changed behind the service's back (the first drawn entity moved to the end): loud failure.
    first = Task.objects.filter(draw=draw).order_by("position").first()
    Task.objects.filter(pk=first.pk).update(position=10_000)
    page.reload()
    failed = page.locator(".verify-failed")
    assert failed.is_visible()
    assert failed.get_attribute("role") == "alert"
    assert page.locator('.check-failed[data-check="tasks"]').count() == 1
    assert "不一致" in page.locator('.check-failed[data-check="tasks"]').inner_text()
    Task.objects.filter(pk=first.pk).update(position=first.position)
    page.reload()
    assert page.locator(".verify-ok").is_visible()

    # The stored result hash altered: the re-run no longer gives it.
    Draw.objects.filter(pk=draw.pk).update(result_hash="0" * 64)
    page.reload()
    assert page.locator(".verify-failed").is_visible()
    assert page.locator('.check-failed[data-check="result_hash"]').count() == 1
    Draw.objects.filter(pk=draw.pk).update(result_hash=draw.result_hash)

    # The frozen population snapshot edited (an entity's class changed): its hash no longer matches.
    snapshot = DrawSnapshot.objects.get(draw=draw)
    lines = zlib.decompress(bytes(snapshot.population)).decode().splitlines()
    eid, cls = lines[0].split(",")
    lines[0] = f"{eid},{'D' if cls != 'D' else 'A'}"
    DrawSnapshot.objects.filter(pk=snapshot.pk).update(population=zlib.compress(("\n".join(lines) + "\n").encode()))
    page.reload()
    assert page.locator(".verify-failed").is_visible()
    assert page.locator('.check-failed[data-check="snapshot"]').count() == 1
    assert "快照" in page.locator('.check-failed[data-check="snapshot"]').inner_text()
    page.screenshot(path=SCREENSHOT, full_page=True)
