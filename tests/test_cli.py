"""The `flask` commands: create-organizer, init-db and demo-sign-ins."""

import sqlalchemy as sa

from judging.auth.models import User
from judging.auth.passwords import verify_password
from judging.common.enums import Role
from judging.extensions import db


def test_create_organizer_from_stdin(runner):
    result = runner.invoke(
        args=["create-organizer", "chair", "--password-stdin"], input="a-long-passphrase\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "chair"))
    assert user.role == Role.ORGANIZER
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a-long-passphrase")


def test_create_organizer_prompts_twice(runner):
    result = runner.invoke(
        args=["create-organizer", "chair"], input="a-long-passphrase\na-long-passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_organizer_refuses_a_short_password_and_writes_nothing(runner):
    result = runner.invoke(args=["create-organizer", "chair", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 12" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_organizer_refuses_a_taken_username(runner, organizer):
    result = runner.invoke(
        args=["create-organizer", "boss", "--password-stdin"], input="a-long-passphrase\n"
    )
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_demo_sign_ins_prints_every_demo_account(runner):
    result = runner.invoke(args=["demo-sign-ins"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[0] == ["organizer", "organizer", "demo-organizer", "组委会"]
    judges = [line for line in lines if line[0] == "judge"]
    assert [line[1] for line in judges] == [f"judge{n:02d}" for n in range(1, 30)]
    assert all(line[2] == "demo-judge" and len(line) == 4 for line in judges)
    assert len(lines) == 30, "the organizer and the 29 judges, nothing else"
