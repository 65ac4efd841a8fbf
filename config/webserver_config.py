"""FAB's configuration for nbreports (Airflow's ``[fab] config_file``, ``AIRFLOW__FAB__CONFIG_FILE``).

Flask loads this file with ``from_pyfile(..., silent=True)`` (``airflow/providers/fab/www/app.py``):
a wrong path is ignored without a word, so the demo and the tests check that a login works.

Who logs in is chosen by the environment:

- ``NBREPORTS_LDAP_URL`` set → ``AUTH_LDAP``: people bind with their directory password
  (``uid=<name>,<NBREPORTS_LDAP_PEOPLE_DN>``), FAB registers them at their first login and
  recomputes their roles from their groups at every login (``AUTH_ROLES_SYNC_AT_LOGIN``), by
  ``AUTH_ROLES_MAPPING`` = the teams file's groups (``TeamsConfig.ldap_role_mapping()``: the
  admins' groups and each team's), each with the base role ``nbr-base`` too;
  ``operators.fab_security.NbreportsSecurityManager`` adds each person's personal role.
  ``NBREPORTS_LDAP_PEOPLE_DN`` is where people are (default ``ou=people,dc=nbreports,dc=test``).
- otherwise ``AUTH_DB``: FAB's own user table (``airflow users create``), as in ``make demo``.
"""

from __future__ import annotations

import os

from flask_appbuilder.const import AUTH_DB, AUTH_LDAP

from nbreports.access.teams import load_teams
from operators.fab_security import NbreportsSecurityManager, role_mapping

WTF_CSRF_ENABLED = True
SECURITY_MANAGER_CLASS = NbreportsSecurityManager
AUTH_TYPE = AUTH_DB


if os.environ.get("NBREPORTS_LDAP_URL"):
    AUTH_TYPE = AUTH_LDAP
    AUTH_LDAP_SERVER = os.environ["NBREPORTS_LDAP_URL"]
    AUTH_LDAP_USE_TLS = False
    _PEOPLE = os.environ.get("NBREPORTS_LDAP_PEOPLE_DN", "ou=people,dc=nbreports,dc=test")
    AUTH_LDAP_USERNAME_FORMAT = f"uid=%s,{_PEOPLE}"  # direct bind: the person's own credentials
    AUTH_LDAP_SEARCH = _PEOPLE
    AUTH_LDAP_UID_FIELD = "uid"
    AUTH_LDAP_GROUP_FIELD = "memberOf"
    AUTH_USER_REGISTRATION = True
    AUTH_USER_REGISTRATION_ROLE = "Public"  # no permission: a person without a mapped group can do nothing
    AUTH_ROLES_SYNC_AT_LOGIN = True
    AUTH_ROLES_MAPPING = role_mapping(load_teams().ldap_role_mapping())
