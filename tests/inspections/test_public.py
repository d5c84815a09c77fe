"""Public pages: the plan page (commitment before, seed after, drawn entities once published, no risk class),
the verification page, `verify_draw`, and published results on the entity's public record."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from inspections.models import Task
from inspections.services.draws import draw_commit, draw_execute, plan_publish
from inspections.services.results import result_publish, result_record
from tests.inspections.factories import inspector_user, make_plan, make_population

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(item, roster):
    make_population({"A": 100, "C": 30, "D": 10})
    return make_plan(items=[item])


def test_the_plan_page_shows_the_commitment_before_and_the_seed_after(client, plan):
    url = reverse("inspections:plan-detail", args=[plan.pk])
    assert client.get(url).status_code == 404  # a draft plan is not public
    draw = draw_commit(actor=None, plan=plan)
    page = client.get(url).content.decode()
    assert draw.commitment in page and draw.seed not in page
    draw_execute(actor=None, draw=draw)
    page = client.get(url).content.decode()
    assert draw.seed in page and draw.commitment in page
    assert "drawn-entity" not in page  # not published yet
    plan_publish(actor=None, plan=plan)
    page = client.get(url).content.decode()
    task = Task.objects.filter(draw=draw).select_related("enterprise").first()
    assert task.enterprise.uscc in page and "drawn-entity" in page
    assert client.get(reverse("inspections:plan-list")).status_code == 200


def test_the_verification_page_and_command(client, plan):
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    page = client.get(reverse("inspections:draw-verify", args=[plan.pk, draw.number])).content.decode()
    assert "verify-ok" in page
    call_command("verify_draw", str(plan.pk))
    Task.objects.filter(draw=draw, position=0).update(position=9999)
    page = client.get(reverse("inspections:draw-verify", args=[plan.pk, draw.number])).content.decode()
    assert "verify-failed" in page
    with pytest.raises(CommandError, match="验证失败"):
        call_command("verify_draw", str(plan.pk))
    with pytest.raises(CommandError, match="不存在"):
        call_command("verify_draw", "999999")


def test_published_results_appear_on_the_public_record(client, plan, city_regulator):
    draw = draw_execute(actor=None, draw=draw_commit(actor=None, plan=plan))
    task = Task.objects.filter(draw=draw).select_related("enterprise").first()
    user = inspector_user(task.assignments.first().inspector)
    result = result_record(actor=user, task=task, outcome="no_problem", inspected_on=timezone.localdate())
    url = reverse("disclosure:entity", args=[task.enterprise.uscc])
    assert "inspection-result" not in client.get(url).content.decode()
    result_publish(actor=city_regulator, result=result)
    page = client.get(url).content.decode()
    assert "inspection-result" in page and plan.name in page
