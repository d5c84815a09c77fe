from rest_framework.routers import SimpleRouter

from inspections import api

router = SimpleRouter()
router.register("inspections/items", api.InspectionItemViewSet, basename="inspection-item")
router.register("inspections/inspectors", api.InspectorViewSet, basename="inspector")
router.register("inspections/plans", api.PlanViewSet, basename="inspection-plan")
router.register("inspections/tasks", api.TaskViewSet, basename="inspection-task")
router.register("inspections/results", api.ResultViewSet, basename="inspection-result")
router.register("inspections/case-leads", api.CaseLeadViewSet, basename="inspection-case-lead")
router.register("inspections/abnormal-proposals", api.AbnormalProposalViewSet, basename="inspection-abnormal-proposal")

urlpatterns = router.urls
