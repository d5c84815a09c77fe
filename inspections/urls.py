"""Public pages of the inspections app (under /inspections/)."""

from __future__ import annotations

from django.urls import path

from inspections import views

app_name = "inspections"
urlpatterns = [
    path("", views.plan_list, name="plan-list"),
    path("<int:pk>/", views.plan_detail, name="plan-detail"),
    path("<int:pk>/draws/<int:number>/verify/", views.draw_verification, name="draw-verify"),
]
