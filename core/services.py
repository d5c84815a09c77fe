"""Services of core: user accounts and working-day overrides."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from core.audit import audit_log, snapshot
from core.errors import ApplicationError
from core.models import Department, User
from core.roles import STAFF_ROLES

USER_AUDIT_FIELDS = ("username", "role", "region_code", "department_id", "is_active", "is_staff")


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    role: str,
    password: str | None,
    region_code: str = "",
    department: Department | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create an account in a role, with its role group; staff roles get admin access."""
    if role not in User.Role.values:
        raise ApplicationError(f"未知角色：{role}", code="unknown_role")
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"用户名 {username} 已存在。", code="duplicate_username")
    user = User(
        username=username,
        role=role,
        region_code=region_code,
        department=department,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=role in STAFF_ROLES,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user_sync_groups(user=user)
    audit_log(actor=actor, action="user.create", obj=user, after=snapshot(user, USER_AUDIT_FIELDS))
    return user


def user_sync_groups(*, user: User) -> None:
    """Put the user in exactly the group of its role."""
    role_groups = Group.objects.filter(name__startswith="role:")
    user.groups.remove(*role_groups.exclude(name=f"role:{user.role}"))
    group, _ = Group.objects.get_or_create(name=f"role:{user.role}")
    user.groups.add(group)
