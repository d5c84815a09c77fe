"""Credit repair end to end in a real headless browser: the bureau issues an activation code in the admin, the
entity activates its account, files an application with PDF materials, a reviewer accepts and approves it in the
admin, the public record no longer shows the penalty, and the entity downloads the decision document."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from core.models import User
from repair.models import RepairApplication
from tests.conftest import PASSWORD
from tests.factories import EnterpriseFactory, UserFactory
from tests.repair.conftest import PDF, penalty_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 11, 20)
ENTERPRISE_PASSWORD = "Jinzhong-Portal-2026"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


def admin_login(page, base: str, user: User) -> None:
    page.goto(f"{base}/admin/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")


def test_an_enterprise_repairs_a_penalty_online(live_server, browser, tmp_path):
    from tests.factories import DepartmentFactory

    base = live_server.url
    firm = EnterpriseFactory(name="晋中恒泰商贸有限公司", contact_phone="13800000001")
    department = DepartmentFactory(code="amr-140702", name="晋中市榆次区市场监督管理局", region_code="140702")
    penalty = penalty_for(firm, department, decided=dt.date(2026, 3, 2), disclosed_from=dt.date(2026, 3, 3))
    reviewer = UserFactory(username="reviewer", role=User.Role.CREDIT_REVIEWER, region_code="140702")
    staff = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    entity = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    try:
        desk = staff.new_page()
        desk.set_default_timeout(15000)
        # 1. The bureau issues the activation code (shown once in the admin, sent to the registered contact).
        admin_login(desk, base, reviewer)
        desk.goto(f"{base}/admin/repair/accesscode/add/")
        desk.locator("#id_uscc").fill(firm.uscc)
        desk.locator("#id_purpose").select_option("activation")
        desk.locator("input[name=_save]").click()
        message = desk.locator(".messagelist").inner_text()
        code = re.search(r"验证码：([A-Z0-9]{4}-[A-Z0-9]{4})", message).group(1)

        # 2. The entity activates its account and logs in with its USCC.
        portal = entity.new_page()
        portal.set_default_timeout(15000)
        portal.goto(f"{base}/portal/activate/")
        portal.locator("#id_uscc").fill(firm.uscc)
        portal.locator("#id_code").fill(code)
        portal.locator("#id_password1").fill(ENTERPRISE_PASSWORD)
        portal.locator("#id_password2").fill(ENTERPRISE_PASSWORD)
        portal.locator("button[type=submit]").click()
        portal.wait_for_url(f"{base}/portal/login/")
        assert "账号已激活" in portal.locator(".messages").inner_text()
        portal.locator("#id_username").fill(firm.uscc)
        portal.locator("#id_password").fill(ENTERPRISE_PASSWORD)
        portal.locator("button[type=submit]").click()
        portal.wait_for_url(f"{base}/portal/")
        assert "信用修复不收取任何费用" in portal.locator(".free-banner").inner_text()

        # 3. It sees its penalty, may apply, and files the application with PDF materials.
        row = portal.locator("tr", has_text=penalty.decision_number)
        assert "可以申请" in row.inner_text()
        row.locator("a.button").click()
        portal.locator("#id_statement").fill("罚款已于2026年3月10日缴清，不合格产品已全部召回销毁。")
        portal.locator("#id_contact_name").fill("王经理")
        portal.locator("#id_contact_phone").fill("13900000002")
        for field, name in (
            ("application_form", "申请书.pdf"),
            ("credit_commitment", "守信承诺书.pdf"),
            ("proof_of_fulfilment", "缴款凭证.pdf"),
        ):
            portal.locator(f"#id_{field}").set_input_files({"name": name, "mimeType": "application/pdf", "buffer": PDF})
        portal.locator("button[type=submit]", has_text="提交申请").click()
        portal.wait_for_url(re.compile(r".*/portal/applications/\d+/$"))
        assert "已提交，待受理" in portal.locator(".app-status").inner_text()
        application = RepairApplication.objects.get(enterprise=firm)

        # 4. The reviewer accepts and approves it in the admin.
        desk.goto(f"{base}/admin/repair/repairapplication/{application.pk}/change/")
        desk.get_by_role("link", name="受理", exact=True).click()
        desk.locator("input[name=submit]").click()
        assert "已受理" in desk.locator(".messagelist").inner_text()
        desk.get_by_role("link", name="准予信用修复").click()
        desk.locator("#id_reason").fill("已履行行政处罚决定规定的义务，危害后果已消除。")
        desk.locator("input[name=submit]").click()
        assert "已准予信用修复" in desk.locator(".messagelist").inner_text()

        # 5. The public record no longer shows the penalty.
        public = entity.new_page()
        public.goto(f"{base}/e/{firm.uscc}/")
        assert penalty.decision_number not in public.content()

        # 6. The entity follows the decision and downloads the document.
        portal.reload()
        assert "准予修复" in portal.locator(".app-status").inner_text()
        with portal.expect_download() as download_info:
            portal.locator("a", has_text="信用修复决定书").click()
        path = Path(tmp_path) / "decision.pdf"
        download_info.value.save_as(path)
        assert path.read_bytes().startswith(b"%PDF-")
        if shutil.which("pdftotext"):
            text = "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())
            assert "信用修复决定书" in text and penalty.decision_number in text
    finally:
        staff.close()
        entity.close()
