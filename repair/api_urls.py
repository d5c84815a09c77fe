"""REST API of repair: /api/v1/repair/…"""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from repair import api

router = SimpleRouter()
router.register("repair/applications", api.RepairApplicationViewSet, basename="repair-application")

urlpatterns = [
    path("repair/eligibility/", api.EligibilityView.as_view(), name="repair-eligibility"),
    *router.urls,
]
