from tests.conftest import login, post_form
from tests.factories import make_applicant, make_user
from fundapp.core.permissions import Role


def test_home_and_login(client, db):
    assert client.get("/").status_code == 200
    user = make_applicant()
    db.session.commit()
    login(client, user)
    r = client.get("/")
    assert "Welcome" in r.get_data(as_text=True), r.get_data(as_text=True)
    admin = make_user(roles=[Role.ADMIN])
    db.session.commit()
