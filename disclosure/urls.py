"""URLs of the disclosure app; wired into config.urls so its issue only adds patterns here."""

from __future__ import annotations

app_name = "disclosure"
urlpatterns: list = []
