"""Public pages of the registry (search, entity page)."""

from __future__ import annotations

from django.urls import path

from enterprises import views

app_name = "enterprises"
urlpatterns = [
    path("", views.search, name="search"),
    path("e/<str:uscc>/", views.entity, name="entity"),
]
