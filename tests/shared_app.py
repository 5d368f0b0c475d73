"""One app for a module's tests (building an app costs more than most tests' requests), each
test given it over a database of its own with nothing in memory kept from the last test: a new
engine, services, token cache and request-log lines, and a new client (so no cookies or session).

The app's start-up and shutdown (lifespan) run once, around the module, and /health pings the
placeholder database it was built over: a test that needs its own start-up, shutdown, settings
or clock builds its own app (the `own_*` fixtures).
"""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from api.common import Services
from api.request_log import Observed, RequestLines
from ledger.db.unit_of_work import Database
from tests.conftest import TODAY

# what the app keeps in its state between requests (api/auth.py, api/web)
KEPT = ("token_cache", "users_changed", "failed_sign_ins")


def module_app() -> Iterator[Litestar]:
    """A module fixture's body: the app over an empty placeholder, started and stopped once."""
    placeholder = Database.from_url("sqlite://")
    app = create_app(placeholder, clock=lambda: TODAY)
    with TestClient(app=app):
        yield app
    placeholder.dispose()


def client_over(app: Litestar, database: Database) -> TestClient:
    """A new client of `app`, which now serves `database` with nothing kept from before."""
    app.state.database = database
    app.state.services = Services(database, lambda: TODAY, app.state.services.label_keys)
    for name in KEPT:
        app.state.pop(name, None)
    observed = app.asgi_handler
    assert isinstance(observed, Observed)
    observed.lines = RequestLines()
    observed.under_way = 0
    return TestClient(app=app)


def wants_own_app(request) -> bool:
    """Tests that patch something (settings, modules) before their first request keep an app
    of their own, built after the patch, as before."""
    return "monkeypatch" in request.fixturenames
