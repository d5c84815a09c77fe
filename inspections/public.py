"""What the public sees of inspections: the results section of an entity's public record (一公开)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext

from disclosure.selectors import PublicSection
from enterprises.models import Enterprise
from inspections.selectors import published_results


def inspection_section(enterprise: Enterprise, on: dt.date) -> PublicSection | None:
    """Published spot-check results of the entity as of `on` (one query); no section when there are none."""
    rows = list(published_results(enterprise_ids=[enterprise.pk]).filter(published_on__lte=on))
    if not rows:
        return None
    return PublicSection(
        key="inspections",
        title=gettext("Spot-check results"),
        records=rows,
        template="inspections/public/_results.html",
    )
