"""The UI is Simplified Chinese by default, from English source strings with a complete zh_Hans catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_message_is_translated():
    text = PO.read_text(encoding="utf-8")
    entries = re.split(r"\n\n+", text)
    untranslated = []
    for entry in entries[1:]:
        if entry.lstrip().startswith("#~"):
            continue
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.MULTILINE)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', entry, re.MULTILINE)
        if msgid and msgstr and re.sub(r'"\s*"', "", msgstr.group(1)).strip() == '""':
            untranslated.append(msgid.group(1).strip())
        if "#, fuzzy" in entry:
            untranslated.append("(fuzzy) " + (msgid.group(1).strip() if msgid else "?"))
    assert untranslated == []


def test_the_compiled_catalogue_is_used_and_english_still_works():
    with translation.override("zh-hans"):
        assert translation.gettext("market entity") == "经营主体"
        assert translation.gettext("Suspended (filed)") == "歇业"
    with translation.override("en"):
        assert translation.gettext("market entity") == "market entity"


def _unquote(block: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), "".join(parts))


def test_the_compiled_catalogue_matches_the_po_file():
    """`make messages` was run after the last edit: every .po translation is in the committed .mo."""
    import gettext

    with PO.with_suffix(".mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    text = PO.read_text(encoding="utf-8")
    for entry in re.split(r"\n\n+", text)[1:]:
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.MULTILINE)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', entry, re.MULTILINE)
        if not msgid or not msgstr or "msgctxt" in entry:
            continue
        key = _unquote(msgid.group(1))
        assert catalogue.get(key) == _unquote(msgstr.group(1)), key
