"""Helpers views and mails share: absolute links inside and outside a request."""


def test_external_url_outside_a_request_uses_the_base_url(app):
    from fundapp.core.web import external_url

    with app.app_context():
        app.config["BASE_URL"] = "https://grants.fund.example"
        try:
            assert external_url("accounts.login") == "https://grants.fund.example/login"
        finally:
            app.config["BASE_URL"] = "http://127.0.0.1:5000"


def test_external_url_in_a_request_uses_the_request_host(app):
    from fundapp.core.web import external_url

    with app.test_request_context(base_url="https://seen.example"):
        assert external_url("accounts.login") == "https://seen.example/login"
