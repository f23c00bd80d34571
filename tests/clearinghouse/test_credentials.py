"""Clearinghouse credentials: encrypted at rest, write-only in forms, never in a page, an
audit row or a log line."""

from __future__ import annotations

import logging
import re

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse

from billing.models import AuditLog
from clearinghouse import services
from clearinghouse.models import ClearinghouseConfig
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "sk_live_Zq8-very-secret-value"


def _config(org, **fields) -> ClearinghouseConfig:
    fields.setdefault("display_name", "Waystar")
    fields.setdefault("vendor", "waystar")
    return factories.ClearinghouseConfigFactory(organization=org, **fields)


def _stored_column(config: ClearinghouseConfig) -> str:
    table = ClearinghouseConfig._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials_encrypted FROM {table} WHERE id = %s", [config.pk])
        return cursor.fetchone()[0]


def _edit_data(config: ClearinghouseConfig, **overrides) -> dict[str, str]:
    data = {
        "vendor": config.vendor,
        "display_name": config.display_name,
        "base_url": config.base_url,
        "submitter_id": config.submitter_id,
        "account_id": config.account_id,
        "secret": "",
    }
    data.update(overrides)
    return data


# --- at rest -----------------------------------------------------------------------------


def test_it_stores_the_secret_encrypted(org):
    config = _config(org)
    config.set_credentials({"secret": SECRET})
    config.save()

    column = _stored_column(config)
    assert column
    assert SECRET not in column
    assert ClearinghouseConfig.objects.get(pk=config.pk).get_credentials() == {"secret": SECRET}


def test_it_stores_nothing_for_an_empty_secret(org):
    config = _config(org)
    config.set_credentials({"secret": ""})
    config.save()
    assert _stored_column(config) == ""
    assert config.get_credentials() == {}
    assert not config.has_credentials


def test_a_wrong_key_gives_a_clear_error(org, settings):
    config = _config(org)
    config.set_credentials({"secret": SECRET})
    config.save()

    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

    with pytest.raises(ValidationError) as caught:
        ClearinghouseConfig.objects.get(pk=config.pk).get_credentials()
    assert caught.value.messages == [
        "The stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY."
    ]


def test_a_value_encrypted_under_an_old_key_still_decrypts_after_rotation(org, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    config = _config(org)
    config.set_credentials({"secret": SECRET})
    config.save()

    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"

    config = ClearinghouseConfig.objects.get(pk=config.pk)
    assert config.get_credentials() == {"secret": SECRET}
    # New writes use the first key: they decrypt without the old one.
    config.set_credentials({"secret": "rotated"})
    config.save()
    settings.FIELD_ENCRYPTION_KEY = new
    assert ClearinghouseConfig.objects.get(pk=config.pk).get_credentials() == {"secret": "rotated"}


# --- never shown -------------------------------------------------------------------------


def test_no_page_or_audit_row_contains_the_secret(login, admin_user, org):
    client = login(admin_user)
    response = client.post(
        reverse("clearinghouse_add"),
        {
            "vendor": "waystar",
            "display_name": "Waystar",
            "base_url": "https://api.waystar.example/v1",
            "submitter_id": "W123",
            "account_id": "acct",
            "secret": SECRET,
            "is_active": "on",
        },
    )
    config = ClearinghouseConfig.objects.get(organization=org)
    assert response.status_code == 302
    client.post(
        reverse("clearinghouse_detail", args=[config.pk]),
        _edit_data(config, secret=SECRET + "-v2", account_id="acct-2"),
    )
    config.refresh_from_db()
    assert config.get_credentials() == {"secret": SECRET + "-v2"}

    pages = [
        client.get(reverse("clearinghouse_detail", args=[config.pk])),
        client.get(reverse("clearinghouse_list")),
        client.get(reverse("audit_log")),
    ]
    for page in pages:
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
        assert config.credentials_encrypted not in page.content.decode()
    audit_html = pages[2].content.decode()
    assert "clearinghouse.create" in audit_html and "clearinghouse.update" in audit_html
    for row in AuditLog.objects.all():
        assert SECRET not in str(row.old_values) + str(row.new_values)
        assert config.credentials_encrypted not in str(row.new_values)


def test_the_secret_input_renders_without_a_value(login, admin_user, org):
    config = _config(org)
    config.set_credentials({"secret": SECRET})
    config.save()
    client = login(admin_user)

    page = client.get(reverse("clearinghouse_detail", args=[config.pk])).content.decode()
    secret_input = re.search(r'<input[^>]*name="secret"[^>]*>', page).group(0)
    assert 'type="password"' in secret_input
    assert "value=" not in secret_input
    # A rejected form renders the typed secret back neither on the new page nor the edit form.
    rejected_new = client.post(
        reverse("clearinghouse_add"),
        {"vendor": "waystar", "display_name": "X", "base_url": "bad", "secret": SECRET},
    )
    rejected_edit = client.post(
        reverse("clearinghouse_detail", args=[config.pk]),
        _edit_data(config, base_url="bad", secret="typed-" + SECRET),
    )
    for response in (rejected_new, rejected_edit):
        html = response.content.decode()
        assert "Enter a valid URL." in html
        assert SECRET not in html


def test_the_update_service_logs_nothing_of_the_secret(caplog, admin_user, org):
    config = _config(org)
    caplog.set_level(logging.DEBUG)

    with transaction.atomic():
        services.clearinghouse_update(
            organization=org,
            actor=admin_user,
            config=config,
            data={"account_id": "acct-9"},
            secret=SECRET,
        )
        services.clearinghouse_create(
            organization=org,
            actor=admin_user,
            data={"vendor": "availity", "display_name": "A", "base_url": "https://a.example"},
            secret=SECRET,
        )

    assert SECRET not in caplog.text
    assert all(SECRET not in str(record.args) for record in caplog.records)


def test_the_pages_log_nothing_of_the_secret(caplog, login, admin_user, org):
    config = _config(org)
    client = login(admin_user)
    caplog.set_level(logging.DEBUG)

    client.post(
        reverse("clearinghouse_detail", args=[config.pk]), _edit_data(config, secret=SECRET)
    )
    client.post(
        reverse("clearinghouse_add"),
        {"vendor": "waystar", "display_name": "Waystar", "base_url": "x", "secret": SECRET},
    )

    assert SECRET not in caplog.text
