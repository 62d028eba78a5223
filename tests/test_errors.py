"""The error hierarchy: domain code names the field, each front end words it its own way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.cli import flag_for
from pipeline.db import Store
from pipeline.errors import Conflict, GatewatchError, InvalidInput, NotFound
from pipeline.review import change_status
from pipeline.users import add_user, remove_user


def test_invalid_input_is_worded_by_the_front_end() -> None:
    error = InvalidInput("registration_id", "goes with authorize only")
    assert str(error) == "registration_id: goes with authorize only"
    assert error.worded(flag_for(error.field)) == "--registration: goes with authorize only"
    with_value = InvalidInput("older_than", "is not a duration", "5 parsecs")
    assert with_value.worded(flag_for(with_value.field)) == "--older-than '5 parsecs': is not a duration"
    assert isinstance(with_value, GatewatchError)


def test_domain_errors_say_what_kind_of_problem_they_are(tmp_path: Path) -> None:
    at = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    with Store(tmp_path / "g.db") as store:
        with pytest.raises(InvalidInput) as invalid:
            add_user(store, "li na", "long enough", "guard", at)
        assert invalid.value.field == "username"
        add_user(store, "li.na", "long enough", "guard", at)
        with pytest.raises(Conflict, match="already exists"):
            add_user(store, "li.na", "long enough", "guard", at)
        with pytest.raises(NotFound, match="no such user"):
            remove_user(store, "wang.wu")
        with pytest.raises(NotFound, match="event 7: no such event"):
            change_status(store, 7, "acknowledged", by="li.na", at=at)
        with pytest.raises(InvalidInput) as nobody:
            change_status(store, 7, "acknowledged", by=" ", at=at)
        assert nobody.value.field == "by"
