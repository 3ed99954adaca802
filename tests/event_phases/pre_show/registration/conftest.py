from __future__ import annotations

import pytest

from exhibit_crm.models import Edition
from tests import factories

from .support import add_questions


@pytest.fixture
def show(session) -> Edition:
    return add_questions(session, factories.edition(session))
