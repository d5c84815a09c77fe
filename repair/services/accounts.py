"""Enterprise accounts: the bureau issues a one-time code, the entity activates its account with it and sets a
password; a forgotten password is reset with a new code sent to the registered contact.

Codes are random, shown once (to the staff who issued them) and sent through the outbox; only an HMAC of the code
is stored. A code works once, expires, and dies after MAX_ATTEMPTS wrong tries, so guessing is pointless (the login
form itself is throttled by django-axes). Answers never tell whether a USCC has an account or a code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.errors import ApplicationError
from core.models import OutboxMessage, User
from core.notifications import outbox_enqueue
from core.services import user_create
from enterprises import identity
from enterprises.models import Enterprise
from repair.models import AccessCode, EnterpriseAccount

# No 0/O, 1/I/L: codes are read over the phone and typed from an SMS.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_ATTEMPTS = 5
RESET_REQUEST_INTERVAL = dt.timedelta(minutes=1)

WRONG_CODE = "统一社会信用代码或验证码不正确。"
PORTAL_PATH = "/portal/"


def _hash(enterprise_id: int, purpose: str, code: str) -> str:
    message = f"{enterprise_id}:{purpose}:{normalise_code(code)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def contact_of(enterprise: Enterprise) -> tuple[str, str]:
    """(channel, recipient) of the entity's registered contact: SMS, else e-mail, else a letter to its address."""
    if enterprise.contact_phone:
        return OutboxMessage.Channel.SMS, enterprise.contact_phone
    if enterprise.contact_email:
        return OutboxMessage.Channel.EMAIL, enterprise.contact_email
    return OutboxMessage.Channel.LETTER, f"{enterprise.name} {enterprise.address}"


def _validity(purpose: str) -> dt.timedelta:
    if purpose == AccessCode.Purpose.ACTIVATION:
        return dt.timedelta(days=settings.REPAIR_ACTIVATION_CODE_DAYS)
    return dt.timedelta(minutes=settings.REPAIR_RESET_CODE_MINUTES)


@transaction.atomic
def access_code_issue(*, actor: User | None, enterprise: Enterprise, purpose: str) -> tuple[AccessCode, str]:
    """Issue a new one-time code (any earlier live code of the same purpose dies), send it to the registered
    contact through the outbox and return it with the plain code, to be shown once to the staff who issued it."""
    if purpose not in AccessCode.Purpose.values:
        raise ApplicationError(f"未知的验证码用途：{purpose}", code="invalid_choice")
    has_account = EnterpriseAccount.objects.filter(enterprise=enterprise).exists()
    if purpose == AccessCode.Purpose.ACTIVATION and has_account:
        raise ApplicationError("该经营主体已开通账号；如忘记密码，请签发重置密码验证码。", code="already_activated")
    if purpose == AccessCode.Purpose.RESET and not has_account:
        raise ApplicationError("该经营主体尚未开通账号，请签发激活码。", code="no_account")
    if enterprise.status == Enterprise.Status.DEREGISTERED:
        raise ApplicationError("该经营主体已注销，不能开通账号。", code="entity_deregistered")
    now = timezone.now()
    AccessCode.objects.filter(
        enterprise=enterprise, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    channel, recipient = contact_of(enterprise)
    access = AccessCode(
        enterprise=enterprise,
        purpose=purpose,
        code_hash=_hash(enterprise.pk, purpose, code),
        issued_by=actor if actor is not None and actor.pk else None,
        expires_at=now + _validity(purpose),
        sent_to=recipient,
    )
    access.full_clean()
    access.save()
    expires = timezone.localtime(access.expires_at)
    what = "账号激活码" if purpose == AccessCode.Purpose.ACTIVATION else "重置密码验证码"
    outbox_enqueue(
        channel=channel,
        recipient=recipient,
        subject=f"企业信用监管平台{what}",
        body=(
            f"【{settings.PORTAL_BUREAU_NAME}】{enterprise.name}：您的企业信用监管平台{what}为 {format_code(code)}，"
            f"{expires:%Y-%m-%d %H:%M} 前有效，仅可使用一次。请访问 {PORTAL_PATH} 使用统一社会信用代码办理。"
            "如非本单位申请，请忽略。"
        ),
        dedupe_key=f"access-code:{access.pk}",
        related=access,
    )
    # The code itself is never audited: the event says that a code was issued, to whom and by whom.
    audit_log(
        actor=actor,
        action=f"repair.access_code.{purpose}",
        obj=access,
        after={
            "enterprise_id": enterprise.pk,
            "purpose": purpose,
            "expires_at": access.expires_at,
            "sent_to": recipient,
        },
    )
    return access, format_code(code)


def _check_password(password: str, *, username: str) -> None:
    try:
        validate_password(password, user=User(username=username))
    except ValidationError as exc:
        raise ApplicationError(
            "；".join(exc.messages), code="weak_password", extra={"fields": {"password": exc.messages}}
        ) from exc


def _enterprise_by_uscc(uscc: str) -> Enterprise | None:
    try:
        code = identity.validate(uscc)
    except identity.InvalidUSCC:
        return None
    return Enterprise.objects.filter(uscc=code).first()


class _WrongCode(Exception):
    """A wrong code: counted against the live code (if any) after the attempt's transaction has rolled back."""

    def __init__(self, code_id: int | None) -> None:
        super().__init__(WRONG_CODE)
        self.code_id = code_id


def _use_code(*, uscc: str, code: str, purpose: str) -> tuple[Enterprise, AccessCode]:
    """Check and consume the live code of `purpose` for the entity, inside the caller's transaction."""
    enterprise = _enterprise_by_uscc(uscc)
    if enterprise is None:
        raise _WrongCode(None)
    live = (
        AccessCode.objects.select_for_update()
        .filter(enterprise=enterprise, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if live is None:
        raise _WrongCode(None)
    if not hmac.compare_digest(live.code_hash, _hash(enterprise.pk, purpose, code)):
        raise _WrongCode(live.pk)
    if live.expires_at <= timezone.now():
        raise ApplicationError("验证码已过期，请重新获取。", code="code_expired")
    live.used_at = timezone.now()
    live.save(update_fields=["used_at", "updated_at"])
    return enterprise, live


@transaction.atomic
def _count_failure(code_id: int) -> None:
    """One more wrong try on a live code; the code dies at MAX_ATTEMPTS."""
    access = AccessCode.objects.select_for_update().get(pk=code_id)
    access.failed_attempts += 1
    fields = ["failed_attempts", "updated_at"]
    if access.failed_attempts >= MAX_ATTEMPTS and access.revoked_at is None:
        access.revoked_at = timezone.now()
        fields.append("revoked_at")
    access.save(update_fields=fields)


def account_activate(*, uscc: str, code: str, password: str) -> User:
    """Activate the entity's account with the code the bureau issued: the username is the USCC, the password the
    one chosen here. Refused (nothing written but the count of a wrong try) for a wrong, used or expired code."""
    enterprise = _enterprise_by_uscc(uscc)
    username = enterprise.uscc if enterprise is not None else (uscc or "").strip().upper()
    _check_password(password, username=username)
    try:
        with transaction.atomic():
            enterprise, access = _use_code(uscc=uscc, code=code, purpose=AccessCode.Purpose.ACTIVATION)
            if EnterpriseAccount.objects.filter(enterprise=enterprise).exists():
                raise ApplicationError("该经营主体已开通账号，请直接登录。", code="already_activated")
            if User.objects.filter(username=enterprise.uscc).exists():
                raise ApplicationError("该统一社会信用代码已被用作登录名，请联系登记机关。", code="username_taken")
            user = user_create(
                actor=None,
                username=enterprise.uscc,
                role=User.Role.ENTERPRISE,
                password=password,
                first_name=enterprise.name[:150],
                email=enterprise.contact_email,
            )
            account = EnterpriseAccount.objects.create(user=user, enterprise=enterprise, activated_at=timezone.now())
            audit_log(
                actor=user,
                action="repair.account.activate",
                obj=account,
                after={"enterprise_id": enterprise.pk, "user_id": user.pk, "access_code_id": access.pk},
            )
            return user
    except _WrongCode as wrong:
        if wrong.code_id is not None:
            _count_failure(wrong.code_id)
        raise ApplicationError(WRONG_CODE, code="wrong_code") from None


def password_reset_request(*, uscc: str) -> None:
    """Send a reset code to the registered contact of the entity's account, if it has one. Says nothing either
    way (the caller shows one message whatever happened) and sends at most one code a minute."""
    enterprise = _enterprise_by_uscc(uscc)
    if enterprise is None or not EnterpriseAccount.objects.filter(enterprise=enterprise).exists():
        return
    recent = AccessCode.objects.filter(
        enterprise=enterprise,
        purpose=AccessCode.Purpose.RESET,
        created_at__gt=timezone.now() - RESET_REQUEST_INTERVAL,
    )
    if recent.exists():
        return
    access_code_issue(actor=None, enterprise=enterprise, purpose=AccessCode.Purpose.RESET)


def password_reset_confirm(*, uscc: str, code: str, password: str) -> User:
    """Set a new password with a reset code; the code is then used up."""
    enterprise = _enterprise_by_uscc(uscc)
    username = enterprise.uscc if enterprise is not None else (uscc or "").strip().upper()
    _check_password(password, username=username)
    try:
        with transaction.atomic():
            enterprise, access = _use_code(uscc=uscc, code=code, purpose=AccessCode.Purpose.RESET)
            account = EnterpriseAccount.objects.select_related("user").filter(enterprise=enterprise).first()
            if account is None:
                raise ApplicationError(WRONG_CODE, code="wrong_code")
            user = account.user
            user.set_password(password)
            user.save(update_fields=["password"])
            audit_log(
                actor=user,
                action="repair.account.reset_password",
                obj=account,
                after={"access_code_id": access.pk},
            )
            return user
    except _WrongCode as wrong:
        if wrong.code_id is not None:
            _count_failure(wrong.code_id)
        raise ApplicationError(WRONG_CODE, code="wrong_code") from None
