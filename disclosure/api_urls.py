"""REST API of disclosure: department penalty pushes, staff listings, the public credit record."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from disclosure import api_listings, api_penalties, api_public

router = SimpleRouter()
router.register("penalties", api_penalties.PenaltyViewSet, basename="penalty")
router.register("abnormal-listings", api_listings.AbnormalListingViewSet, basename="abnormal-listing")
router.register("serious-listings", api_listings.SeriousListingViewSet, basename="serious-listing")

urlpatterns = [
    path("public/enterprises/<str:uscc>/", api_public.PublicRecordView.as_view(), name="public-record"),
    *router.urls,
]
