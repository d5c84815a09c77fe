"""Penalty API: departments push their decisions (归集) and read them back; regulators read and withdraw.

- A department's system authenticates with its token (role api_client); the department is the token's, never a
  field of the body, and it sees only its own department's records.
- Regulators see the penalties of their scope (Penalty.objects.visible_to: a county regulator its county; 404
  outside it) and may withdraw them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import User
from disclosure.filters import PenaltyFilter
from disclosure.models import Penalty
from disclosure.serializers_penalties import PenaltyPushSerializer, PenaltySerializer, PenaltyWithdrawSerializer
from disclosure.services.penalties import penalty_record, penalty_withdraw

# Who reads penalties here: the regulators and credit reviewers of the bureau, and department systems (their own).
READER_ROLES = frozenset({User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR, User.Role.CREDIT_REVIEWER})
# Who withdraws: the pushing department's system, or a regulator whose scope covers the entity.
WITHDRAWER_ROLES = frozenset({User.Role.CITY_REGULATOR, User.Role.COUNTY_REGULATOR, User.Role.API_CLIENT})


def _is_department_client(user: User) -> bool:
    return user.role == User.Role.API_CLIENT and user.department_id is not None


def penalties_for_api(user: User) -> QuerySet[Penalty]:
    """The penalties `user` may read through the API: a department client its department's pushes (whatever the
    county), staff what Penalty.objects.visible_to allows; nobody else anything."""
    if user.role == User.Role.API_CLIENT:
        if user.department_id is None:
            return Penalty.objects.none()
        return Penalty.objects.filter(department_id=user.department_id)
    if user.is_superuser or user.role in READER_ROLES:
        return Penalty.objects.visible_to(user)
    return Penalty.objects.none()


class CanUsePenaltyApi(permissions.BasePermission):
    """Department clients and the bureau's regulators; other accounts get 403 (not an empty list)."""

    message = "该账户无权使用行政处罚接口。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_superuser or user.role in READER_ROLES or _is_department_client(user))


@extend_schema_view(
    list=extend_schema(
        summary="List penalties",
        description=(
            "A department client: its own department's pushes. A regulator: the penalties of its scope (a county "
            "regulator: its county). Newest decision first."
        ),
    ),
    retrieve=extend_schema(summary="One penalty", description="404 outside the caller's scope or department."),
)
class PenaltyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Administrative penalties with their disclosure."""

    serializer_class = PenaltySerializer
    filterset_class = PenaltyFilter
    permission_classes = [permissions.IsAuthenticated, CanUsePenaltyApi]

    def get_queryset(self) -> QuerySet[Penalty]:
        if getattr(self, "swagger_fake_view", False):
            return Penalty.objects.none()
        return penalties_for_api(self.request.user).select_related("enterprise", "department", "policy")

    @extend_schema(
        summary="Push a penalty decision (department systems)",
        description=(
            "Records a decision of the token's department, idempotent on department + decision number: the same "
            "content again answers 200 with the existing record; other content under the same number is a 409 "
            "naming the differing fields (never an overwrite). The answer says whether, from when to when and under "
            "which policy the penalty is disclosed. Summary-procedure and warning-only decisions are never disclosed."
        ),
        request=PenaltyPushSerializer,
        responses={
            201: OpenApiResponse(PenaltySerializer, description="Recorded."),
            200: OpenApiResponse(PenaltySerializer, description="Already recorded with the same content."),
            400: OpenApiResponse(description="Invalid input: {error: {code, message, fields}}."),
            403: OpenApiResponse(description="Not a department client."),
            409: OpenApiResponse(description="Same decision number, different content."),
        },
    )
    def create(self, request: Request) -> Response:
        user = request.user
        if not _is_department_client(user):
            raise PermissionDenied("只有部门接口账户可以报送行政处罚。")
        push = PenaltyPushSerializer(data=request.data)
        push.is_valid(raise_exception=True)
        penalty, created = penalty_record(actor=user, department=user.department, **push.validated_data)
        body = PenaltySerializer(penalty, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Withdraw a penalty (decision revoked or changed)",
        description=(
            "The pushing department, or a regulator in scope. The penalty leaves the public record at once; the "
            "record stays with who, when and why. Withdrawing twice is a 400."
        ),
        request=PenaltyWithdrawSerializer,
        responses={200: PenaltySerializer, 400: OpenApiResponse(description="Already withdrawn, or no reason.")},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        penalty = self.get_object()  # scoped: another department's or county's record is a 404
        if not (request.user.is_superuser or request.user.role in WITHDRAWER_ROLES):
            raise PermissionDenied("该账户无权撤回行政处罚。")
        form = PenaltyWithdrawSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        penalty = penalty_withdraw(actor=request.user, penalty=penalty, reason=form.validated_data["reason"])
        penalty = self.get_queryset().get(pk=penalty.pk)
        return Response(PenaltySerializer(penalty, context=self.get_serializer_context()).data)
