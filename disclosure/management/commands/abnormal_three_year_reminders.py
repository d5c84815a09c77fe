"""`manage.py abnormal_three_year_reminders [--as-of YYYY-MM-DD] [--chunk-size N]`

经营异常名录届满三年前 60 日提醒 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job abnormal_three_year_reminders for --as-of (default today) and print its run row."
    job_name = "abnormal_three_year_reminders"
