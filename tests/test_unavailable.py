"""A database that cannot be reached answers 503 with Retry-After, never a 500."""

from __future__ import annotations

import pytest

from judging import TestingConfig, create_app
from judging.extensions import db


@pytest.mark.parametrize("path", ["/", "/results/any-contest", "/api/v1/contests", "/screen/x"])
def test_an_unreachable_database_is_a_503_with_retry_after(path):
    config = TestingConfig()
    # Nothing listens on port 1: every connection is refused at once.
    config.SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_app(config)
    try:
        answer = app.test_client().get(path)
    finally:
        with app.app_context():
            db.engine.dispose()  # stops the version listener retrying in the background
    assert answer.status_code == 503, answer.get_data(as_text=True)[:300]
    assert answer.headers["Retry-After"] == "5"
