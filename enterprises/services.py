"""Business writes on the registry: every change is validated, audited and kept (former names, change records)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log, diff, snapshot
from core.errors import ApplicationError
from core.models import User
from enterprises.models import Enterprise, RegistrationChange

# The fields whose change is a registered change (变更登记) kept as its own record, for risk indicators.
TRACKED_CHANGES = {
    "name": RegistrationChange.Field.NAME,
    "legal_representative": RegistrationChange.Field.LEGAL_REPRESENTATIVE,
    "address": RegistrationChange.Field.ADDRESS,
    "registered_capital": RegistrationChange.Field.CAPITAL,
    "industry_code": RegistrationChange.Field.INDUSTRY,
    "status": RegistrationChange.Field.STATUS,
}
AUDIT_FIELDS = [
    "uscc", "entity_type", "name", "former_names", "registration_number", "legal_representative",
    "legal_representative_id_number", "address", "region_id", "industry_id", "industry_code", "registered_capital",
    "registration_date", "status", "contact_phone", "contact_email",
]  # fmt: skip


def _check_region_allowed(actor: User | None, region_id: str) -> None:
    if actor is not None and not actor.is_city_wide and actor.region_code != region_id:
        raise ApplicationError("您只能登记或修改本辖区的经营主体。", code="out_of_scope")


@transaction.atomic
def enterprise_create(*, actor: User | None, **fields: Any) -> Enterprise:
    """Register a market entity (validated; the entity type comes from the USCC)."""
    key_areas = fields.pop("key_areas", None)
    enterprise = Enterprise(**fields)
    enterprise.full_clean()
    _check_region_allowed(actor, enterprise.region_id)
    enterprise.save()
    if key_areas is not None:
        enterprise.key_areas.set(key_areas)
    audit_log(actor=actor, action="enterprise.create", obj=enterprise, after=snapshot(enterprise, AUDIT_FIELDS))
    return enterprise


@transaction.atomic
def enterprise_update(
    *, actor: User | None, enterprise: Enterprise, data: dict[str, Any], changed_on=None
) -> Enterprise:
    """Change registry facts; a name change keeps the old name among the former names; every change is audited."""
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = snapshot(locked, AUDIT_FIELDS)
    key_areas = data.pop("key_areas", None)
    if "uscc" in data and data["uscc"] != locked.uscc:
        raise ApplicationError("统一社会信用代码不可更改。", code="uscc_immutable")
    for name, value in data.items():
        setattr(locked, name, value)
    if locked.name != before["name"] and before["name"] not in locked.former_names:
        locked.former_names = [*locked.former_names, before["name"]]
    locked.full_clean()
    _check_region_allowed(actor, locked.region_id)
    if before["region_id"] != locked.region_id:
        _check_region_allowed(actor, before["region_id"])
    locked.save()
    if key_areas is not None:
        locked.key_areas.set(key_areas)
    after = snapshot(locked, AUDIT_FIELDS)
    old, new = diff(before, after)
    if old or new:
        day = changed_on or timezone.localdate()
        RegistrationChange.objects.bulk_create(
            RegistrationChange(
                enterprise=locked,
                field=TRACKED_CHANGES[name],
                old_value=str(old[name] or "")[:255],
                new_value=str(new[name] or "")[:255],
                changed_on=day,
            )
            for name in new
            if name in TRACKED_CHANGES
        )
        audit_log(actor=actor, action="enterprise.update", obj=locked, before=old, after=new)
    enterprise.refresh_from_db()
    return locked
