"""The regulators' credit API (internal: never under /api/v1/public/)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from credit import api

router = SimpleRouter()
router.register("credit/classes", api.RiskResultViewSet, basename="credit-class")

urlpatterns = [
    path("credit/distribution/", api.DistributionView.as_view(), name="credit-distribution"),
    *router.urls,
]
