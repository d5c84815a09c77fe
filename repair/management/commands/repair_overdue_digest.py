"""`manage.py repair_overdue_digest [--as-of YYYY-MM-DD]`

信用修复申请超期提醒：向各办理机关的监管人员发送超期申请清单 (repair.jobs).
"""

from __future__ import annotations

from repair.management.commands._repair_job import RepairJobCommand


class Command(RepairJobCommand):
    help = "E-mail each office's regulators the repair applications past their due day (daily job)."
    job_name = "repair_overdue_digest"
