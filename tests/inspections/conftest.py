from __future__ import annotations

import pytest

from tests.inspections.factories import InspectorFactory, ItemFactory


@pytest.fixture
def item(db):
    return ItemFactory()


@pytest.fixture
def roster(item):
    """Six qualified inspectors of 榆次区 with valid warrants."""
    return [InspectorFactory(items=[item]) for _ in range(6)]
