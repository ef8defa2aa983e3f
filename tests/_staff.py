"""A two-kecamatan directory and an engine over Purbalingga's shipped SOP (authority tests)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ListCatalog

from sopflow.authority.io import parse_directory
from sopflow.definitions.loader import load_definition_bytes
from sopflow.definitions.model import ProcessDefinition
from sopflow.runtime.engine import Engine
from sopflow.runtime.views import Actor
from sopflow.stores.base import Store
from sopflow.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
PURBALINGGA = ROOT / "bpmn" / "purbalingga-pengukuran-kinerja.bpmn"
PBG, PACE = "33.03.05", "35.18.05"

CAMAT = "197103141998031004"
SEKCAM = "197508222002122002"
SEKCAM_NEW = "198905052014022002"
KASI = "198001152005011003"
TIM = "198304042009022001"
TIM2 = "198611302010011002"
CAMAT_PACE = "197209091997031005"
SEKCAM_PACE = "197812012003122004"

STAFF = f"""
[[unit]]
kode = "33.03"
nama = "Kabupaten Purbalingga"

[[unit]]
kode = "{PBG}"
nama = "Kecamatan Purbalingga"
induk = "33.03"

[[unit]]
kode = "{PBG}-SEKSI"
nama = "Seksi Pemerintahan"
induk = "{PBG}"

[[unit]]
kode = "35.18"
nama = "Kabupaten Nganjuk"

[[unit]]
kode = "{PACE}"
nama = "Kecamatan Pace"
induk = "35.18"

[[jabatan]]
kode = "PBG-CAMAT"
nama = "Camat Purbalingga"
unit = "{PBG}"
peran = "camat"

[[jabatan]]
kode = "PBG-SEKCAM"
nama = "Sekretaris Kecamatan Purbalingga"
unit = "{PBG}"
peran = "sekcam"

[[jabatan]]
kode = "PBG-KASI"
nama = "Kepala Seksi Pemerintahan"
unit = "{PBG}-SEKSI"
peran = "kasi"

[[jabatan]]
kode = "PBG-TIM-1"
nama = "Anggota Tim SAKIP"
unit = "{PBG}"
peran = "tim"

[[jabatan]]
kode = "PBG-TIM-2"
nama = "Anggota Tim SAKIP"
unit = "{PBG}"
peran = "tim"

[[jabatan]]
kode = "PCE-CAMAT"
nama = "Camat Pace"
unit = "{PACE}"
peran = "camat"

[[jabatan]]
kode = "PCE-SEKCAM"
nama = "Sekretaris Kecamatan Pace"
unit = "{PACE}"
peran = "sekcam"

[[pegawai]]
nip = "{CAMAT}"
nama = "Drs. Bambang Suryanto, M.Si."

[[pegawai]]
nip = "{SEKCAM}"
nama = "Siti Rahmawati, S.Sos."

[[pegawai]]
nip = "{SEKCAM_NEW}"
nama = "Fitri Handayani, S.E."

[[pegawai]]
nip = "{KASI}"
nama = "Agus Prasetyo, S.E."

[[pegawai]]
nip = "{TIM}"
nama = "Dewi Lestari, S.AP."

[[pegawai]]
nip = "{TIM2}"
nama = "Rizky Firmansyah, S.Kom."

[[pegawai]]
nip = "{CAMAT_PACE}"
nama = "Ir. Hendro Wibowo"

[[pegawai]]
nip = "{SEKCAM_PACE}"
nama = "Yuli Astuti, S.H."

[[penugasan]]
nip = "{CAMAT}"
jabatan = "PBG-CAMAT"
mulai = 2023-01-02
jenis = "definitif"
dasar = "SK Bupati 821.2/45/2023"

[[penugasan]]
nip = "{SEKCAM}"
jabatan = "PBG-SEKCAM"
mulai = 2022-03-01
selesai = 2025-08-06
jenis = "definitif"
dasar = "SK Bupati 821.2/12/2022"

[[penugasan]]
nip = "{SEKCAM_NEW}"
jabatan = "PBG-SEKCAM"
mulai = 2025-08-07
jenis = "definitif"
dasar = "SK Bupati 821.2/301/2025"

[[penugasan]]
nip = "{KASI}"
jabatan = "PBG-KASI"
mulai = 2021-01-04
jenis = "definitif"
dasar = "SK Bupati 821.2/7/2021"

[[penugasan]]
nip = "{KASI}"
jabatan = "PBG-CAMAT"
mulai = 2025-08-11
selesai = 2025-08-15
jenis = "plh"
dasar = "Sprin 800/12/2025"

[[penugasan]]
nip = "{TIM}"
jabatan = "PBG-TIM-1"
mulai = 2021-01-04
jenis = "definitif"
dasar = "SK Camat 800/3/2021"

[[penugasan]]
nip = "{TIM2}"
jabatan = "PBG-TIM-2"
mulai = 2021-01-04
jenis = "definitif"
dasar = "SK Camat 800/4/2021"

[[penugasan]]
nip = "{CAMAT_PACE}"
jabatan = "PCE-CAMAT"
mulai = 2020-01-02
selesai = 2025-08-08
jenis = "definitif"
dasar = "SK Bupati Nganjuk 821.2/9/2020"

[[penugasan]]
nip = "{SEKCAM_PACE}"
jabatan = "PCE-SEKCAM"
mulai = 2020-01-02
jenis = "definitif"
dasar = "SK Bupati Nganjuk 821.2/10/2020"

[[penugasan]]
nip = "{SEKCAM_PACE}"
jabatan = "PCE-CAMAT"
mulai = 2025-08-09
jenis = "plt"
dasar = "Sprin Bupati 800/77/2025"
"""


def purbalingga(**properties: dict[str, str]) -> ProcessDefinition:
    """The shipped SOP, with sopflow properties added (``process`` or a task id as key)."""
    xml = PURBALINGGA.read_bytes()
    for target, props in properties.items():
        extra = "".join(f'<camunda:property name="{k}" value="{v}"/>' for k, v in props.items())
        if target == "process":
            anchor = b'<camunda:property name="nama"'
        else:
            start = xml.index(f'id="{target}"'.encode())
            anchor_at = xml.index(b'<camunda:property name="no"', start)
            xml = xml[:anchor_at] + extra.encode() + xml[anchor_at:]
            continue
        xml = xml.replace(anchor, extra.encode() + anchor, 1)
    return load_definition_bytes(xml, source=str(PURBALINGGA))


def staffed_engine(store: Store, clock: FakeClock, definition: ProcessDefinition) -> Engine:
    store.import_directory(parse_directory(STAFF))  # type: ignore[attr-defined]
    return Engine(ListCatalog(definition), store, clock=clock)


def who(nip: str, *roles: str) -> Actor:
    return Actor(nip, roles)
