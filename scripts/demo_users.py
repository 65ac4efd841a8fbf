"""The demo's people in FAB's own user table (AUTH_DB), idempotently; prints their logins.

Run by ``scripts/demo.sh`` after ``airflow db migrate`` and ``python -m operators.fab_roles``,
with the demo's Airflow environment; the logins go to the file named by the first argument
(else stdout). Each person gets the base role ``nbr-base``, their team's
roles from the teams file and their personal role ``nbr-user-<name>`` when the teams file knows
them; the password is ``<name>-pw``. An existing person keeps their password; their roles are reset.
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow.providers.fab.www.security_appless import ApplessAirflowSecurityManager
from airflow.utils.session import create_session
from werkzeug.security import generate_password_hash

from nbreports.access.teams import load_teams, user_role
from operators.fab_roles import BASE_ROLE

#: name -> (what they are, team or None, extra roles)
PEOPLE: dict[str, tuple[str, str | None, list[str]]] = {
    "admin": ("administrator (every report)", None, ["Admin"]),
    "alice": ("analytics team", "analytics", []),
    "bob": ("data-eng team", "data-eng", []),
    "paula": ("people team (restricted: HR data)", "people", []),
    "carol": ("in no team; reports may share with her by name", None, []),
}


def main() -> None:
    """Create or update the demo people and print their logins."""
    teams = load_teams()
    with create_session() as session:
        sm = ApplessAirflowSecurityManager(session=session)
        sm.find_role("Admin") or sm.add_role("Admin")  # the API server fills it with every permission
        for name, (_, team, extra) in PEOPLE.items():
            names = [BASE_ROLE, *extra, *(teams.teams[team].roles if team else [])]
            if name in teams.users:
                names.append(user_role(name))
            roles = [r for r in (sm.find_role(n) for n in names) if r is not None]
            user = sm.find_user(username=name)
            if user is None:
                sm.add_user(
                    username=name,
                    first_name=name.capitalize(),
                    last_name="Demo",
                    email=f"{name}@nbreports.demo",
                    role=roles,
                    hashed_password=generate_password_hash(f"{name}-pw"),
                )
            else:
                user.roles = roles
                session.merge(user)
                session.commit()
    logins = [f"{name} / {name}-pw" for name in PEOPLE]
    width = max(map(len, logins))
    whats = [what for what, _, _ in PEOPLE.values()]
    text = "".join(f"    {login:<{width}}   {what}\n" for login, what in zip(logins, whats, strict=True))
    if len(sys.argv) > 1:  # Airflow's logging writes to stdout too: the logins go to their own file
        Path(sys.argv[1]).write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
