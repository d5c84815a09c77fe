"""The demo records of double-random inspections (`manage.py seed_demo`, step "inspections", after credit).

- 一单两库: item lists of the market-supervision bureau (食品、特种设备、产品质量、企业公示信息、广告) and of the health
  commission (公共场所卫生、生活饮用水); a roster in each of the 11 counties (warrants valid to 2028, one expired per
  county, a few declared conflicts); the demo account `inspector` (榆次区) is the first inspector of 榆次区.
- The 2026 plans: one per county of the market-supervision bureau over its county (default ratios A 1 %, B 2 %,
  C 10 %, D 30 %), and one city joint plan (一业一查) of both departments over the food-business key areas. Each is
  committed, drawn and revealed through the services (inspections.services.draws: the real snapshot, hashes and
  COPY of the tasks), dated back to the plan's start, and its drawn entities published.
- Results for most tasks (≈ 88 %), with outcomes drawn per risk class (problem found: A 2 %, B 7 %, C 15 %,
  D 22 % — about 14 % overall, seed 003: 14.2 %), ~3 % not reachable (each an abnormal-list proposal), a few refused
  or not operating; published within the 20 working days, except a few left overdue; a case lead per problem.

The plans' draws scale with the entities (a share of the population); everything else is bulk writes of the drawn
tasks, never a call per entity of the population. Deterministic in (population, seed, today): the seeds of the draws
come from the step's random stream, and every choice is made in task order.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.calendar import WorkingCalendar
from core.models import Department, User
from enterprises.demo import SeedContext, demo_step
from enterprises.models import Enterprise, KeyArea, Region
from inspections.models import (
    AbnormalProposal,
    CaseLead,
    Draw,
    InspectionItem,
    Inspector,
    InspectorConflict,
    Plan,
    Result,
    Task,
    TaskAssignment,
)
from inspections.services import draws

YEAR = 2026
SAMR = ("samr", "晋中市市场监督管理局", "140700")
HEALTH = ("health", "晋中市卫生健康委员会", "140700")
ITEMS = {
    "samr": [
        ("SC-SP-01", "食品生产经营者落实食品安全主体责任情况", "key", "《中华人民共和国食品安全法》第一百一十条"),
        ("SC-TZ-01", "特种设备使用单位安全管理情况", "key", "《中华人民共和国特种设备安全法》第五十七条"),
        ("SC-ZL-01", "生产领域产品质量监督抽查", "general", "《中华人民共和国产品质量法》第十五条"),
        ("SC-GS-01", "企业公示信息情况检查", "general", "《企业信息公示暂行条例》第十四条"),
        ("SC-GG-01", "广告发布行为检查", "general", "《中华人民共和国广告法》第四十九条"),
    ],
    "health": [
        ("WJ-GC-01", "公共场所卫生监督检查", "general", "《公共场所卫生管理条例》第十四条"),
        ("WJ-YS-01", "生活饮用水卫生监督检查", "general", "《中华人民共和国传染病防治法》第五十三条"),
    ],
}
COUNTY_ITEMS = ("SC-GS-01", "SC-ZL-01", "SC-TZ-01")
JOINT_ITEMS = ("SC-SP-01", "WJ-GC-01")
JOINT_AREAS = ("food_distribution", "catering")
SAMR_PER_COUNTY = 8
HEALTH_PER_COUNTY = 3
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
GIVEN = ("建国", "丽华", "志强", "晓燕", "海涛", "春梅", "卫东", "秀英", "文博", "雅琴", "国庆", "红霞")
# P(problem found) per class at draw: with the default ratios the sample is ~2 % A, 31 % B, 41 % C, 26 % D, so
# these give ~14 % overall (seed 003: 14.2 %), far higher for the higher-risk classes.
PROBLEM_RATE = {"A": 0.02, "B": 0.07, "C": 0.15, "D": 0.22, "": 0.08}
RECORDED_SHARE = 0.88
FINDINGS = (
    "未按规定公示年度报告中的从业人数信息，已责令限期改正。",
    "经营场所未悬挂营业执照，责令改正。",
    "进货查验记录不完整，责令限期整改。",
    "特种设备未按期检验，责令停止使用并限期整改。",
    "产品标识标注不规范，责令改正。",
)


def _name(rng, n: int) -> str:
    return rng.choice(SURNAMES) + GIVEN[n % len(GIVEN)]


def _items() -> dict[str, InspectionItem]:
    out: dict[str, InspectionItem] = {}
    for code, name, region in (SAMR, HEALTH):
        dept, _ = Department.objects.get_or_create(code=code, defaults={"name": name, "region_code": region})
        for item_code, item_name, kind, basis in ITEMS[code]:
            out[item_code], _ = InspectionItem.objects.get_or_create(
                code=item_code,
                defaults={"name": item_name, "department": dept, "kind": kind, "legal_basis": basis},
            )
    return out


def _roster(ctx: SeedContext, items: dict[str, InspectionItem], counties: list[Region]) -> int:
    rng = ctx.rng("inspections-roster")
    by_dept: dict[int, list[InspectionItem]] = {}
    for item in items.values():
        by_dept.setdefault(item.department_id, []).append(item)
    samr = Department.objects.get(code=SAMR[0])
    health = Department.objects.get(code=HEALTH[0])
    rows = []
    for county in counties:
        for dept, count, prefix in ((samr, SAMR_PER_COUNTY, "SJ"), (health, HEALTH_PER_COUNTY, "WJ")):
            for n in range(count):
                expired = dept == samr and n == count - 1  # one expired warrant per county: never drawn
                rows.append(
                    Inspector(
                        name=_name(rng, n),
                        department=dept,
                        region=county,
                        warrant_number=f"{prefix}{county.code}{n + 1:04d}",
                        warrant_expires_on=dt.date(YEAR - 1, 12, 31) if expired else dt.date(YEAR + 2, 12, 31),
                    )
                )
    inspectors = Inspector.objects.bulk_create(rows)
    through = Inspector.qualifications.through
    through.objects.bulk_create(
        [through(inspector_id=i.pk, inspectionitem_id=it.pk) for i in inspectors for it in by_dept[i.department_id]]
    )
    demo = User.objects.filter(username="inspector", role=User.Role.INSPECTOR).first()
    first = next((i for i in inspectors if i.region_id == "140702" and i.department_id == samr.pk), None)
    if demo is not None and first is not None and not Inspector.objects.filter(user=demo).exists():
        Inspector.objects.filter(pk=first.pk).update(user=demo, name="演示检查员")
    # A few declared conflicts (回避): an inspector's relative runs an entity of the same county.
    conflicts = []
    for county in counties:
        entity = Enterprise.objects.filter(region=county).order_by("id").values_list("id", flat=True).first()
        if entity is None:
            continue
        pool = [i for i in inspectors if i.region_id == county.code and i.department_id == samr.pk]
        conflicts.append(
            InspectorConflict(inspector=pool[0], enterprise_id=entity, reason="近亲属担任该主体法定代表人")
        )
    InspectorConflict.objects.bulk_create(conflicts)
    return len(inspectors)


def _plans(items: dict[str, InspectionItem], counties: list[Region], city: Region) -> list[Plan]:
    plans = []
    for n, county in enumerate(counties):
        start = dt.date(YEAR, 3, 2) + dt.timedelta(days=7 * (n % 4))
        plan = Plan(
            name=f"{YEAR}年度{county.name}市场监管领域“双随机、一公开”抽查计划",
            year=YEAR,
            region=county,
            planned_start=start,
            planned_end=dt.date(YEAR, 11, 30),
        )
        plan.full_clean()
        plan.save()
        plan.items.set([items[c] for c in COUNTY_ITEMS])
        plans.append(plan)
    joint = Plan(
        name=f"{YEAR}年度晋中市餐饮服务“一业一查”部门联合抽查计划",
        year=YEAR,
        region=city,
        planned_start=dt.date(YEAR, 4, 1),
        planned_end=dt.date(YEAR, 10, 31),
        ratio_a="2",
        ratio_b="3",
    )
    joint.full_clean()
    joint.save()
    joint.items.set([items[c] for c in JOINT_ITEMS])
    areas = list(KeyArea.objects.filter(code__in=JOINT_AREAS))
    if areas:
        joint.scope_key_areas.set(areas)
    plans.append(joint)
    return plans


def _draw(plan: Plan, seed: str) -> Draw | None:
    """Commit, draw, reveal and publish through the services; the seed comes from the demo's stream."""
    try:
        with transaction.atomic():
            draw = draws.draw_commit(actor=None, plan=plan)
            commitment = draws.algorithm.commitment_of(seed)
            Draw.objects.filter(pk=draw.pk).update(seed=seed, commitment=commitment)
            draw = draws.draw_execute(actor=None, draw=draw)
            drawn_at = dt.datetime.combine(plan.planned_start, dt.time(9, 30), tzinfo=timezone.get_current_timezone())
            # Dated back to the plan's start (the demo's history); not frozen-field changes of a made draw's result.
            Draw.objects.filter(pk=draw.pk).update(committed_at=drawn_at - dt.timedelta(days=3), revealed_at=drawn_at)
            Draw.objects.filter(pk=draw.pk).update(drawn_at=drawn_at)
            draws.plan_publish(actor=None, plan=plan, on=plan.planned_start)
    except draws.ApplicationError as exc:  # an empty scope on a tiny population: no draw for that plan
        audit_log(actor=None, action="demo.inspections.skip", obj=plan, note=str(exc))
        return None
    return draw


def _outcome(rng, cls: str) -> str:
    x = rng.random()
    p = PROBLEM_RATE.get(cls, PROBLEM_RATE[""])
    if x < p:
        return Result.Outcome.PROBLEM
    for outcome, share in (
        (Result.Outcome.NOT_REACHABLE, 0.03),
        (Result.Outcome.NOT_OPERATING, 0.01),
        (Result.Outcome.REFUSED, 0.004),
    ):
        p += share
        if x < p:
            return outcome
    return Result.Outcome.NO_PROBLEM


def _results(ctx: SeedContext, plan: Plan, draw: Draw, calendar: WorkingCalendar) -> dict[str, int]:
    """Results of most tasks, recorded by an assigned inspector between the draw and today, bulk-written."""
    rng = ctx.rng(f"inspections-results:{plan.name}")
    today = ctx.today
    first_day = plan.planned_start + dt.timedelta(days=7)
    # Inspected by 20 November at the latest: the 20-working-day deadline stays inside the year's official calendar.
    last_day = min(plan.planned_end, today - dt.timedelta(days=1), dt.date(YEAR, 11, 20))
    if last_day < first_day:
        return {}
    span = (last_day - first_day).days
    recorder = {}
    for task_id, inspector_id in (
        TaskAssignment.objects.filter(task__draw=draw).order_by("task_id", "department_id", "inspector_id")
    ).values_list("task_id", "inspector_id"):
        recorder.setdefault(task_id, inspector_id)
    rows: list[Result] = []
    done: list[int] = []
    for task_id, enterprise_id, cls in (
        Task.objects.filter(draw=draw).order_by("position").values_list("pk", "enterprise_id", "risk_class")
    ):
        if rng.random() >= RECORDED_SHARE:
            continue
        inspected = first_day + dt.timedelta(days=rng.randrange(span + 1))
        while not calendar.is_working_day(inspected):
            inspected += dt.timedelta(days=1)
        if inspected >= today:
            continue
        outcome = _outcome(rng, cls)
        due = calendar.add_working_days(inspected, Result.PUBLICATION_WORKING_DAYS)
        published = calendar.add_working_days(inspected, rng.randrange(3, Result.PUBLICATION_WORKING_DAYS + 1))
        if published > today or rng.random() < 0.02:
            published = None  # not yet published; past `due` it is flagged overdue
        rows.append(
            Result(
                task_id=task_id,
                plan=plan,
                enterprise_id=enterprise_id,
                inspected_on=inspected,
                outcome=outcome,
                problem_found=outcome == Result.Outcome.PROBLEM,
                details=rng.choice(FINDINGS) if outcome == Result.Outcome.PROBLEM else "",
                recorded_by_id=recorder[task_id],
                publication_due=due,
                published_on=published,
            )
        )
        done.append(task_id)
    results = Result.objects.bulk_create(rows, batch_size=2000)
    Task.objects.filter(pk__in=done).update(status=Task.Status.DONE, updated_at=timezone.now())
    CaseLead.objects.bulk_create(
        [
            CaseLead(result=r, enterprise_id=r.enterprise_id, summary=r.details)
            for r in results
            if r.outcome == Result.Outcome.PROBLEM
        ],
        batch_size=2000,
    )
    AbnormalProposal.objects.bulk_create(
        [
            AbnormalProposal(result=r, enterprise_id=r.enterprise_id)
            for r in results
            if r.outcome == Result.Outcome.NOT_REACHABLE
        ],
        batch_size=2000,
    )
    counts = {"results": len(results)}
    counts["problems"] = sum(1 for r in results if r.problem_found)
    counts["not_reachable"] = sum(1 for r in results if r.outcome == Result.Outcome.NOT_REACHABLE)
    counts["overdue"] = sum(1 for r in results if r.published_on is None and r.publication_due < today)
    return counts


@demo_step("inspections", order=950)
def load_inspections(ctx: SeedContext) -> None:
    """Item lists, rosters in every county, the 2026 plans drawn and published, results for most tasks."""
    if Plan.objects.exists() or Inspector.objects.filter(warrant_number__startswith="SJ").exists():
        return
    counties = list(Region.objects.filter(level=Region.Level.COUNTY).order_by("code"))
    city = Region.objects.filter(level=Region.Level.CITY).first()
    if not counties or city is None:
        return
    calendar = WorkingCalendar.load()
    rng = ctx.rng("inspections-seeds")
    with transaction.atomic():
        items = _items()
        inspectors = _roster(ctx, items, counties)
        plans = _plans(items, counties, city)
    totals = {"plans": len(plans), "inspectors": inspectors, "tasks": 0, "results": 0, "problems": 0,
              "not_reachable": 0, "overdue": 0}  # fmt: skip
    for plan in plans:
        draw = _draw(plan, f"{rng.getrandbits(256):064x}")
        if draw is None:
            continue
        totals["tasks"] += Task.objects.filter(draw=draw).count()
        with transaction.atomic():
            for key, value in _results(ctx, plan, draw, calendar).items():
                totals[key] += value
    rate = totals["problems"] / totals["results"] if totals["results"] else 0
    ctx.log(
        f"  inspections: {totals['plans']} plans, {totals['inspectors']} inspectors, {totals['tasks']:,} tasks, "
        f"{totals['results']:,} results ({rate:.1%} problems, {totals['not_reachable']} not reachable, "
        f"{totals['overdue']} overdue)"
    )
    ctx.summary.setdefault("counts", {}).update({f"inspection_{k}": v for k, v in totals.items()})
