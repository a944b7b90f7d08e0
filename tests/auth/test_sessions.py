"""The session cookie (judging.common.sessions keeps its signing serializer between
requests): a changed secret key still takes effect at once, and its fallbacks too."""

from tests.conftest import PASSWORD, csrf_token


def test_a_new_secret_key_ends_every_session_unless_the_old_one_is_a_fallback(
    app, client, organizer
):
    data = {"username": "boss", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/sign-in", data=data).status_code == 302
    cookie = f"session={client.get_cookie('session').value}"
    reader = app.test_client(use_cookies=False)

    def signed_in() -> bool:
        page = reader.get("/", headers={"Cookie": cookie}).get_data(as_text=True)
        return "退出" in page  # the header's sign-out button

    assert signed_in()
    old = app.secret_key
    app.secret_key = "a-new-secret-key"
    assert not signed_in(), "a cookie signed with the old key is not read"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert signed_in(), "the old key as a fallback still reads it"
    app.config["SECRET_KEY_FALLBACKS"] = []
    app.secret_key = old
    assert signed_in()
