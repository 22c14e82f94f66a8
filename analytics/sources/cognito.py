"""Worker identities from Amazon Cognito: ListUsers per user pool, ListUsersInGroup per team.

A worker-activity event names its worker by ``cognito_sub_id``; the pool's ``sub`` attribute joins
it to a username, email and name. ListUsers is used rather than AdminGetUser, which counts toward
the pool's billed monthly active users. A sub seen in events but absent from the pool belongs to a
user deleted since: it gets a row with status ``schema.UNKNOWN_USER_STATUS``, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from analytics.aws import converting_errors
from analytics.sources._convert import as_utc, table_from_rows
from analytics.store import schema
from analytics.store.schema import UNKNOWN_USER_STATUS

#: ListUsers and ListUsersInGroup return at most 60 users a page.
PAGE_SIZE = 60


def _attributes(user: Mapping[str, Any]) -> dict[str, str]:
    # ListUsers says "Attributes", AdminGetUser says "UserAttributes".
    pairs = user.get("Attributes") or user.get("UserAttributes") or []
    return {str(a["Name"]): str(a.get("Value", "")) for a in pairs}


def _user_row(user_pool_id: str, user: Mapping[str, Any]) -> dict[str, Any] | None:
    attributes = _attributes(user)
    sub = attributes.get("sub")
    if not sub:
        return None
    return {
        "user_pool_id": user_pool_id,
        "sub": sub,
        "username": user.get("Username"),
        "email": attributes.get("email"),
        "name": attributes.get("name")
        or " ".join(
            part for part in (attributes.get("given_name"), attributes.get("family_name")) if part
        )
        or None,
        "status": user.get("UserStatus"),
        "enabled": user.get("Enabled"),
        "created": as_utc(user.get("UserCreateDate")),
        "last_modified": as_utc(user.get("UserLastModifiedDate")),
    }


# --------------------------------------------------------------------------- transforms
def users_from_pages(user_pool_id: str, pages: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows of the users table from ListUsers pages of pool ``user_pool_id``.

    Users without a ``sub`` attribute (never the case in a real pool) are skipped.
    """
    rows = [
        row
        for page in pages
        for user in page.get("Users", [])
        if (row := _user_row(user_pool_id, user)) is not None
    ]
    return table_from_rows(rows, schema.USERS)


def unknown_users(user_pool_id: str, subs_seen: Iterable[str], users: pa.Table) -> pa.Table:
    """Rows marking the subs seen in worker activity that pool ``user_pool_id`` does not have.

    Parameters
    ----------
    user_pool_id
        The pool that was listed completely.
    subs_seen
        The ``cognito_sub_id`` values of the events from that pool.
    users
        The pool's users as listed (users table rows; other pools' rows are ignored).
    """
    known = {
        sub
        for pool, sub in zip(
            users.column("user_pool_id").to_pylist(), users.column("sub").to_pylist(), strict=True
        )
        if pool == user_pool_id
    }
    rows = [
        {"user_pool_id": user_pool_id, "sub": sub, "status": UNKNOWN_USER_STATUS}
        for sub in sorted(set(subs_seen) - known)
        if sub
    ]
    return table_from_rows(rows, schema.USERS)


def memberships_from_pages(
    workteam_name: str,
    workteam_arn: str,
    user_pool_id: str,
    user_group: str,
    pages: Iterable[Mapping[str, Any]],
) -> pa.Table:
    """Rows of the memberships table from ListUsersInGroup pages of one team's Cognito group."""
    rows = []
    for page in pages:
        for user in page.get("Users", []):
            row = _user_row(user_pool_id, user)
            if row is None:
                continue
            rows.append(
                {
                    "workteam_name": workteam_name,
                    "workteam_arn": workteam_arn,
                    "user_pool_id": user_pool_id,
                    "user_group": user_group,
                    "sub": row["sub"],
                    "username": row["username"],
                    "email": row["email"],
                }
            )
    return table_from_rows(rows, schema.MEMBERSHIPS)


# --------------------------------------------------------------------------- fetch
def list_user_pages(client: Any, user_pool_id: str) -> list[dict[str, Any]]:
    """Every ListUsers page of pool ``user_pool_id`` (60 users a page)."""
    with converting_errors(client, f"the users of Cognito user pool {user_pool_id}"):
        paginator = client.get_paginator("list_users")
        return list(
            paginator.paginate(UserPoolId=user_pool_id, PaginationConfig={"PageSize": PAGE_SIZE})
        )


def list_group_member_pages(
    client: Any, user_pool_id: str, user_group: str
) -> list[dict[str, Any]]:
    """Every ListUsersInGroup page of group ``user_group`` in pool ``user_pool_id``."""
    with converting_errors(
        client, f"the members of Cognito group {user_group} in user pool {user_pool_id}"
    ):
        paginator = client.get_paginator("list_users_in_group")
        return list(
            paginator.paginate(
                UserPoolId=user_pool_id,
                GroupName=user_group,
                PaginationConfig={"PageSize": PAGE_SIZE},
            )
        )
