"""Shared set-up of the web tests: the demo directory, passwords, a Purbalingga case at step 10.

The people are the demo directory's officials of Kecamatan Purbalingga (and one of
Cibatu, for refusals across units); passwords are hashed once per test run (argon2id
costs tens of milliseconds by design).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi.testclient import TestClient

from sopflow import Actor, Catalog, Engine, open_store
from sopflow.authority.demo import import_demo_staff
from sopflow.testing import FakeClock
from sopflow.web import WebSettings, create_app, hash_password

PROCESS = "purbalingga_pengukuran_kinerja"
CAMAT = "198611302010011002"
SEKCAM = "199002172015032003"
KASI = "197209091997031005"
TIM = "197812012003122004"
CIBATU_SEKCAM = "197103141998031004"
#: the Bagian Organisasi of Kabupaten Purbalingga: evaluates the SOPs of its kecamatan
ORGANISASI = "198703122011012004"
PASSWORD = "kata-sandi-uji"
#: who does the Purbalingga SOP's steps, by the role of the step's lane (steps 5, 6 and 9
#: are joint steps: each of their tasks is done by its own lane's official)
DOER = {"camat": CAMAT, "sekcam": SEKCAM, "kasi": KASI, "tim": TIM}


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Web:
    engine: Engine
    clock: FakeClock
    store: Any
    app: Any

    def client(self, nip: str | None = None, **kwargs: Any) -> TestClient:
        """A client, logged in as ``nip`` (cookie session) when given; ``.csrf`` is its token."""
        client = TestClient(self.app, **kwargs)
        client.csrf = ""  # type: ignore[attr-defined]
        if nip is not None:
            r = client.post("/api/v1/session", json={"nip": nip, "password": PASSWORD})
            assert r.status_code == 201, r.text
            client.csrf = r.json()["csrf_token"]  # type: ignore[attr-defined]
        return client

    def to_step(self, n: int, instance_id: str | None = None) -> str:
        """Start a Purbalingga case (or continue one) and work it up to step ``n``."""
        if instance_id is None:
            instance_id = self.engine.start(PROCESS, actor=Actor(CAMAT)).instance_id
        while True:
            items = self.engine.work_list(instance_id=instance_id)
            assert items, "the case ended before step n"
            item = items[0]
            if item.step_no == n:
                return instance_id
            self.clock.advance(minutes=10)
            data = {"disetujui": True} if item.form else {}
            self.engine.complete(
                instance_id, item.task_id, actor=Actor(DOER[item.role or ""]), data=data
            )


def make_web(
    settings: WebSettings | None = None, url: str = "memory://", catalog: Catalog | None = None
) -> Web:
    store = open_store(url)
    import_demo_staff(store)
    for nip in (CAMAT, SEKCAM, KASI, TIM, CIBATU_SEKCAM, ORGANISASI):
        store.set_password_hash(nip, password_hash(), 0)
    clock = FakeClock("2026-03-02T08:00:00+07:00")  # a Monday
    engine = Engine(catalog or Catalog.builtin(), store, clock=clock)
    app = create_app(engine, settings or WebSettings(failure_delay=0))
    return Web(engine, clock, store, app)


def basic(nip: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{nip}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
