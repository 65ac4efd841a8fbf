"""A real LDAP directory for the tests: Debian's ``slapd`` on a free port of 127.0.0.1.

``ldap_server`` (session scope) writes a ``slapd.conf`` into a temporary folder (mdb backend, the
``memberof`` overlay so people carry ``memberOf`` — the attribute FAB's LDAP login maps to roles
— and ``refint`` so a removed person leaves their groups), starts ``slapd`` in its own process
group, and adds the people and groups below through the LDAP protocol (the overlays only act on
protocol writes, not on ``slapadd``). Base ``dc=nbreports,dc=test``; people are
``uid=<name>,ou=people,…`` with password ``<name>-pw``; groups are
``cn=<group>,ou=groups,…`` (``groupOfNames``).

Who is where (the teams file the integration tests write names these group DNs)::

    admin  admins          alice  analytics        bob   data-eng
    paula  people (restricted team)               carol viewers (no team; named in grants)
    nora   (no group: no role)                     dave  analytics, until remove_user("dave")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ldap
import ldap.modlist
import pytest

from tests.conftest import free_port

SLAPD = Path("/usr/sbin/slapd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
BASE_DN = "dc=nbreports,dc=test"
PEOPLE_DN = f"ou=people,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
ROOT_DN = f"cn=manager,{BASE_DN}"
ROOT_PW = "manager-pw"

#: group -> members
GROUPS: dict[str, list[str]] = {
    "admins": ["admin"],
    "analytics": ["alice", "dave"],
    "data-eng": ["bob"],
    "people": ["paula"],
    "viewers": ["carol"],
}
PEOPLE = ("admin", "alice", "bob", "paula", "carol", "nora", "dave")
STARTUP_TIMEOUT = 20.0


def person_dn(name: str) -> str:
    return f"uid={name},{PEOPLE_DN}"


def group_dn(group: str) -> str:
    """The DN of a group, as the teams file names it: ``cn=<group>,ou=groups,dc=nbreports,dc=test``."""
    return f"cn={group},{GROUPS_DN}"


def password(name: str) -> str:
    return f"{name}-pw"


SLAPD_CONF = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
pidfile {folder}/slapd.pid
modulepath {modules}
moduleload back_mdb
moduleload memberof
moduleload refint

database mdb
maxsize 16777216
suffix "{base}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {folder}/data

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

overlay refint
refint_attributes member

access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


@dataclass
class LdapServer:
    """A running ``slapd``: its URL, DNs, and helpers to change the directory during a test."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]
    base_dn: str = BASE_DN
    people_dn: str = PEOPLE_DN
    groups_dn: str = GROUPS_DN
    root_dn: str = ROOT_DN
    root_pw: str = ROOT_PW
    timings: dict[str, float] = field(default_factory=dict)

    def connect(self) -> ldap.ldapobject.LDAPObject:
        """A connection bound as the directory's manager."""
        con = ldap.initialize(self.url)
        con.simple_bind_s(self.root_dn, self.root_pw)
        return con

    def add_user(self, name: str, groups: list[str] | tuple[str, ...] = ()) -> None:
        """Add a person ``uid=<name>`` (password ``<name>-pw``) and make them a member of ``groups``."""
        con = self.connect()
        try:
            entry = {
                "objectClass": [b"inetOrgPerson"],
                "uid": [name.encode()],
                "cn": [name.capitalize().encode()],
                "givenName": [name.capitalize().encode()],
                "sn": [b"Test"],
                "mail": [f"{name}@nbreports.test".encode()],
                "userPassword": [password(name).encode()],
            }
            con.add_s(person_dn(name), ldap.modlist.addModlist(entry))
            for group in groups:
                con.modify_s(group_dn(group), [(ldap.MOD_ADD, "member", [person_dn(name).encode()])])
        finally:
            con.unbind_s()

    def remove_user(self, name: str) -> None:
        """Delete a person from the directory (``refint``/``memberof`` drop them from their groups)."""
        con = self.connect()
        try:
            con.delete_s(person_dn(name))
        finally:
            con.unbind_s()

    def member_of(self, name: str) -> list[str]:
        """The group DNs the directory lists in the person's ``memberOf``."""
        con = self.connect()
        try:
            [(_, attrs)] = con.search_s(person_dn(name), ldap.SCOPE_BASE, attrlist=["memberOf"])
        finally:
            con.unbind_s()
        return sorted(v.decode() for v in attrs.get("memberOf", []))

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def _populate(server: LdapServer) -> None:
    con = server.connect()
    try:
        con.add_s(
            BASE_DN,
            ldap.modlist.addModlist(
                {"objectClass": [b"dcObject", b"organization"], "dc": [b"nbreports"], "o": [b"nb"]}
            ),
        )
        for ou in ("people", "groups"):
            con.add_s(f"ou={ou},{BASE_DN}", ldap.modlist.addModlist({"objectClass": [b"organizationalUnit"]}))
    finally:
        con.unbind_s()
    for name in PEOPLE:
        server.add_user(name)
    con = server.connect()
    try:
        for group, members in GROUPS.items():
            entry = {"objectClass": [b"groupOfNames"], "cn": [group.encode()]}
            entry["member"] = [person_dn(m).encode() for m in members]
            con.add_s(group_dn(group), ldap.modlist.addModlist(entry))
    finally:
        con.unbind_s()


@contextlib.contextmanager
def running_slapd(folder: Path) -> Iterator[LdapServer]:
    """Start ``slapd`` on a free port with the directory above; stop it (process group) on exit."""
    if not SLAPD.exists():
        raise RuntimeError(f"{SLAPD} is missing: scripts/setup-system.sh installs Debian's slapd")
    (folder / "data").mkdir(parents=True, exist_ok=True)
    conf = folder / "slapd.conf"
    conf.write_text(
        SLAPD_CONF.format(
            schema=SCHEMA_DIR, folder=folder, modules=MODULE_DIR, base=BASE_DN, rootdn=ROOT_DN, rootpw=ROOT_PW
        )
    )
    url = f"ldap://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with (folder / "slapd.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - argv fixed by the test, no untrusted input
            [str(SLAPD), "-f", str(conf), "-h", f"{url}/", "-d", "stats"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = LdapServer(url=url, folder=folder, process=process)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"slapd exited with {process.returncode}:\n{(folder / 'slapd.log').read_text()}")
            try:
                server.connect().unbind_s()
                break
            except ldap.SERVER_DOWN:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        _populate(server)
        server.timings["ready"] = time.monotonic() - started
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    """A real slapd with the people and groups of the module docstring, for the whole session."""
    folder = tmp_path_factory.mktemp("slapd")
    with running_slapd(folder) as server:
        yield server
    shutil.rmtree(folder / "data", ignore_errors=True)
