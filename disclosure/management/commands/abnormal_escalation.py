"""`manage.py abnormal_escalation [--as-of YYYY-MM-DD] [--chunk-size N]`

经营异常名录届满三年：告知并列入严重违法失信名单 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job abnormal_escalation for --as-of (default today) and print its run row."
    job_name = "abnormal_escalation"
