"""Shared fixtures: the personas every page is tested with, and the PostgreSQL/Redis/
browser gates (skipped with a reason locally, a failure when CI is set)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.db import connection
from hypothesis import settings as hypothesis_settings

from billing.permissions import BILLING_CLERK_ROLE, BILLING_MANAGER_ROLE, ORG_ADMIN_ROLE
from tests import factories
from tests.browser import CHROMIUM, page  # noqa: F401  (the browser fixture)
from tests.sandbox import sandbox_clearinghouse  # noqa: F401

hypothesis_settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
hypothesis_settings.register_profile("dev", max_examples=100, deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _missing(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if item.get_closest_marker("redis") and not django_settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing(item)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must run every test", pytrace=False)
    pytest.skip(reason)


# --- personas -------------------------------------------------------------------------


@pytest.fixture
def org(db):
    return factories.OrganizationFactory(name="Demo Family Practice", slug="demo-family-practice")


@pytest.fixture
def other_org(db):
    return factories.OrganizationFactory(
        name="Northside Orthopedics", slug="northside-orthopedics", time_zone="America/Chicago"
    )


def _member(username: str, organization, role_name: str):
    user = factories.UserFactory(username=username)
    factories.MembershipFactory(
        user=user, organization=organization, role=factories.role(role_name)
    )
    return user


@pytest.fixture
def admin_user(org):
    """Org Admin of the organization under test."""
    return _member("admin", org, ORG_ADMIN_ROLE)


@pytest.fixture
def manager(org):
    return _member("manager", org, BILLING_MANAGER_ROLE)


@pytest.fixture
def clerk(org):
    """A Billing Clerk: can look, cannot administer."""
    return _member("clerk", org, BILLING_CLERK_ROLE)


@pytest.fixture
def other(other_org):
    """Org Admin of another organization: everything of `org` is a 404 to them."""
    return _member("other", other_org, ORG_ADMIN_ROLE)


@pytest.fixture
def login(client):
    """`login(user)` returns the test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def pytest_sessionfinish(session, exitstatus) -> None:
    """Remove this run's broker, result and cache files (see config/test_settings.py)."""
    local = django_settings.LOCAL_DIR
    if local.name.startswith("test-") and local.parent.name == ".local":
        shutil.rmtree(local, ignore_errors=True)
