"""Shared fixtures: the page, components in groups, API tokens. Tests run on SQLite by default and on
PostgreSQL when DATABASE_URL points there (pytest-django creates a fresh test database per run)."""

import pytest

from signalpost.accounts.tokens import create_token
from signalpost.status import services
from tests.browsing import browser, open_reader, site  # noqa: F401 - fixtures for the browser tests


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list) -> None:
    """Browser tests last: the shared browser lifts Django's async-safety check once it starts (see
    tests/browsing.py), and no other test may run after that."""
    items[:] = [i for i in items if i.get_closest_marker("browser") is None] + [
        i for i in items if i.get_closest_marker("browser") is not None]


@pytest.fixture(scope="session", autouse=True)
def wake_listener_closed(django_db_setup):
    """The test process may start a listener for wake-ups (a worker run in the test): it holds a database
    connection of its own, closed before the test database is dropped."""
    yield
    from signalpost.events import wake

    wake.stop_listening()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, settings):
    """Each test gets its own data directory (snapshot files on disk)."""
    settings.DATA_DIR = tmp_path
    settings.SNAPSHOT_DIR = tmp_path / "snapshot"
    return tmp_path


@pytest.fixture
def page(db):
    return services.update_page(name="Example Status", url="https://status.example.com", time_zone="Europe/Zurich")


@pytest.fixture
def components(page):
    """Two regions with two components each, and an ungrouped third-party component."""
    switzerland = services.create_group(name="Switzerland")
    germany = services.create_group(name="Germany")
    return {
        "zh1": services.create_component(name="zh1.single", group=switzerland),
        "zh2": services.create_component(name="zh2.cluster", group=switzerland),
        "de1": services.create_component(name="de1.compact", group=germany),
        "de2": services.create_component(name="de2.compact", group=germany),
        "mail": services.create_component(name="Mail delivery", third_party=True),
    }


@pytest.fixture
def make_token(db):
    def make(scope: str = "write", name: str = "test") -> str:
        return create_token(name, scope)[1]

    return make


@pytest.fixture
def api(client, make_token):
    """A Django test client that sends a write-scoped bearer token."""
    token = make_token("admin")

    class Api:
        def __init__(self):
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path, **kw):
            return client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def post(self, path, data=None, **kw):
            return client.post(path, data, content_type="application/json",
                               headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def patch(self, path, data=None, **kw):
            return client.patch(path, data, content_type="application/json",
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)

    return Api()


@pytest.fixture
def start_server(transactional_db, tmp_path):
    """Start real `signalpost web` processes on the test database, and beside the first one a
    `signalpost worker` (as `signalpost run` does), so that writes are published; all are stopped
    after the test. `worker=False` starts the web server alone."""
    from tests.servers import ServerProcess, WorkerProcess

    started = []

    def start(name: str = "web", data_dir=None, worker: bool = True, ready: str | None = "/api/v2/status.json",
              **env) -> ServerProcess:
        directory = data_dir or tmp_path / f"server-{name}-{len(started)}"
        directory.mkdir(exist_ok=True)
        if worker and not any(isinstance(p, WorkerProcess) for p in started):
            worker_dir = tmp_path / f"worker-{name}"
            worker_dir.mkdir(exist_ok=True)
            started.append(WorkerProcess(worker_dir, [], env).start())
        server = ServerProcess(directory, env)
        started.append(server)
        return server.start(ready=ready)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real `signalpost worker` processes on the test database; all are stopped after the test."""
    from tests.servers import WorkerProcess

    started = []

    def start(*only: str, name: str = "worker", **env) -> WorkerProcess:
        directory = tmp_path / f"{name}-{len(started)}"
        directory.mkdir(exist_ok=True)
        worker = WorkerProcess(directory, list(only), env)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
