"""The public credit record API: `GET /api/v1/public/enterprises/<USCC>/`, no login, throttled per address.

The same record as the public page /e/<USCC>/ (disclosure.selectors.public_record), as JSON.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.errors import ApplicationError
from disclosure import selectors
from disclosure.serializers_public import PublicRecordSerializer
from enterprises import identity
from enterprises.api import USCC_PATH
from enterprises.views import PUBLIC_MAX_AGE


class PublicAnonThrottle(AnonRateThrottle):
    """The anon rate of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read when a request comes in (DRF's own class
    reads it once at import), so a changed setting takes effect. Nobody is authenticated here: every caller is
    throttled per address."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


@method_decorator(cache_control(public=True, max_age=PUBLIC_MAX_AGE), name="get")
class PublicRecordView(APIView):
    """An entity's public credit record: registration facts, disclosed penalties, abnormal and serious listings,
    restrictions in force — what the public page shows, nothing internal."""

    # No authentication at all: a logged-in regulator gets exactly the public answer (and no CSRF/session work).
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PublicAnonThrottle]

    @extend_schema(
        summary="Public credit record of a market entity",
        parameters=[USCC_PATH],
        auth=[],
        responses={
            200: PublicRecordSerializer,
            400: OpenApiResponse(description='Malformed code: {"error": {"code": "invalid_uscc", …}}.'),
            404: OpenApiResponse(description="A valid code that is not in the registry."),
            429: OpenApiResponse(description="Too many requests from this address."),
        },
    )
    def get(self, request: Request, uscc: str) -> Response:
        try:
            enterprise = selectors.public_enterprise(uscc=uscc)
        except identity.InvalidUSCC as exc:
            raise ApplicationError(str(exc), code="invalid_uscc") from exc
        except selectors.UnknownEntity as exc:
            raise NotFound(str(exc)) from exc
        record = selectors.public_record(enterprise=enterprise, on=timezone.localdate())
        return Response(PublicRecordSerializer(record).data)
