"""`manage.py create_api_key`: prints a new key once, for the user's organization."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from billing.models import ApiKey, AuditLog
from billing.services.api_keys import KEY_PATTERN, hash_secret
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_the_new_key_alone_and_stores_only_its_hash(org, manager):
    raw, note = run("--user", "manager", "--name", "Nightly export")

    match = KEY_PATTERN.fullmatch(raw)
    assert match is not None
    key = ApiKey.objects.get()
    assert (key.user, key.organization, key.name) == (manager, org, "Nightly export")
    assert key.key_hash == hash_secret(match["secret"]) and raw not in key.key_hash
    assert f"({key.prefix}…) for manager in Demo Family Practice" in note
    assert "shown only now" in note
    audit = AuditLog.objects.get()
    assert (audit.action, audit.organization, audit.actor) == ("api_key.create", org, manager)


def test_the_key_works_on_the_graphql_api(client, org, manager):
    raw, _ = run("--user", "manager")

    response = client.post(
        "/graphql",
        json.dumps({"query": "{ insurancePayments { total_count } }"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.json() == {"data": {"insurancePayments": {"total_count": 0}}}


def test_a_member_of_several_organizations_names_one(org, other_org, manager):
    factories.MembershipFactory(user=manager, organization=other_org)

    with pytest.raises(CommandError, match="pass --org"):
        run("--user", "manager")
    run("--user", "manager", "--org", other_org.slug)

    assert ApiKey.objects.get().organization == other_org


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "No user named 'nobody'"),
        (["--user", "manager", "--org", "northside-orthopedics"], "not a member of"),
        (["--user", "loner"], "not a member of any organization"),
    ],
)
def test_it_refuses_what_it_cannot_do(org, other_org, manager, args, message):
    factories.UserFactory(username="loner")

    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiKey.objects.exists()
