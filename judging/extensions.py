"""Flask extensions, created unbound and initialised in create_app."""

from functools import wraps

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
#: Blueprints of which no view is rate-limited (``unlimited``).
_unlimited: set[str] = set()


def unlimited(blueprint):
    """Exempt every view of a blueprint from rate limits; its requests skip the limiter's
    check altogether (``init_limiter``)."""
    limiter.exempt(blueprint)
    _unlimited.add(blueprint.name)
    return blueprint


@limiter.request_filter
def _in_unlimited_blueprint() -> bool:
    # Exempts early where the check below still runs (a Flask-Limiter that names its
    # hook otherwise): the check then stops after resolving the endpoint.
    return request.blueprint in _unlimited


def init_limiter(app) -> None:
    """Bind the limiter to the app; requests of ``unlimited`` blueprints skip its check.

    Flask-Limiter's ``before_request`` check resolves the endpoint's limits and exemption
    scopes even for an exempt blueprint (about 140 Python calls: 3% of a judge's
    submission, bench/scoring_profile.py); for a blueprint with no limit at all there is
    nothing to check.
    """
    limiter.init_app(app)
    hooks = app.before_request_funcs.get(None, [])
    for i, hook in enumerate(hooks):
        if hook == limiter._check_request_limit:
            hooks[i] = _unless_unlimited(hook)


def _unless_unlimited(check):
    @wraps(check)
    def check_limits():
        if request.blueprint not in _unlimited:
            return check()
        return None

    return check_limits
