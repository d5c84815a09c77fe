"""Admin plumbing shared by the domain apps: scoping, 404 for out-of-scope objects, fast counts, no deletes."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Uses PostgreSQL's planner estimate for the unfiltered count of a large table (an exact COUNT(*) over 10^6
    rows on every page load is the slowest part of a changelist); exact otherwise."""

    exact_below = 100_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if connection.vendor == "postgresql" and hasattr(qs, "query") and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
                )
                row = cursor.fetchone()
            estimate = int(row[0]) if row else -1
            if estimate >= self.exact_below:
                return estimate
        return super().count


class ScopedAdmin(admin.ModelAdmin):
    """A model admin whose rows are `visible_to(request.user)`; anything else is a 404, never a redirect that
    confirms the object exists. Regulated records are closed, never deleted."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        visible_to = getattr(qs, "visible_to", None)
        return visible_to(request.user) if visible_to is not None else qs

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
