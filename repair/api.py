"""REST API of credit repair. An entity's account files and follows its own applications; staff of the
responsible office read their queue and act on it — every write through repair.services, the same rules as the
portal and the admin. Another entity's (or office's) application is a 404."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from repair import selectors
from repair.filters import RepairApplicationFilter
from repair.models import RepairApplication
from repair.serializers import (
    ApplicationInputSerializer,
    EligibilitySerializer,
    OptionalReasonInputSerializer,
    ReasonInputSerializer,
    RepairApplicationDetailSerializer,
    RepairApplicationSerializer,
    RequestMaterialsInputSerializer,
    SupplyInputSerializer,
)
from repair.services import applications as services
from repair.services.applications import Upload

MATERIAL_FIELDS = ("application_form", "credit_commitment", "proof_of_fulfilment", "other")


class IsEnterprise(permissions.BasePermission):
    message = "仅经营主体账号可以办理此操作。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(
            request.user and request.user.is_authenticated and getattr(request.user, "enterprise_account", None)
        )


class CanReadApplications(permissions.BasePermission):
    """Entity accounts (their own) and staff allowed to view repair applications (their office's)."""

    message = "该账户无权查询信用修复申请。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(getattr(user, "enterprise_account", None)) or user.has_perm("repair.view_repairapplication")


class RepairApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Repair applications: an entity's own, or the staff queue of the user's office (earliest due first)."""

    permission_classes = [CanReadApplications]
    filterset_class = RepairApplicationFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.applications_for(self.request.user).select_related("enterprise").order_by("due_on", "-id")

    def get_serializer_class(self):
        return RepairApplicationDetailSerializer if self.action != "list" else RepairApplicationSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _detail(self, application: RepairApplication, code: int = status.HTTP_200_OK) -> Response:
        application = self.get_queryset().get(pk=application.pk)
        return Response(
            RepairApplicationDetailSerializer(application, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=ApplicationInputSerializer, responses={201: RepairApplicationDetailSerializer})
    def create(self, request: Request) -> Response:
        """File an application (multipart, the entity's own account only)."""
        if not IsEnterprise().has_permission(request, self):
            self.permission_denied(request, message=IsEnterprise.message)
        data = ApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        application = services.application_submit(
            actor=request.user,
            enterprise=request.user.enterprise_account.enterprise,
            target_type=values["target_type"],
            target_id=values["target_id"],
            statement=values["statement"],
            contact_name=values["contact_name"],
            contact_phone=values["contact_phone"],
            uploads=[Upload(kind, values[kind]) for kind in MATERIAL_FIELDS if values.get(kind)],
            tolerance=values["tolerance"],
            submission_key=values.get("submission_key"),
        )
        return self._detail(application, status.HTTP_201_CREATED)

    @extend_schema(request=SupplyInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def materials(self, request: Request, pk: str | None = None) -> Response:
        data = SupplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_supply_materials(
            actor=request.user,
            application=self.get_object(),
            uploads=[Upload(data.validated_data["kind"], data.validated_data["file"])],
            note=data.validated_data["note"],
        )
        return self._detail(application)

    @extend_schema(request=OptionalReasonInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """The applicant withdraws an application still being handled."""
        return self._act(request, OptionalReasonInputSerializer, services.application_withdraw, reason="reason")

    def _act(self, request: Request, serializer_class: type, service, **arguments: str) -> Response:
        """Validate the input, call the review service on the (visible) application, answer its new state.
        `arguments` maps the service's keyword to the input field."""
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = {keyword: data.validated_data[field] for keyword, field in arguments.items()}
        return self._detail(service(actor=request.user, application=self.get_object(), **values))

    @extend_schema(request=OptionalReasonInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept (受理) a submitted application."""
        return self._act(request, OptionalReasonInputSerializer, services.application_accept, note="reason")

    @extend_schema(request=ReasonInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        """Refuse to accept (不予受理), with the reason."""
        return self._act(request, ReasonInputSerializer, services.application_refuse, reason="reason")

    @extend_schema(request=RequestMaterialsInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-materials")
    def request_materials(self, request: Request, pk: str | None = None) -> Response:
        """Ask the applicant for more material, all at once."""
        return self._act(
            request, RequestMaterialsInputSerializer, services.application_request_materials, requested="requested"
        )

    @extend_schema(request=OptionalReasonInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve the repair: the disclosure or listing ends in the same transaction."""
        return self._act(request, OptionalReasonInputSerializer, services.application_approve, reason="reason")

    @extend_schema(request=ReasonInputSerializer, responses=RepairApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the repair (不予修复), with the reason."""
        return self._act(request, ReasonInputSerializer, services.application_reject, reason="reason")


class EligibilityView(APIView):
    """The entity's current records and, for each, whether it may apply now, why not and from when."""

    permission_classes = [IsEnterprise]

    @extend_schema(responses=EligibilitySerializer(many=True))
    def get(self, request: Request) -> Response:
        records = selectors.repairable_records(request.user.enterprise_account.enterprise)
        return Response(EligibilitySerializer(records, many=True).data)
