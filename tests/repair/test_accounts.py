"""Enterprise accounts: the bureau issues a one-time code (shown once, sent through the outbox, stored hashed), the
entity activates its account and resets its password; wrong, used and expired codes are refused, guessing kills the
code, and the answers never tell who is registered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditEvent, OutboxMessage, User
from repair.models import AccessCode, EnterpriseAccount
from repair.services import accounts

pytestmark = pytest.mark.django_db
PASSWORD = "Jinzhong-Repair-2026"


def issue(firm, reviewer, purpose=AccessCode.Purpose.ACTIVATION) -> str:
    _access, code = accounts.access_code_issue(actor=reviewer, enterprise=firm, purpose=purpose)
    return code


def test_an_activation_code_is_sent_to_the_registered_contact_and_stored_only_as_a_hash(firm, reviewer):
    access, code = accounts.access_code_issue(actor=reviewer, enterprise=firm, purpose=AccessCode.Purpose.ACTIVATION)
    assert len(accounts.normalise_code(code)) == 8
    message = OutboxMessage.objects.get(related_type="repair.accesscode", related_id=str(access.pk))
    assert message.channel == "sms" and message.recipient == firm.contact_phone
    assert code in message.body
    assert accounts.normalise_code(code) not in access.code_hash
    event = AuditEvent.objects.get(action="repair.access_code.activation")
    assert code not in str(event.after) and accounts.normalise_code(code) not in str(event.after)


def test_it_activates_the_account_with_the_code(firm, reviewer):
    code = issue(firm, reviewer)
    user = accounts.account_activate(uscc=firm.uscc.lower(), code=code.lower().replace("-", ""), password=PASSWORD)
    assert user.username == firm.uscc
    assert user.role == User.Role.ENTERPRISE and not user.is_staff
    assert EnterpriseAccount.objects.get(user=user).enterprise == firm
    assert User.objects.get(username=firm.uscc).check_password(PASSWORD)


def test_a_used_code_cannot_be_reused(firm, reviewer):
    code = issue(firm, reviewer)
    accounts.account_activate(uscc=firm.uscc, code=code, password=PASSWORD)
    with pytest.raises(ApplicationError) as exc:
        accounts.account_activate(uscc=firm.uscc, code=code, password=PASSWORD)
    assert exc.value.code == "wrong_code"
    assert User.objects.filter(username=firm.uscc).count() == 1


def test_an_expired_code_is_refused(firm, reviewer, monkeypatch):
    code = issue(firm, reviewer)
    later = timezone.now() + dt.timedelta(days=15)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(ApplicationError) as exc:
        accounts.account_activate(uscc=firm.uscc, code=code, password=PASSWORD)
    assert exc.value.code == "code_expired"
    assert not EnterpriseAccount.objects.exists()


def test_a_new_code_replaces_the_old_one(firm, reviewer):
    old = issue(firm, reviewer)
    new = issue(firm, reviewer)
    with pytest.raises(ApplicationError):
        accounts.account_activate(uscc=firm.uscc, code=old, password=PASSWORD)
    assert accounts.account_activate(uscc=firm.uscc, code=new, password=PASSWORD)


def test_guessing_kills_the_code_after_five_wrong_tries(firm, reviewer):
    code = issue(firm, reviewer)
    for _ in range(accounts.MAX_ATTEMPTS):
        with pytest.raises(ApplicationError):
            accounts.account_activate(uscc=firm.uscc, code="AAAA-AAAA", password=PASSWORD)
    access = AccessCode.objects.get(enterprise=firm)
    assert access.failed_attempts == accounts.MAX_ATTEMPTS and access.revoked_at is not None
    with pytest.raises(ApplicationError) as exc:
        accounts.account_activate(uscc=firm.uscc, code=code, password=PASSWORD)  # even the right code is dead now
    assert exc.value.code == "wrong_code"
    assert not EnterpriseAccount.objects.exists()


def test_unknown_entities_and_wrong_codes_get_the_same_answer(firm, reviewer, other_firm):
    issue(firm, reviewer)
    answers = set()
    for uscc in (firm.uscc, other_firm.uscc, "91140702MA0000000X", "not-a-code"):
        with pytest.raises(ApplicationError) as exc:
            accounts.account_activate(uscc=uscc, code="ZZZZ-ZZZZ", password=PASSWORD)
        answers.add((exc.value.code, exc.value.message))
    assert len(answers) == 1


def test_a_weak_password_is_refused_before_the_code_is_used(firm, reviewer):
    code = issue(firm, reviewer)
    with pytest.raises(ApplicationError) as exc:
        accounts.account_activate(uscc=firm.uscc, code=code, password="12345678")
    assert exc.value.code == "weak_password"
    access = AccessCode.objects.get(enterprise=firm)
    assert access.used_at is None and access.failed_attempts == 0
    assert accounts.account_activate(uscc=firm.uscc, code=code, password=PASSWORD)


def test_an_activation_code_is_not_issued_twice_for_an_account(firm, reviewer, owner):
    with pytest.raises(ApplicationError) as exc:
        issue(firm, reviewer)
    assert exc.value.code == "already_activated"


def test_password_reset_with_a_code_sent_to_the_contact(firm, owner):
    accounts.password_reset_request(uscc=firm.uscc)
    message = OutboxMessage.objects.get(related_type="repair.accesscode")
    code = message.body.split("验证码为 ")[1].split("，")[0]
    accounts.password_reset_confirm(uscc=firm.uscc, code=code, password="Another-Pass-2026")
    owner.refresh_from_db()
    assert owner.check_password("Another-Pass-2026")
    # A second request within a minute sends nothing more (no flooding of the contact).
    accounts.password_reset_request(uscc=firm.uscc)
    accounts.password_reset_request(uscc=firm.uscc)
    assert OutboxMessage.objects.filter(related_type="repair.accesscode").count() == 1


def test_a_reset_request_for_an_entity_without_account_does_nothing_and_says_nothing(other_firm):
    assert accounts.password_reset_request(uscc=other_firm.uscc) is None
    assert accounts.password_reset_request(uscc="garbage") is None
    assert not OutboxMessage.objects.exists()
    assert not AccessCode.objects.exists()
