"""Registry API (filled by the API work)."""

from rest_framework import viewsets

from enterprises.models import AnnualReport, Enterprise, Industry, Region


class EnterpriseViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Enterprise.objects.none()


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.none()


class IndustryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Industry.objects.none()


class AnnualReportViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AnnualReport.objects.none()
