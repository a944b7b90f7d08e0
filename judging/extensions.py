"""Flask extensions, created unbound and initialised in create_app."""

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
    """Exempt every view of a blueprint from rate limits, and let its requests leave the
    limiter's hooks at their first check (``limiter.exempt`` alone lets each request
    resolve every limit first: a tenth of a judge's submission, bench/scoring_profile.py)."""
    limiter.exempt(blueprint)
    _unlimited.add(blueprint.name)
    return blueprint


@limiter.request_filter
def _in_unlimited_blueprint() -> bool:
    return request.blueprint in _unlimited
