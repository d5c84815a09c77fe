"""API of core: the working-day calculator."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.calendar import WorkingCalendar


class WorkingDaysQuery(serializers.Serializer):
    start = serializers.DateField(help_text="YYYY-MM-DD")
    add = serializers.IntegerField(min_value=-3660, max_value=3660, help_text="number of working days")


class WorkingDaysAnswer(serializers.Serializer):
    start = serializers.DateField()
    add = serializers.IntegerField()
    date = serializers.DateField()
    start_is_working_day = serializers.BooleanField()


class WorkingDaysView(APIView):
    """The date `add` Chinese working days after `start` (statutory holidays and make-up working days)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(parameters=[WorkingDaysQuery], responses=WorkingDaysAnswer)
    def get(self, request: Request) -> Response:
        query = WorkingDaysQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, add = query.validated_data["start"], query.validated_data["add"]
        calendar = WorkingCalendar.load()
        result = calendar.add_working_days(start, add)
        return Response(
            WorkingDaysAnswer(
                {"start": start, "add": add, "date": result, "start_is_working_day": calendar.is_working_day(start)}
            ).data
        )
