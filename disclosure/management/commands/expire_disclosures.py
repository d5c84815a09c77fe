"""`manage.py expire_disclosures [--as-of YYYY-MM-DD] [--chunk-size N]`

停止公示期满的行政处罚信息 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job expire_disclosures for --as-of (default today) and print its run row."
    job_name = "expire_disclosures"
