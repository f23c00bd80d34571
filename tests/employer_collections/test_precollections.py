from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import AuditLog
from employer_collections.models import CollectionEntry, PreCollectionEntry, PreCollectionList
from employer_collections.services import NO_SET_ACTIONS
from tests import factories
from tests.employer_collections.helpers import owed, pay

pytestmark = pytest.mark.django_db

URL = reverse("precollections")
MAKE = reverse("precollections_make")
SET = reverse("precollections_set_action")
APPLY = reverse("precollections_apply")
SELECT = reverse("precollections_select")


def _make(client, **extra):
    data = {"balance_for": "employer", "separate_by": "encounter", **extra}
    return client.post(MAKE, data, follow=True)


def _entries(balance_for="employer"):
    return PreCollectionEntry.objects.filter(list__balance_for=balance_for)


def test_it_defaults_to_employer_and_encounter_when_activated(enabled, manager, login):
    form = login(manager).get(URL).context["form"]
    assert form["balance_for"].value() == "employer"
    assert form["separate_by"].value() == "encounter"
    assert [v for v, _ in form.fields["balance_for"].choices] == ["employer", "patient"]


def test_it_offers_only_patients_and_explains_while_employer_collections_is_off(
    org, manager, login, acme
):
    response = login(manager).get(URL)
    body = response.content.decode()
    assert "Employer Collections must be activated" in body
    assert "Ask Support or your Implementation Manager" in body
    assert [v for v, _ in response.context["form"].fields["balance_for"].choices] == ["patient"]
    owed(org, employer=acme)
    response = _make(login(manager))
    assert "Employer Collections must be activated" in response.content.decode()
    assert not PreCollectionEntry.objects.exists()


def test_make_list_adds_matching_encounters_once(enabled, manager, login, acme, globex):
    e1 = owed(enabled, "120.00", employer=acme, days=100)
    e2 = owed(enabled, "40.00", employer=acme, days=100)  # below the minimum balance
    e3 = owed(enabled, "300.00", employer=acme, days=10)  # too young
    e4 = owed(enabled, "90.00", employer=globex, days=100)  # not picked
    owed(enabled, "80.00", days=100)  # a patient balance
    settled = owed(enabled, "50.00", employer=acme, days=100)
    pay(settled, "50.00")
    client = login(manager)
    response = _make(client, employers=[acme.pk], min_balance="50", min_age_days="30")
    assert "1 encounter added to the list." in response.content.decode()
    assert list(_entries().values_list("encounter_id", flat=True)) == [e1.pk]
    assert _entries().get().balance_when_listed == Decimal("120.00")
    response = _make(client)
    assert set(_entries().values_list("encounter_id", flat=True)) == {e1.pk, e2.pk, e3.pk, e4.pk}
    row = AuditLog.objects.filter(action="collections.precollections_add").last()
    assert row.new_values["source"] == "make_list"


def test_separate_by_other_than_encounter_is_refused(enabled, manager, login, acme):
    owed(enabled, employer=acme)
    response = _make(login(manager), separate_by="guarantor")
    assert "Encounter must be selected to perform the Collections process." in (
        response.content.decode()
    )
    assert not PreCollectionEntry.objects.exists()


def test_bad_minimum_balance_is_a_clear_message_and_changes_nothing(enabled, manager, login, acme):
    owed(enabled, employer=acme)
    response = _make(login(manager), min_balance="-5")
    assert "greater than or equal to 0" in response.content.decode()
    assert not PreCollectionEntry.objects.exists()


def _list_with_actions(org, manager, login, acme):
    encounters = [owed(org, "100.00", employer=acme) for _ in range(4)]
    client = login(manager)
    _make(client)
    ids = {e.encounter_id: e.pk for e in _entries()}
    return client, encounters, ids


def test_clear_the_current_list_warns_about_unapplied_set_actions(enabled, manager, login, acme):
    client, encounters, ids = _list_with_actions(enabled, manager, login, acme)
    client.post(
        SET, {"balance_for": "employer", "entry": [ids[encounters[0].pk]], "action": "hold"}
    )
    response = _make(client, clear_current="on")
    body = response.content.decode()
    assert "1 Set Action on the current list has not been applied" in body
    assert _entries().count() == 4 and _entries().exclude(action="").count() == 1
    response = _make(client, clear_current="on", confirm="clear")
    assert "The current list (4 rows) was cleared." in response.content.decode()
    assert _entries().count() == 4 and not _entries().exclude(action="").exists()
    assert AuditLog.objects.filter(action="collections.precollections_clear").count() == 1


def test_select_all_unselect_all_and_set_action_on_selected_rows(enabled, manager, login, acme):
    client, encounters, ids = _list_with_actions(enabled, manager, login, acme)
    client.post(SELECT, {"balance_for": "employer", "op": "all"})
    assert _entries().filter(selected=True).count() == 4
    client.post(SELECT, {"balance_for": "employer", "op": "none"})
    assert not _entries().filter(selected=True).exists()
    chosen = [ids[encounters[0].pk], ids[encounters[1].pk]]
    response = client.post(
        SET, {"balance_for": "employer", "entry": chosen, "action": "move"}, follow=True
    )
    assert "Set Action “Move to In Collections” on 2 rows." in response.content.decode()
    assert set(_entries().filter(action="move").values_list("pk", flat=True)) == set(chosen)
    assert set(_entries().filter(selected=True).values_list("pk", flat=True)) == set(chosen)


def test_apply_applies_every_set_action_whatever_the_checkboxes_say(enabled, manager, login, acme):
    client, encounters, ids = _list_with_actions(enabled, manager, login, acme)
    move, remove, hold, stale = encounters
    for enc, action in [(move, "move"), (remove, "remove"), (hold, "hold"), (stale, "move")]:
        client.post(SET, {"balance_for": "employer", "entry": [ids[enc.pk]], "action": action})
    client.post(SELECT, {"balance_for": "employer", "op": "none"})
    pay(stale, "100.00")  # paid in full since the list was made

    response = client.post(APPLY, {"balance_for": "employer"})
    assert "The checkboxes on the Set Action line items do not work" in response.content.decode()
    assert not CollectionEntry.objects.exists()

    response = client.post(APPLY, {"balance_for": "employer", "confirm": "run"}, follow=True)
    body = response.content.decode()
    assert "1 moved to In Collections, 1 removed, 1 held, 1 skipped." in body
    assert f"encounter {stale.pk}: paid in full since the list was made" in body
    entry = CollectionEntry.objects.get()
    assert (entry.encounter, entry.original_balance, entry.guarantor_employer) == (
        move,
        Decimal("100.00"),
        acme,
    )
    remaining = {e.encounter_id: e for e in _entries()}
    assert set(remaining) == {hold.pk, stale.pk}
    assert remaining[hold.pk].held_at is not None and remaining[hold.pk].action == ""
    assert remaining[stale.pk].action == ""
    audit = AuditLog.objects.get(action="collections.apply_actions")
    assert audit.new_values["moved"] == [move.pk]
    assert audit.new_values["removed"] == [remove.pk]
    assert audit.new_values["held"] == [hold.pk]
    assert audit.new_values["skipped"][0]["encounter_id"] == stale.pk


def test_apply_with_no_set_actions_is_a_clear_message(enabled, manager, login, acme):
    client, *_ = _list_with_actions(enabled, manager, login, acme)
    before = AuditLog.objects.count()
    response = client.post(APPLY, {"balance_for": "employer", "confirm": "run"}, follow=True)
    assert NO_SET_ACTIONS in response.content.decode()
    assert _entries().count() == 4 and not CollectionEntry.objects.exists()
    assert AuditLog.objects.count() == before


def test_a_clerk_sees_the_list_but_cannot_change_it(enabled, manager, clerk, login, acme):
    _list_with_actions(enabled, manager, login, acme)
    client = login(clerk)
    response = client.get(URL)
    assert response.status_code == 200 and "Make List" not in response.content.decode()
    entry = _entries().first()
    for url, data in [
        (MAKE, {"balance_for": "employer", "separate_by": "encounter"}),
        (SELECT, {"balance_for": "employer", "op": "all"}),
        (SET, {"balance_for": "employer", "entry": [entry.pk], "action": "move"}),
        (APPLY, {"balance_for": "employer", "confirm": "run"}),
    ]:
        assert client.post(url, data).status_code == 403
    assert not _entries().exclude(action="").exists() and not _entries().filter(selected=True)


def test_another_organizations_rows_are_404(enabled, manager, login, acme, other_org):
    _list_with_actions(enabled, manager, login, acme)
    other_org.employer_collections_enabled = True
    other_org.save()
    theirs = owed(other_org, employer=factories.EmployerFactory(organization=other_org))
    plist = PreCollectionList.objects.create(organization=other_org, balance_for="employer")
    foreign = PreCollectionEntry.objects.create(
        organization=other_org, list=plist, encounter=theirs, balance_when_listed=1
    )
    response = login(manager).post(
        SET, {"balance_for": "employer", "entry": [foreign.pk], "action": "move"}
    )
    assert response.status_code == 404
    assert foreign.__class__.objects.get(pk=foreign.pk).action == ""


def test_it_needs_can_see_billing(org, login):
    from billing.models import Membership, Role

    role = Role.objects.create(organization=org, name="Scheduler", codes=["pm.patients.edit"])
    user = factories.UserFactory(username="sched")
    Membership.objects.create(user=user, organization=org, role=role)
    assert login(user).get(URL).status_code == 403
    assert login(user).get(reverse("statements")).status_code == 403
    assert login(user).get(reverse("collections_list")).status_code == 403
