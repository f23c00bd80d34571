import pytest

from tests import factories


@pytest.fixture
def enabled(org):
    org.employer_collections_enabled = True
    org.save()
    return org


@pytest.fixture
def acme(org):
    return factories.EmployerFactory(
        organization=org,
        guarantor_id="ACME01",
        name="Acme Freight",
        address_line1="1 Dock St",
        city="Harrisburg",
        state="PA",
        zip_code="17101",
        phone="717-555-0100",
    )


@pytest.fixture
def globex(org):
    return factories.EmployerFactory(
        organization=org, guarantor_id="GLBX", name="Globex TPA", is_tpa=True
    )
