"""Admin of core: accounts and roles, departments, the audit trail, the outbox, the calendar, jobs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log, snapshot
from core.models import AuditEvent, CalendarYear, Department, Job, JobRun, OutboxMessage, User, WorkingDayOverride
from core.services import USER_AUDIT_FIELDS, user_sync_groups


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "get_full_name", "role", "region_code", "department", "is_active", "last_login"]
    list_filter = ["role", "region_code", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ("role", "region_code", "department", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Role and scope"), {"fields": ("role", "region_code", "department")}),
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # accounts are deactivated, never deleted: the audit trail points at them

    @transaction.atomic
    def save_model(self, request, obj, form, change) -> None:
        before = snapshot(User.objects.get(pk=obj.pk), USER_AUDIT_FIELDS) if change else None
        super().save_model(request, obj, form, change)
        user_sync_groups(user=obj)
        audit_log(
            actor=request.user,
            action="user.update" if change else "user.create",
            obj=obj,
            before=before,
            after=snapshot(obj, USER_AUDIT_FIELDS),
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region_code"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_repr", "source", "source_ip"]
    list_filter = ["action", "object_type", "source"]
    search_fields = ["=object_id", "object_repr", "actor_label"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["recipient", "subject"]


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "reason"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"

    @transaction.atomic
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit_log(actor=request.user, action="calendar.override", obj=obj, after=snapshot(obj))

    @transaction.atomic
    def delete_model(self, request, obj) -> None:
        audit_log(actor=request.user, action="calendar.override_delete", obj=obj, before=snapshot(obj))
        super().delete_model(request, obj)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source"]

    @transaction.atomic
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        audit_log(actor=request.user, action="calendar.confirm_year", obj=obj, after=snapshot(obj))


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "status", "created_by", "progress_done", "progress_total", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "name", "as_of", "status", "chunks_done", "counts", "finished_at", "source"]
    list_filter = ["name", "status"]
    readonly_fields = [f.name for f in JobRun._meta.fields]
