"""The OpenAPI schema and the browsable docs work offline (no CDN on the bureau's intranet)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_the_docs_page_loads_its_assets_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn.jsdelivr" not in body and "unpkg.com" not in body


@pytest.mark.django_db
def test_the_schema_is_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/calendar/working-days/" in schema["paths"]
