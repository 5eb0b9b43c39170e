import pytest

from ictgov.stats.areas import load_reference_areas


@pytest.fixture
def areas(session):
    """The bundled nation, regions, provinces (both boundary versions) and operators."""
    load_reference_areas(session)
    session.commit()
    return session
