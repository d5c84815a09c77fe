"""Top-level URLs: public site, admin, REST API and its schema."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.views import healthz
from credit import views as credit_views

admin.site.site_header = "晋中市市场监督管理局 企业信用监管平台"
admin.site.site_title = "企业信用监管平台"
admin.site.index_title = "监管工作台"

api_v1 = [
    path("", include("core.api_urls")),
    path("", include("enterprises.api_urls")),
    path("", include("disclosure.api_urls")),
    path("", include("repair.api_urls")),
    path("", include("inspections.api_urls")),
    path("", include("credit.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("core.urls")),
    path("inspections/", include("inspections.urls")),
    # Printed in the QR code of every credit-check certificate (credit.certificates): short and stable.
    path("verify/<str:token>/", credit_views.verify, name="credit-verify"),
    path("portal/certificate/", credit_views.portal_certificate, name="portal-certificate"),
    path("portal/", include("repair.urls")),
    path("credit/", include("credit.urls")),
    # The public credit record (/e/<USCC>/) and the public lists are disclosure's; they come before the registry's.
    path("", include("disclosure.urls")),
    path("", include("enterprises.urls")),
]
