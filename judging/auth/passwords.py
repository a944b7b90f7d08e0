"""Password hashing with Argon2id, and the check that a new password is not a guessable one."""

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the username is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(plain: str) -> str:
    """Return an Argon2id hash of plain."""
    return _hasher.hash(plain)


def verify_password(password_hash: str | None, plain: str) -> bool:
    """Whether plain matches the hash; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, plain) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


# ------------------------------------------------------------------ guessable passwords

_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
#: Look-alike characters read as the letters they stand for (p@ssw0rd is password).
_LOOK_ALIKES = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
#: Digits, symbols and spaces around a word (password1234, !!password!!, 2024password).
_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: Runs of neighbouring keys or characters: any stretch of one (or of it backwards, or
#: wrapping round) is a pattern, not a password.
_RUNS = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p",
)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _repeats_a_short_unit(text: str) -> bool:
    """aaaaaaaaaaaa, 121212121212, abcabcabcabc, passwordpassword: one unit, repeated."""
    return any(
        (text[:unit] * (len(text) // unit + 1))[: len(text)] == text
        for unit in range(1, len(text) // 2 + 1)
    )


def _is_a_run(text: str) -> bool:
    """123456789012, 987654321098, qwertyuiopas...: a stretch of a run of keys."""
    for run in _RUNS:
        around = run * (len(text) // len(run) + 2)
        if text in around or text in around[::-1]:
            return True
    return False


def is_guessable(password: str, *, avoid: tuple[str, ...] = ()) -> bool:
    """Whether a new password is too easy to guess, whatever its length: a common password
    (case and look-alike characters aside), one with digits or symbols around it, one
    character or a short unit repeated, a run of keys or digits, or one of ``avoid`` (the
    account's username and name)."""
    text = password.casefold()
    compact = "".join(text.split())
    words = {text, compact, _AROUND.sub("", text), _AROUND.sub("", compact)}
    words |= {_AROUND.sub("", w.translate(_LOOK_ALIKES)) for w in list(words)}
    words |= {w.translate(_LOOK_ALIKES) for w in list(words)}
    avoided = {a.casefold() for a in avoid if a}
    if words & (common_passwords() | avoided):
        return True
    return any(
        _repeats_a_short_unit(w) or _is_a_run(w)
        for w in (text, compact, _AROUND.sub("", text))
        if w
    )
