"""`manage.py expire_restrictions [--as-of YYYY-MM-DD] [--chunk-size N]`

限制措施期满解除 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job expire_restrictions for --as-of (default today) and print its run row."
    job_name = "expire_restrictions"
