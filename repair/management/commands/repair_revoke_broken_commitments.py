"""`manage.py repair_revoke_broken_commitments [--as-of YYYY-MM-DD]`

撤销未按容缺受理承诺补交材料的信用修复 (nightly job, repair.jobs).
"""

from __future__ import annotations

from repair.management.commands._repair_job import RepairJobCommand


class Command(RepairJobCommand):
    help = "Revoke repairs whose 容缺 material did not arrive by its due day, restoring the record (nightly job)."
    job_name = "repair_revoke_broken_commitments"
