"""`manage.py review_disclosure_policies [--as-of YYYY-MM-DD] [--chunk-size N]`

按从旧兼从轻原则复核公示期限 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job review_disclosure_policies for --as-of (default today) and print its run row."
    job_name = "review_disclosure_policies"
