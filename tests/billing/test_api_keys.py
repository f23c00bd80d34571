from __future__ import annotations

import datetime
import hashlib
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from billing.models import ApiKey, AuditLog, Membership
from billing.services import api_keys as services
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("api_key_list")
CREATE = reverse("api_key_create")
KEY = re.compile(r"bbo_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _keys() -> set[tuple]:
    return set(ApiKey.objects.values_list("pk", "user_id", "organization_id", "revoked_at"))


def _create(client, name="Nightly export"):
    response = client.post(CREATE, {"name": name})
    raw = KEY.search(response.content.decode())
    return response, raw.group() if raw else None


# --- access ---------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, org, clerk):
    key = factories.ApiKeyFactory(user=clerk, organization=org)
    for response in (
        client.get(LIST),
        client.post(CREATE, {"name": "x"}),
        client.post(reverse("api_key_revoke", args=[key.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert ApiKey.objects.count() == 1


def test_a_member_cannot_see_or_revoke_another_members_key(login, org, clerk, manager):
    key = factories.ApiKeyFactory(user=manager, organization=org, name="Manager's export")
    client = login(clerk)

    assert "Manager" not in client.get(LIST).content.decode()
    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_another_organizations_member_gets_404_and_acts_on_their_own_org(
    login, org, other_org, admin_user, other
):
    key = factories.ApiKeyFactory(user=admin_user, organization=org, name="Admin export")
    client = login(other)

    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    assert "Admin export" not in client.get(LIST).content.decode()
    _create(client, "Ortho key")

    key.refresh_from_db()
    assert key.revoked_at is None
    created = ApiKey.objects.get(name="Ortho key")
    assert (created.user, created.organization) == (other, other_org)


def test_a_key_of_the_same_user_in_another_organization_is_404_here(login, org, other_org, clerk):
    factories.MembershipFactory(user=clerk, organization=other_org)
    elsewhere = factories.ApiKeyFactory(user=clerk, organization=other_org, name="Elsewhere")
    client = login(clerk)

    assert "Elsewhere" not in client.get(LIST).content.decode()
    assert client.post(reverse("api_key_revoke", args=[elsewhere.pk])).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.revoked_at is None


def test_create_and_revoke_answer_only_post(login, clerk):
    client = login(clerk)
    assert client.get(CREATE).status_code == 405
    assert not ApiKey.objects.exists()


# --- the list -------------------------------------------------------------------------------


def test_it_lists_the_members_keys_with_prefix_dates_and_status(login, org, clerk):
    live = factories.ApiKeyFactory(
        user=clerk,
        organization=org,
        name="Nightly export",
        last_used_at=datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC),
    )
    factories.ApiKeyFactory(
        user=clerk,
        organization=org,
        name="Old laptop",
        revoked_at=datetime.datetime(2026, 2, 1, 15, 0, tzinfo=datetime.UTC),
    )

    html = login(clerk).get(LIST).content.decode()

    table = html.split('data-testid="api-keys"')[1].split("</table>")[0]
    assert "Nightly export" in table
    assert f"<code>bbo_{live.prefix}_…</code>" in table
    assert "03/04/2026 10:00" in table  # shown in the organization's time zone
    assert '<span class="badge org-active">active</span>' in table
    assert "revoked 02/01/2026" in table
    assert table.count(">Revoke</button>") == 1
    assert live.key_hash not in html


def test_it_says_when_there_are_no_keys(login, clerk):
    assert "You have no API keys in Demo Family Practice." in (
        login(clerk).get(LIST).content.decode()
    )


# --- creating -------------------------------------------------------------------------------


def test_every_member_creates_a_key_shown_exactly_once(login, org, clerk):
    client = login(clerk)

    response, raw = _create(client)

    assert response.status_code == 200  # rendered in the POST response, not a redirect
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert raw is not None
    assert html.count(raw) == 1
    assert "it will not be shown again" in html
    key = ApiKey.objects.get()
    assert (key.user, key.organization, key.name) == (clerk, org, "Nightly export")
    assert raw.startswith(f"bbo_{key.prefix}_")
    assert len(key.prefix) == 8
    secret = raw.split("_", 2)[2]
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.key_hash != raw
    assert secret not in key.key_hash

    later = client.get(LIST).content.decode()
    assert raw not in later
    assert secret not in later
    assert f"bbo_{key.prefix}_…" in later
    for session in Session.objects.all():
        assert secret not in str(session.get_decoded())


def test_creating_a_key_is_audited_with_the_prefix_only(login, org, clerk):
    _, raw = _create(login(clerk))
    key = ApiKey.objects.get()

    row = AuditLog.objects.get(action="api_key.create")
    assert (row.organization, row.actor, row.record_id) == (org, clerk, str(key.pk))
    assert row.new_values == {"name": "Nightly export", "prefix": key.prefix, "user_id": clerk.pk}
    secret = raw.split("_", 2)[2]
    assert secret not in str(row.new_values)
    assert key.key_hash not in str(row.new_values)


def test_a_key_needs_a_name(login, clerk):
    response = login(clerk).post(CREATE, {"name": "   "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiKey.objects.exists()
    assert not AuditLog.objects.exists()


def test_the_raw_key_authenticates_and_stops_after_revoke(login, org, clerk):
    client = login(clerk)
    _, raw = _create(client)
    key = ApiKey.objects.get()

    assert services.api_key_authenticate(raw) == key
    assert services.api_key_authenticate(key.key_hash) is None
    assert services.api_key_authenticate(f"bbo_{key.prefix}_{key.key_hash}") is None

    response = client.post(reverse("api_key_revoke", args=[key.pk]), follow=True)

    assert f"“Nightly export” ({key.prefix}…) was revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert services.api_key_authenticate(raw) is None
    row = AuditLog.objects.get(action="api_key.revoke")
    assert row.actor == clerk
    assert row.new_values["prefix"] == key.prefix
    assert raw.split("_", 2)[2] not in str(row.new_values)


def test_revoking_twice_changes_nothing_more(login, org, clerk):
    key = factories.ApiKeyFactory(user=clerk, organization=org)
    client = login(clerk)
    client.post(reverse("api_key_revoke", args=[key.pk]))
    key.refresh_from_db()
    first = key.revoked_at

    client.post(reverse("api_key_revoke", args=[key.pk]))

    key.refresh_from_db()
    assert key.revoked_at == first
    assert AuditLog.objects.filter(action="api_key.revoke").count() == 1


# --- authenticating -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["", "nonsense", "bbo_", "bbo_zzzzzzzz_" + "a" * 43, "Bearer bbo_00000000_" + "a" * 43],
)
def test_junk_does_not_authenticate(raw):
    assert services.api_key_authenticate(raw) is None


def test_a_key_with_the_wrong_prefix_does_not_authenticate(org, clerk):
    key, raw = services.api_key_create(organization=org, actor=clerk, name="k")
    secret = raw.split("_", 2)[2]
    wrong = "0" * 8 if key.prefix != "0" * 8 else "1" * 8
    assert services.api_key_authenticate(f"bbo_{wrong}_{secret}") is None


def test_a_removed_member_or_inactive_user_cannot_authenticate(org, clerk):
    _, raw = services.api_key_create(organization=org, actor=clerk, name="k")
    clerk.is_active = False
    clerk.save()
    assert services.api_key_authenticate(raw) is None
    clerk.is_active = True
    clerk.save()
    assert services.api_key_authenticate(raw) is not None
    Membership.objects.filter(user=clerk, organization=org).delete()
    assert services.api_key_authenticate(raw) is None


def test_last_used_is_written_at_most_once_a_minute(org, clerk):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key, raw = services.api_key_create(organization=org, actor=clerk, name="k")
        assert key.last_used_at is None
        services.api_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at == start

    with time_machine.travel(start + datetime.timedelta(seconds=59), tick=False):
        services.api_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at == start

    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        services.api_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at == start + datetime.timedelta(seconds=61)


def test_keys_are_distinct(org, clerk):
    raws = {services.api_key_create(organization=org, actor=clerk, name="k")[1] for _ in range(5)}
    assert len(raws) == 5
    assert len(set(ApiKey.objects.values_list("prefix", flat=True))) == 5


def test_only_members_can_hold_keys(org, other):
    with pytest.raises(services.ValidationError):
        services.api_key_create(organization=org, actor=other, name="k")
    assert not ApiKey.objects.exists()
