"""Sign-in, the person's scope, sign-out, the page for people without a rule, and the audit log.

``app.py`` calls ``signed_in_scope`` before anything reads the store. Without sign-in configured
(the dashboard then only listens on loopback, ``analytics.access.check_exposure``) whoever sits
at this machine sees everything. With sign-in, a person who has not signed in sees a sign-in
button and nothing else; a signed-in person without a rule sees who they are and whom to ask,
and nothing else; anyone else gets the scope of their rules, which ``cache.choose_source`` turns
into the only data any page can read. Each page view and download is appended to the audit log
beside the store (``analytics.access.append_audit``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from analytics import (
    ALB_IDENTITY_HEADER,
    EVERYTHING,
    AccessSettings,
    IdentityRefused,
    Person,
    Scope,
    append_audit,
    grant_for,
    proxy_person,
)
from dashboard.literal import html_line, literal

_LOG = logging.getLogger(__name__)
#: Session-state keys of this module.
_PERSON, _ROLE, _SEEN, _PROXY = "auth_person", "auth_role", "auth_last_view", "auth_proxy"


@functools.cache
def settings() -> AccessSettings:
    """The checked sign-in settings the ``dashboard``/``serve`` command handed the server."""
    return AccessSettings.from_environment()


def _person(access: AccessSettings) -> Person | None:
    sign_in = access.sign_in
    assert sign_in is not None
    if sign_in.mode == "proxy":
        # The header of this session's connection, checked once: the ALB's token expires in
        # minutes, while the connection it opened, and so the session, may last all day.
        header = st.context.headers.get(ALB_IDENTITY_HEADER)
        checked = st.session_state.get(_PROXY)
        if checked is not None and checked[0] == header:
            person: Person = checked[1]
            return person
        try:
            person = proxy_person(
                header,
                st.context.ip_address or "127.0.0.1",  # Streamlit says None for loopback
                sign_in,
            )
        except IdentityRefused as exc:
            _LOG.warning("identity header refused: %s", exc)
            return None
        st.session_state[_PROXY] = (header, person)
        return person
    if not st.user.is_logged_in:
        return None
    return Person.from_claims(st.user.to_dict(), sign_in.groups_claim)


def _sign_in_page(access: AccessSettings) -> None:
    st.title("Ground Truth throughput")
    if access.sign_in is not None and access.sign_in.mode == "proxy":
        st.error(
            "This dashboard is served behind a sign-in proxy, and this request did not come "
            "through it signed in. Open the dashboard at its usual address.",
            icon=":material/lock:",
        )
        return
    st.markdown("These are per-person performance numbers: sign in to see them.")
    if st.button("Sign in", type="primary", key="auth_sign_in"):
        st.login()


def _who(person: Person) -> str:
    parts = [literal(person.label())]
    if person.name:
        parts.append(f"({literal(person.name)})")
    return " ".join(parts)


def _no_rule_page(person: Person, access: AccessSettings) -> None:
    st.title("No access yet")
    html_line(f"You are signed in as <strong>{_who(person)}</strong>.")
    groups = ", ".join(literal(g) for g in person.groups) or "none"
    html_line(f"Subject: {literal(person.subject)} · groups: {groups}", style="caption")
    html_line(
        "No access rule names you, so there is nothing to show. To get access, ask "
        f"<strong>{literal(access.ask)}</strong> to add a rule for your email or one of your "
        "groups."
    )


def _sign_out_control(person: Person, role: str, access: AccessSettings) -> None:
    with st.sidebar:
        html_line(f"Signed in as {_who(person)} · {literal(role)}", style="caption")
        oidc = access.sign_in is not None and access.sign_in.mode == "oidc"
        # Behind the proxy, signing out is the proxy's: its session cookie is not ours to end.
        if oidc and st.button("Sign out", key="auth_sign_out", icon=":material/logout:"):
            st.logout()


def signed_in_scope(store_root: str) -> Scope:
    """The scope of whoever is at the other end of this session; stops the page run (after
    drawing the sign-in or no-rule page) when they may see nothing."""
    access = settings()
    if access.sign_in is None:
        return EVERYTHING
    person = _person(access)
    if person is None:
        _sign_in_page(access)
        st.stop()
    grant = grant_for(person, access.rules)
    st.session_state[_PERSON] = person
    st.session_state[_ROLE] = grant.role if grant is not None else "none"
    _sign_out_control(person, st.session_state[_ROLE], access)
    if grant is None:
        _no_rule_page(person, access)
        if not st.session_state.get(_SEEN):
            st.session_state[_SEEN] = "no access"
            record(store_root, "view", page="no access")
        st.stop()
    return grant.scope


def record(store_root: str, action: str, **details: Any) -> None:
    """Append who did ``action`` (a view, a download) with ``details`` to the audit log, when
    people sign in; a log that cannot be written is reported in the server's output, and the
    page goes on."""
    person: Person | None = st.session_state.get(_PERSON)
    if settings().sign_in is None or person is None:
        return
    entry = {
        "who": person.label(),
        "sub": person.subject,
        "role": st.session_state.get(_ROLE),
        "action": action,
        **details,
    }
    try:
        Path(store_root).mkdir(parents=True, exist_ok=True)
        append_audit(Path(store_root), entry)
    except OSError as exc:
        _LOG.warning("could not append to the audit log in %s: %s", store_root, exc)


def record_view(store_root: str, page: str, view: Any) -> None:
    """Record a page view once per page and filters in a session (not on every rerun)."""
    seen = (page, view.key, view.private)
    if st.session_state.get(_SEEN) == seen:
        return
    st.session_state[_SEEN] = seen
    key = view.key
    record(
        store_root,
        "view",
        page=page,
        since=key.since,
        until=key.until,
        teams=list(key.workteams),
        jobs=list(key.jobs),
        private=view.private,
    )


def downloaded(what: str) -> Callable[[], None]:
    """An ``on_click`` for a download button: records the download of ``what``."""

    def on_click() -> None:
        view = st.session_state.get("view")
        source = st.session_state.get("source")
        if source is None:
            return
        record(
            source.configured_root,
            "download",
            file=what,
            since=view.key.since if view else None,
            until=view.key.until if view else None,
            teams=list(view.key.workteams) if view else [],
            jobs=list(view.key.jobs) if view else [],
            private=view.private if view else None,
        )

    return on_click
