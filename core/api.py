"""API plumbing shared by every app: pagination and the one exception handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.utils.functional import cached_property
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, ConflictError, NotPermitted


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows of a filtered list (an exact COUNT of a county's 10^5–10^6 rows costs up to a
    second); an unfiltered table uses the planner's estimate. `count_is_exact` tells the client which it got."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query"):
            self.count_is_exact = True
            return len(qs)
        capped = qs.order_by()[: self.cap + 1].count()
        self.count_is_exact = capped <= self.cap
        if not self.count_is_exact and connection.vendor == "postgresql" and not qs.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > capped:
                return int(row[0])
        return capped


class Pagination(PageNumberPagination):
    """Page-number pagination whose count is exact up to 10,000 rows and a lower bound (or an estimate) above."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": getattr(self.page.paginator, "count_is_exact", True),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_exact"] = {"type": "boolean", "example": True}
        return schema


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Maps ApplicationError and Django's ValidationError to structured 400/403/409 answers; DRF's own otherwise.

    Body: {"error": {"code": …, "message": …, "fields"?: {…}, …extra}}.
    """
    if isinstance(exc, ApplicationError):
        code = (
            status.HTTP_409_CONFLICT
            if isinstance(exc, ConflictError)
            else status.HTTP_403_FORBIDDEN
            if isinstance(exc, NotPermitted)
            else status.HTTP_400_BAD_REQUEST
        )
        return Response({"error": {"code": exc.code, "message": exc.message, **exc.extra}}, status=code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": {"code": "invalid", "message": "请求数据有误。", "fields": response.data}}
    elif isinstance(exc, exceptions.APIException):
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {
            "error": {"code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error", "message": str(detail)}
        }
    return response
