from rest_framework.routers import SimpleRouter

from inspections import api

router = SimpleRouter()
router.register("inspections/items", api.InspectionItemViewSet, basename="inspection-item")
router.register("inspections/inspectors", api.InspectorViewSet, basename="inspector")
router.register("inspections/plans", api.PlanViewSet, basename="inspection-plan")
router.register("inspections/tasks", api.TaskViewSet, basename="inspection-task")
router.register("inspections/results", api.ResultViewSet, basename="inspection-result")

urlpatterns = router.urls
