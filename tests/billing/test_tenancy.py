from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from billing.audit import AuditOutsideTransaction, audit
from billing.middleware import OrganizationMiddleware
from billing.models import AuditLog, Payer
from billing.tenancy import current_organization, tenant_context
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_runs_the_block_in_a_transaction_of_its_own(org):
    with pytest.raises(RuntimeError), tenant_context(org):
        factories.PayerFactory(organization=org, name="Rolled back")
        raise RuntimeError("boom")
    assert not Payer.objects.filter(name="Rolled back").exists()


def test_it_knows_the_current_organization_inside_only(org, other_org):
    assert current_organization() is None
    with tenant_context(org):
        assert current_organization() == org
        with tenant_context(other_org):
            assert current_organization() == other_org
        assert current_organization() == org
    assert current_organization() is None


@pytest.mark.postgres
def test_it_sets_app_organization_id_for_the_transaction_only(org, other_org):
    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.organization_id', true)")
            return cursor.fetchone()[0]

    with tenant_context(org):
        assert setting() == str(org.pk)
        with tenant_context(other_org):
            assert setting() == str(other_org.pk)
        assert setting() == str(org.pk)
        with pytest.raises(ZeroDivisionError), tenant_context(other_org):
            raise ZeroDivisionError
        assert setting() == str(org.pk)
    assert setting() in (None, "")


def test_it_refuses_to_audit_outside_a_transaction(org, admin_user):
    # pytest-django wraps each test in a transaction; leave it to see the guard work.
    with transaction.atomic():
        pass
    atomic_blocks = connection.atomic_blocks
    connection.atomic_blocks = []
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(AuditOutsideTransaction):
            audit(organization=org, actor=admin_user, action="x", table_name="t", record_id=1)
    finally:
        connection.in_atomic_block = saved
        connection.atomic_blocks = atomic_blocks


def test_it_writes_an_audit_row_with_who_what_and_values(org, admin_user):
    payer = factories.PayerFactory(organization=org)
    with tenant_context(org):
        row = audit(
            organization=org,
            actor=admin_user,
            action="payer.change",
            instance=payer,
            old_values={"name": "Old"},
            new_values={"name": payer.name},
        )
    row = AuditLog.objects.get(pk=row.pk)
    assert (row.actor, row.table_name, row.record_id) == (
        admin_user,
        "billing_payer",
        str(payer.pk),
    )
    assert row.old_values == {"name": "Old"}


def test_the_middleware_rolls_back_a_request_that_fails(org, admin_user):
    def view(request):
        factories.PayerFactory(organization=org, name="Half-done")
        return HttpResponse(status=500)

    request = RequestFactory().get("/")
    request.user = admin_user
    request.session = {}
    OrganizationMiddleware(view)(request)
    assert not Payer.objects.filter(name="Half-done").exists()


def test_the_middleware_commits_a_request_that_succeeds(org, admin_user):
    def view(request):
        assert current_organization() == org
        factories.PayerFactory(organization=request.organization, name="Kept")
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = admin_user
    request.session = {}
    OrganizationMiddleware(view)(request)
    assert Payer.objects.filter(name="Kept", organization=org).exists()
