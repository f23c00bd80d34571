"""Writes of the practice core."""

from __future__ import annotations

from django.http import Http404

from billing.models import Membership, User


def organization_switch(*, user: User, organization_id: int, session) -> Membership:
    """Make one of the user's organizations the active one, for this session and the next
    login. Another organization's id is a 404: it does not exist for this user."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization_id=organization_id)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    session["organization_id"] = membership.organization_id
    if user.last_organization_id != membership.organization_id:
        user.last_organization = membership.organization
        user.save(update_fields=["last_organization"])
    return membership
