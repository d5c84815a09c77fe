"""URLs of the inspections app; wired into config.urls so its issue only adds patterns here."""

from __future__ import annotations

app_name = "inspections"
urlpatterns: list = []
