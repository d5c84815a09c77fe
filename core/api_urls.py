from django.urls import path

from core.api_views import WorkingDaysView

urlpatterns = [
    path("calendar/working-days/", WorkingDaysView.as_view(), name="calendar-working-days"),
]
