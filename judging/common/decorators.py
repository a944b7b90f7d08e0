"""Route decorators that check the signed-in user's role on the server."""

from functools import wraps

from flask import abort
from flask_login import current_user

from judging.common.enums import Role
from judging.extensions import login_manager


def role_required(*roles: Role | str):
    """Let only signed-in users with one of roles through; others get sign-in or 404.

    A signed-in user with the wrong role gets 404, like a missing page, so the
    answer does not reveal what exists.
    """
    wanted = {Role(r) for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in wanted:
                abort(404)
            return view(*args, **kwargs)

        #: the roles let through, for route inventories (tests build theirs from url_map)
        wrapped.required_roles = frozenset(wanted)
        return wrapped

    return decorator


organizer_required = role_required(Role.ORGANIZER)
judge_required = role_required(Role.JUDGE)
