"""The enterprise portal (/portal/): accounts, records, applications, files."""

from __future__ import annotations

from django.urls import path

from repair import views

app_name = "repair"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("activate/", views.activate, name="activate"),
    path("password/reset/", views.reset_request, name="reset-request"),
    path("password/reset/confirm/", views.reset_confirm, name="reset-confirm"),
    path("password/change/", views.password_change, name="password-change"),
    path("apply/<str:target_type>/<int:pk>/", views.apply, name="apply"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/supply/", views.supply, name="supply"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<int:pk>/materials/<int:material_pk>/", views.material_download, name="material"),
    path("applications/<int:pk>/documents/<int:document_pk>/", views.document_download, name="document"),
]
