"""County scoping: the one rule every `visible_to(user)` applies (DESIGN.md §4, issue 2).

A city-wide role sees the whole city; a county role sees the records of its own county (`user.region_code`); an
anonymous user, or an account without a region, sees nothing (fail closed). Each queryset names the column that
holds the record's county (`region_id` of an entity, `enterprise__region_id` of a record hanging off an entity, …)
and calls `scoped()`; the rule itself lives only here.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import QuerySet

Q_ = TypeVar("Q_", bound=QuerySet)


def scoped(queryset: Q_, user, *, region_field: str = "region_id") -> Q_:
    """`queryset` narrowed to what `user` may see, the record's county read from `region_field`."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_city_wide:
        return queryset
    if not user.region_code:
        return queryset.none()
    return queryset.filter(**{region_field: user.region_code})
