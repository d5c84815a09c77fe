"""API pagination counts exactly up to a cap and says when a count is only a lower bound."""

from __future__ import annotations

import pytest

from core.api import CappedCountPaginator
from tests.factories import EnterpriseFactory


@pytest.mark.django_db
def test_it_counts_exactly_below_the_cap_and_flags_a_lower_bound_above(api_client, city_regulator, monkeypatch):
    EnterpriseFactory.create_batch(6)
    api_client.force_authenticate(city_regulator)
    exact = api_client.get("/api/v1/enterprises/", {"status": "operating"}).json()
    assert (exact["count"], exact["count_is_exact"]) == (6, True)
    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    capped = api_client.get("/api/v1/enterprises/", {"status": "operating", "page_size": 2}).json()
    assert capped["count"] == 5
    assert capped["count_is_exact"] is False
    assert len(capped["results"]) == 2
    assert capped["next"]
