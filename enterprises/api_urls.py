from rest_framework.routers import SimpleRouter

from enterprises import api

router = SimpleRouter()
router.register("enterprises", api.EnterpriseViewSet, basename="enterprise")
router.register("regions", api.RegionViewSet, basename="region")
router.register("industries", api.IndustryViewSet, basename="industry")
router.register("annual-reports", api.AnnualReportViewSet, basename="annual-report")

urlpatterns = router.urls
