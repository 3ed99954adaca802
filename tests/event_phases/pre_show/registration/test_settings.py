"""The organiser's registration settings."""

from __future__ import annotations

import pytest

from event_phases.pre_show import registration as reg
from exhibit_crm.errors import DomainError

# The organiser's settings.

def test_settings_open_and_close_the_form_and_check_the_badge_type(session, show):
    from exhibit_crm import audit

    actor = audit.Actor("staff", None, "admin")
    reg.update_settings(session, edition_id=show.id, registration_open=False, visitor_badge_type="public_visitor",
                        actor=actor)
    session.commit()
    session.refresh(show)
    assert not show.registration_open and show.visitor_badge_type == "public_visitor"
    with pytest.raises(DomainError) as caught:
        reg.update_settings(session, edition_id=show.id, registration_open=True, visitor_badge_type="pirate",
                            actor=actor)
    assert caught.value.code == "invalid_choice" and caught.value.field == "visitor_badge_type"
