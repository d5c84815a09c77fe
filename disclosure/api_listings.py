"""Staff API of the abnormal list and the serious list: read with filters, and every decision through
disclosure.services.listings. Regulators only (department systems and enterprise users: 403), scoped with
`visible_to` (another county's record: 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import User
from disclosure.filters import AbnormalListingFilter, SeriousListingFilter
from disclosure.models import AbnormalListing, Objection, SeriousListing
from disclosure.serializers_listings import (
    AbnormalListingSerializer,
    AbnormalListInputSerializer,
    AbnormalListResultSerializer,
    AbnormalRemoveInputSerializer,
    ObjectionActionInputSerializer,
    ObjectionFileInputSerializer,
    ObjectionSerializer,
    SeriousDecideInputSerializer,
    SeriousListingSerializer,
    SeriousNoticeInputSerializer,
    SeriousRemoveInputSerializer,
    SeriousStatementInputSerializer,
)
from disclosure.services import listings

Role = User.Role
# Who reads the lists, and who decides on them (county regulators: their county only, through visible_to).
READ_ROLES = frozenset({Role.CITY_REGULATOR, Role.COUNTY_REGULATOR, Role.CREDIT_REVIEWER})
DECIDE_ROLES = frozenset({Role.CITY_REGULATOR, Role.COUNTY_REGULATOR})


class IsListingOfficer(permissions.BasePermission):
    """Regulators read and decide; credit reviewers read; everyone else (department API clients, enterprise
    users, inspectors, clerks) is refused."""

    message = "该账户无权查询或办理经营异常名录、严重违法失信名单。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_superuser:
            return True
        roles = READ_ROLES if request.method in permissions.SAFE_METHODS else DECIDE_ROLES
        return user.role in roles


def _input(serializer_class, request: Request, **context):
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="List abnormal-list entries and marks", description="Scoped to the caller's county."),
    retrieve=extend_schema(summary="One abnormal-list entry", description="404 outside the caller's scope."),
)
class AbnormalListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The abnormal list (经营异常名录) and marks of individual businesses."""

    serializer_class = AbnormalListingSerializer
    filterset_class = AbnormalListingFilter
    permission_classes = [permissions.IsAuthenticated, IsListingOfficer]

    def get_queryset(self) -> QuerySet[AbnormalListing]:
        if getattr(self, "swagger_fake_view", False):
            return AbnormalListing.objects.none()
        return (
            AbnormalListing.objects.visible_to(self.request.user)
            .select_related("enterprise")
            .prefetch_related(Prefetch("objections", queryset=Objection.objects.order_by("filed_on", "id")))
        )

    def _respond(self, listing: AbnormalListing, *, code: int = status.HTTP_200_OK) -> Response:
        listing = self.get_queryset().get(pk=listing.pk)
        return Response(AbnormalListingSerializer(listing, context={"request": self.request}).data, status=code)

    @extend_schema(
        summary="List an entity (or mark an individual business)",
        request=AbnormalListInputSerializer,
        responses={201: AbnormalListResultSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _input(AbnormalListInputSerializer, request)
        listing = listings.abnormal_list(
            actor=request.user,
            enterprise=data["uscc"],
            reason=data["reason"],
            year=data["year"],
            cause_date=data["cause_date"],
            facts=data["facts"],
            decided_on=data["decided_on"],
            tolerance=data["tolerance"],
            correctable_slip=data["correctable_slip"],
        )
        fresh = self.get_queryset().get(pk=listing.pk)
        fresh.deadline_warning = getattr(listing, "deadline_warning", "")
        body = AbnormalListResultSerializer(fresh, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove an entry (or restore a marked individual business)",
        request=AbnormalRemoveInputSerializer,
        responses={200: AbnormalListingSerializer},
    )
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        data = _input(AbnormalRemoveInputSerializer, request)
        listings.abnormal_remove(
            actor=request.user, listing=listing, reason=data["reason"], on=data["on"], note=data["note"]
        )
        return self._respond(listing)

    @extend_schema(
        summary="Record an objection (异议) to an entry",
        request=ObjectionFileInputSerializer,
        responses={201: ObjectionSerializer},
    )
    @action(detail=True, methods=["post"], url_path="objections")
    def objections(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        data = _input(ObjectionFileInputSerializer, request)
        objection = listings.objection_file(
            actor=request.user, listing=listing, filed_on=data["filed_on"], statement=data["statement"]
        )
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Accept, refuse, uphold or dismiss an objection",
        operation_id="v1_abnormal_listings_objections_decide",
        request=ObjectionActionInputSerializer,
        responses={200: ObjectionSerializer},
        parameters=[OpenApiParameter("objection_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"objections/(?P<objection_id>[0-9]+)")
    def objection(self, request: Request, pk: str | None = None, objection_id: str | None = None) -> Response:
        listing = self.get_object()
        objection = get_object_or_404(Objection, pk=objection_id, listing=listing)
        data = _input(ObjectionActionInputSerializer, request)
        verb, reason, on = data["action"], data["reason"], data["on"]
        if verb == "accept":
            objection = listings.objection_accept(actor=request.user, objection=objection, on=on)
        elif verb == "refuse":
            objection = listings.objection_refuse(actor=request.user, objection=objection, reason=reason, on=on)
        else:
            objection = listings.objection_decide(
                actor=request.user, objection=objection, upheld=verb == "uphold", reason=reason, on=on
            )
        return Response(ObjectionSerializer(objection).data)


@extend_schema_view(
    list=extend_schema(
        summary="List serious-list procedures",
        description="Notices, listings, refusals and removals, including those hidden from the public record.",
    ),
    retrieve=extend_schema(summary="One serious-list procedure", description="404 outside the caller's scope."),
)
class SeriousListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The serious illegal and dishonest list (严重违法失信名单), from notice to removal."""

    serializer_class = SeriousListingSerializer
    filterset_class = SeriousListingFilter
    permission_classes = [permissions.IsAuthenticated, IsListingOfficer]

    def get_queryset(self) -> QuerySet[SeriousListing]:
        if getattr(self, "swagger_fake_view", False):
            return SeriousListing.objects.none()
        return (
            SeriousListing.objects.visible_to(self.request.user)
            .select_related("enterprise", "source_penalty", "source_abnormal")
            .prefetch_related("restrictions")
        )

    def _respond(self, listing: SeriousListing, *, code: int = status.HTTP_200_OK) -> Response:
        listing = self.get_queryset().get(pk=listing.pk)
        return Response(SeriousListingSerializer(listing, context={"request": self.request}).data, status=code)

    @extend_schema(
        summary="Serve a notice of intended listing (告知)",
        request=SeriousNoticeInputSerializer,
        responses={201: SeriousListingSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _input(SeriousNoticeInputSerializer, request)
        listing = listings.serious_notice(
            actor=request.user,
            enterprise=data["uscc"],
            ground=data["ground"],
            source_penalty=data["source_penalty"],
            source_abnormal=data["source_abnormal"],
            facts=data["facts"],
            noticed_on=data["noticed_on"],
            heavy_fine=data["heavy_fine"],
        )
        return self._respond(listing, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the party's statement or hearing request",
        request=SeriousStatementInputSerializer,
        responses={200: SeriousListingSerializer},
    )
    @action(detail=True, methods=["post"])
    def statement(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        data = _input(SeriousStatementInputSerializer, request)
        listings.serious_record_statement(
            actor=request.user,
            listing=listing,
            statement=data["statement"],
            hearing_requested=data["hearing_requested"],
        )
        return self._respond(listing)

    @extend_schema(
        summary="Decide: list for 3 years (with restrictions) or not",
        request=SeriousDecideInputSerializer,
        responses={200: SeriousListingSerializer},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        data = _input(SeriousDecideInputSerializer, request)
        listings.serious_decide(
            actor=request.user,
            listing=listing,
            list_it=data["list_it"],
            decided_on=data["decided_on"],
            reason=data["reason"],
        )
        return self._respond(listing)

    @extend_schema(
        summary="Remove a listed entity (expired, early by repair, or basis revoked)",
        request=SeriousRemoveInputSerializer,
        responses={200: SeriousListingSerializer},
    )
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        listing = self.get_object()
        data = _input(SeriousRemoveInputSerializer, request)
        listings.serious_remove(
            actor=request.user, listing=listing, kind=data["kind"], on=data["on"], note=data["note"]
        )
        return self._respond(listing)
