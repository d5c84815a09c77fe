"""URLs of the credit app under /credit/ (the verification page is at the site root: /verify/<token>/, in
config.urls, because it is printed on every certificate and must stay short)."""

from __future__ import annotations

from django.urls import path

from credit import views

app_name = "credit"
urlpatterns = [
    path("redlist/", views.red_list, name="red-list"),
]
