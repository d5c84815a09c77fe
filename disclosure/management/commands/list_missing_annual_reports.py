"""`manage.py list_missing_annual_reports [--as-of YYYY-MM-DD] [--chunk-size N]`

(nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job list_missing_annual_reports for --as-of (default today) and print its run row."
    job_name = "list_missing_annual_reports"
