"""`manage.py repair_issue_notices [--as-of YYYY-MM-DD]`

为每条公示中的行政处罚和列入记录出具信用修复告知书（两书同达）(repair.jobs).
"""

from __future__ import annotations

from repair.management.commands._repair_job import RepairJobCommand


class Command(RepairJobCommand):
    help = "Issue the credit-repair notice of every disclosed penalty and active listing that has none (两书同达)."
    job_name = "repair_issue_notices"
