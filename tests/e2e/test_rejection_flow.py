"""A billing manager works a rejection: from the worklist to the claim, fixes the member id
on the coverage, and resubmits; the sandbox clearinghouse gets the new version under a new
idempotency key."""

from __future__ import annotations

import pytest

from billing.models import Claim
from clearinghouse.submission import idempotency_key
from tests.browser import screenshot
from tests.cache import empty_cache  # noqa: F401  (autouse)
from tests.clearinghouse.pair import sandbox_pair
from tests.clearinghouse.test_claim_rejections import rejected_claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_fixes_a_rejected_claim_and_resubmits_it(
    org, sandbox_clearinghouse, page, manager
):
    pair = sandbox_pair(org, sandbox_clearinghouse)
    claim = rejected_claim(org, pair)
    first_key = idempotency_key(claim)

    page.goto("/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.goto("/pm/claims")
    page.click("[data-testid=rejections-link]")
    row = page.locator(f"[data-testid=rejection-row][data-claim='{claim.claim_number}']")
    assert "SUBSCRIBER MEMBER ID IS INVALID" in row.locator("[data-testid=reason]").inner_text()
    screenshot(page, "rejections-worklist")

    row.locator(f"text={claim.claim_number}").click()
    page.wait_for_selector("[data-testid=rejection-reason]")
    assert "SUBSCRIBER MEMBER ID IS INVALID" in page.inner_text("[data-testid=rejection-reason]")
    screenshot(page, "rejected-claim")
    page.click("[data-testid=fix-coverage]")
    page.fill("#id_member_id", "W123456789")
    page.click("text=Save coverage")
    page.wait_for_selector("text=saved")

    page.goto("/pm/claims/rejections")
    page.locator(f"[data-testid=rejection-row][data-claim='{claim.claim_number}']").locator(
        "[data-testid=resubmit]"
    ).click()
    page.wait_for_selector(".msg-success")
    assert f"claim {claim.claim_number} version 2 sent to Sandbox" in page.inner_text(".messages")
    assert page.is_visible("[data-testid=no-rejections]")

    claim.refresh_from_db()
    assert claim.version == 2 and claim.status == Claim.Status.SUBMITTED
    keys = [entry["idempotency_key"] for entry in sandbox_clearinghouse.log(kind="837P")]
    assert keys == [first_key, idempotency_key(claim)]
    page.goto(f"/pm/claims/{claim.pk}")
    assert page.locator("[data-testid=submission-key]").all_inner_texts() == [
        idempotency_key(claim),
        first_key,
    ]
    screenshot(page, "resubmitted-claim")
