"""Roles → Django groups with model permissions. The group of a role is kept in sync after every migrate.

Row-level scoping (which county) is not here: it is `visible_to(user)` on each domain queryset.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

ALL = ("view", "add", "change")  # never "delete": regulated records are closed, not deleted

# role -> {app_label: {model: actions}}; "*" means every model of that app.
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "city_regulator": {
        "core": {
            "workingdayoverride": ALL,
            "calendaryear": ALL,
            "auditevent": ("view",),
            "outboxmessage": ("view",),
            "job": ("view",),
            "department": ALL,
        },
        "enterprises": {"*": ALL},
        "disclosure": {"*": ALL},
        "inspections": {"*": ALL},
        "repair": {"*": ALL},
        "credit": {"*": ALL},
    },
    "county_regulator": {
        "core": {"auditevent": ("view",), "job": ("view",)},
        "enterprises": {"*": ALL},
        "disclosure": {"*": ALL},
        "inspections": {"*": ALL},
        "repair": {"*": ALL},
        "credit": {"*": ("view",)},
    },
    "inspector": {
        "enterprises": {"*": ("view",)},
        "inspections": {"*": ("view", "change")},
    },
    "credit_reviewer": {
        "enterprises": {"*": ("view",)},
        "disclosure": {"*": ("view",)},
        "repair": {"*": ALL},
    },
    "data_clerk": {
        "core": {"job": ("view", "add")},
        "enterprises": {"*": ALL},
    },
    # Another department's officer (procurement, funding …): their own credit checks only (credit.models
    # CreditCheckQuerySet.visible_to); nothing of the registry, the lists, inspections or repair. The check form
    # takes codes as text, so it needs no enterprise permission.
    "check_officer": {
        "credit": {"creditcheck": ("view", "add"), "checkline": ("view",), "certificateprint": ("view",)},
    },
    "api_client": {},
    "enterprise": {},
}

# The bureau's own staff: they read the registry (enterprises.api) with personal data unmasked.
BUREAU_ROLES = frozenset({"city_regulator", "county_regulator", "inspector", "credit_reviewer", "data_clerk"})
# Accounts with admin access (is_staff): the bureau's staff and other departments' credit-check officers.
STAFF_ROLES = BUREAU_ROLES | {"check_officer"}

# Capabilities: what a role may *do* beyond model permissions (a business action, not a table). County scoping of
# the action is still visible_to(user). Superusers have every capability; a capability needs a staff account.
CAPABILITIES: dict[str, frozenset[str]] = {
    # credit checks (信用核查) and their certificates (issue 7); a check officer sees only their own checks
    "credit.run_checks": frozenset({"city_regulator", "county_regulator", "check_officer"}),
    # the county statistics report, its detail export and the supervision dashboard (issue 7): regulators only
    "credit.view_reports": frozenset({"city_regulator", "county_regulator"}),
}


def has_capability(user: Any, capability: str) -> bool:
    """Whether `user` may perform `capability` (a key of CAPABILITIES; an unknown key is a programming error)."""
    roles = CAPABILITIES[capability]
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_superuser or (user.is_staff and getattr(user, "role", "") in roles))


def permission_query(role: str) -> Q | None:
    spec = ROLE_PERMISSIONS.get(role, {})
    query: Q | None = None
    for app_label, models in spec.items():
        for model, actions in models.items():
            q = Q(content_type__app_label=app_label, codename__regex=r"^(" + "|".join(actions) + r")_")
            if model != "*":
                q &= Q(content_type__model=model)
            query = q if query is None else query | q
    return query


def sync_role_groups(sender: Any = None, **kwargs: Any) -> None:
    """Create or update one group per role with exactly the permissions of ROLE_PERMISSIONS."""
    from django.contrib.auth.models import Group, Permission

    from core.models import User

    using = kwargs.get("using", "default")
    for role, _label in User.Role.choices:
        group, _ = Group.objects.using(using).get_or_create(name=f"role:{role}")
        query = permission_query(role)
        perms = Permission.objects.using(using).filter(query) if query is not None else Permission.objects.none()
        group.permissions.set(list(perms))
