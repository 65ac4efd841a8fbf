"""FAB's security manager with the platform's roles added at each login (``SECURITY_MANAGER_CLASS``).

With LDAP and ``AUTH_ROLES_SYNC_AT_LOGIN`` FAB recomputes a person's roles from their directory
groups at every login (``FabAirflowSecurityManagerOverride.auth_user_ldap`` →
``_ldap_calculate_user_roles`` → ``AUTH_ROLES_MAPPING``), which would drop the personal role
``nbr-user-<name>`` a report's grant names. :class:`NbreportsSecurityManager` adds it back after
FAB's login, with the base role (``operators.fab_roles.BASE_ROLE``) for anyone who holds a role
the policy knows. ``config/webserver_config.py`` points FAB at it.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride

from nbreports.access.teams import load_teams, user_role
from operators.fab_roles import BASE_ROLE


def role_mapping(group_roles: dict[str, list[str]]) -> dict[str, list[str]]:
    """``AUTH_ROLES_MAPPING``: each directory group's roles, plus the base role for every group.

    :param group_roles: group DN → roles (``TeamsConfig.ldap_role_mapping()`` and the admins' groups).
    """
    return {
        group: [*roles, BASE_ROLE] if BASE_ROLE not in roles else list(roles) for group, roles in group_roles.items()
    }


class NbreportsSecurityManager(FabAirflowSecurityManagerOverride):
    """Adds the personal role and the base role after an LDAP login."""

    def auth_user_ldap(self, username: str, password: str, rotate_session_id: bool = True) -> Any:
        """FAB's LDAP login, then the policy's roles (see the module docstring)."""
        user = super().auth_user_ldap(username, password, rotate_session_id=rotate_session_id)
        if user is not None:
            self.add_policy_roles(user)
        return user

    def add_policy_roles(self, user: Any) -> None:
        """Give ``user`` their personal role if it exists, and the base role if they hold any policy role."""
        teams = load_teams()
        roles = list(user.roles)
        personal = self.find_role(user_role(user.username))
        if personal is not None and personal not in roles:
            roles.append(personal)
        policy = teams.all_roles() | set(teams.admin_roles)
        base = self.find_role(BASE_ROLE)
        if base is not None and base not in roles and any(r.name in policy for r in roles):
            roles.append(base)
        if len(roles) != len(user.roles):
            user.roles = roles
            self.session.merge(user)
            self.session.commit()
            self._reset_user_permissions_cache(user)
