"""Issue 16, item 2: a new password has at least 12 characters and is not a common one
(judging/auth/common_passwords.txt, with digits or symbols around it, case and look-alike
characters aside) nor a pattern (one character or a short unit repeated, a run of keys or
digits) nor the account's own username. Stored passwords are not checked again."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging.auth.models import User
from judging.auth.passwords import common_passwords, is_guessable, verify_password
from judging.auth.services import MIN_PASSWORD_LENGTH
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import create_contest, create_judge, create_user, csrf_token, database_state


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password",
        "password1234",
        "PASSWORD1234",
        "Password!2026",
        "p@ssw0rd1234",
        "2026password",
        "iloveyou1314",
        "woaini520520",
        "qwertyuiop12",
        "1qaz2wsx3edc",
        "123456789012",
        "987654321098",
        "aaaaaaaaaaaa",
        "abcabcabcabc",
        "121212121212",
        "abcdefghijkl",
        "admin123456789",
        "pass word 1234",
    ],
)
def test_guessable_passwords(password):
    assert is_guessable(password)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "temporary words 7",
        "a-long-passphrase",
        "Tr0ub4dor&3-staple",
        "839201746351",
        "评委的密码很长很长",
        "my-own-pass-2026",
    ],
)
def test_passwords_that_are_fine(password):
    assert not is_guessable(password)


def test_the_username_and_name_are_not_passwords():
    assert is_guessable("judge-anna-2026", avoid=("judge-anna",))
    assert is_guessable("Wang Fang 1988", avoid=("judge07", "wang fang"))
    assert not is_guessable("judge-anna-2026", avoid=("someone-else",))


def test_the_list_is_shipped_and_lower_case():
    words = common_passwords()
    assert len(words) >= 300
    assert {"123456", "password", "qwerty", "iloveyou", "woaini", "5201314"} <= words
    assert all(word == word.casefold() and word.strip() == word for word in words)


def test_the_minimum_length_is_twelve():
    assert MIN_PASSWORD_LENGTH == 12


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "between 12 and 256 characters"),
        ("password", "between 12 and 256 characters"),
        ("password1234", "Too common or too easy to guess"),
        ("qwertyuiop123", "Too common or too easy to guess"),
    ],
)
def test_a_weak_temporary_password_for_a_judge_is_refused_naming_its_field(
    organizer_client, password, message
):
    organizer_client.set_cookie("lang", "en")
    judge = create_judge(create_contest("c1"), create_user("judge-a", role=Role.JUDGE))
    db.session.commit()
    url = f"/contests/c1/judges/{judge.id}"
    token = csrf_token(organizer_client, url)
    before = database_state()
    response = organizer_client.post(
        f"{url}/password", data={"password": password, "csrf_token": token}
    )
    assert response.status_code == 400
    (error,) = _errors(response)
    assert error.startswith("Temporary password:") and message in error, error
    assert database_state() == before


def test_create_organizer_refuses_a_common_password(runner, app):
    result = runner.invoke(
        args=["create-organizer", "chair", "--password-stdin"], input="password1234\n"
    )
    assert result.exit_code != 0
    assert "too common" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_stored_short_password_still_signs_in(client, app):
    """The rule is for new passwords: an account whose password predates it signs in."""
    user = create_user("old-timer", role=Role.JUDGE, password="short1")
    db.session.commit()
    assert verify_password(user.password_hash, "short1")
    data = {"username": "old-timer", "password": "short1", "csrf_token": csrf_token(client)}
    assert client.post("/sign-in", data=data).status_code == 302
