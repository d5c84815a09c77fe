"""Checking uploaded repair materials: PDF, JPEG or PNG by what the bytes are, never by the file's name or the
browser's declared type, within the size limit. An HTML page or an executable renamed `.pdf` is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from core.errors import ApplicationError

# Magic numbers (file signatures) of the accepted formats and the extension we store them under.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
ACCEPTED_LABEL = "PDF、JPG、PNG"


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its detected type, the extension we store it under, size and digest."""

    upload: UploadedFile
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str


def max_bytes() -> int:
    return int(settings.REPAIR_MATERIAL_MAX_BYTES)


def detect(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a file starting with `head`, or None when it is none of the accepted formats."""
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def check_upload(upload: UploadedFile, *, label: str) -> CheckedFile:
    """The checked upload, or an ApplicationError naming the material and what is wrong with it."""
    name = (upload.name or "")[-255:]
    size = upload.size or 0
    if size == 0:
        raise ApplicationError(f"“{label}”文件为空，请重新选择文件。", code="empty_file", extra={"file": name})
    limit = max_bytes()
    if size > limit:
        raise ApplicationError(
            f"“{label}”文件大小为 {size / 1048576:.1f} MB，超过上限 {limit / 1048576:.0f} MB。",
            code="file_too_large",
            extra={"file": name, "size": size, "limit": limit},
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    detected = detect(head)
    if detected is None:
        raise ApplicationError(
            f"“{label}”不是 {ACCEPTED_LABEL} 文件（按文件内容识别，与文件扩展名无关），"
            f"请上传 {ACCEPTED_LABEL} 格式的材料。",
            code="file_type_not_accepted",
            extra={"file": name},
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        upload=upload,
        content_type=detected[0],
        extension=detected[1],
        size=size,
        sha256=digest.hexdigest(),
        original_name=name or f"material.{detected[1]}",
    )
