"""`manage.py expire_serious_listings [--as-of YYYY-MM-DD] [--chunk-size N]`

严重违法失信名单满三年自动移出 (nightly job, disclosure.jobs).
"""

from __future__ import annotations

from disclosure.management.commands._nightly import JobCommand


class Command(JobCommand):
    help = "Run the nightly job expire_serious_listings for --as-of (default today) and print its run row."
    job_name = "expire_serious_listings"
