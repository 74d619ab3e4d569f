"""Workspace members and invitations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.identity.schemas import InvitationRead
from bizosaas.identity.web.deps import (
    ROLE_LABELS,
    InvitationReader,
    InvitationWriter,
    MemberReader,
    MemberWriter,
)
from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.kit.tenancy import TenantScope
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.forms import Form
from bizosaas.web.session import Viewer
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/app", route_class=WebRoute)
ROLE_OPTIONS = list(ROLE_LABELS.items())


# -- members ---------------------------------------------------------------------------------


@router.get("/members")
async def members(request: Request, viewer: MemberReader, session: WorkspaceSession) -> Response:
    rows = await identity.list_members(session, scope=workspace_scope(viewer))
    context = {
        "title": "Members",
        "lead": f"Everyone with access to {viewer.tenant_name}.",
        "members": rows,
        "can_manage": viewer.can("identity.member:write"),
        "role_options": ROLE_OPTIONS,
        "live": "identity.member_joined",
        "role_labels": ROLE_LABELS,
    }
    return page(request, WebApp.workspace, viewer, "identity/workspace/members.html", context)


@router.post("/members/{user_id}/role")
async def change_role(
    request: Request,
    user_id: uuid.UUID,
    viewer: MemberWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    role = form.choice("role", ROLE_LABELS, "Choose one of the roles.")
    if not form.ok:
        flash(request, "Choose one of the roles.", "error")
        return redirect(request, "/app/members")
    changed = identity.change_member_role(
        session,
        identity=identity_context,
        scope=workspace_scope(viewer),
        actor=viewer.principal,
        user_id=user_id,
        role=role,
    )
    return await act_and_redirect(
        request,
        session,
        changed,
        done=lambda member: f"{member.email} is now {ROLE_LABELS[role]}.",
        to="/app/members",
    )


@router.post("/members/{user_id}/remove")
async def remove_member(
    request: Request,
    user_id: uuid.UUID,
    viewer: MemberWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    removed = identity.remove_member(
        session,
        identity=identity_context,
        scope=workspace_scope(viewer),
        actor=viewer.principal,
        user_id=user_id,
    )
    return await act_and_redirect(
        request,
        session,
        removed,
        done=lambda _: "The member was removed and signed out of this workspace.",
        to="/app/members",
    )


# -- invitations -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenInvitations:
    """The workspace's invitations neither accepted nor revoked: `pending` ones can still be
    accepted, `expired` ones are past their expiry and their links no longer work."""

    pending: list[InvitationRead]
    expired: list[InvitationRead]


async def open_invitations(session: AsyncSession, scope: TenantScope) -> OpenInvitations:
    """Identity lists every invitation ever sent with its status (the rule accepting one
    checks); the page shows the pending and the expired ones."""
    rows = [(row.status, row) for row in await identity.list_invitations(session, scope=scope)]
    return OpenInvitations(
        pending=[row for status, row in rows if status == "pending"],
        expired=[row for status, row in rows if status == "expired"],
    )


async def _invitations_page(
    request: Request,
    viewer: Viewer,
    session: WorkspaceSession,
    form: Form | None = None,
) -> Response:
    scope = workspace_scope(viewer)
    rows = await open_invitations(session, scope)
    context = {
        "title": "Invitations",
        "lead": "Invite people to this workspace by e-mail.",
        "invitations": rows.pending,
        "expired_invitations": rows.expired,
        "can_invite": viewer.can("identity.invitation:write"),
        "may_send": await identity.tenant_may_send(session, scope=scope),
        "role_options": ROLE_OPTIONS,
        "errors": form.errors if form else {},
        "values": form.safe_values() if form else {"role": "staff"},
        "role_labels": ROLE_LABELS,
    }
    status = 422 if form and form.errors else 200
    return page(
        request,
        WebApp.workspace,
        viewer,
        "identity/workspace/invitations.html",
        context,
        status=status,
    )


@router.get("/invitations")
async def invitations(
    request: Request, viewer: InvitationReader, session: WorkspaceSession
) -> Response:
    return await _invitations_page(request, viewer, session)


@router.post("/invitations")
async def invite(
    request: Request,
    viewer: InvitationWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    email = form.email()
    role = form.choice("role", ROLE_LABELS, "Choose one of the roles.")
    if form.ok:
        try:
            await identity.create_invitation(
                session,
                identity=identity_context,
                scope=workspace_scope(viewer),
                actor=viewer.principal,
                email=email,
                role=role,
            )
        except Problem as problem:
            await session.rollback()
            form.fail(
                problem,
                {"identity.already_member": "email", "identity.permission_not_held": "role"},
            )
        else:
            flash(request, f"Invitation sent to {email}.")
            return redirect(request, "/app/invitations")
    return await _invitations_page(request, viewer, session, form)


@router.post("/invitations/{invitation_id}/revoke")
async def revoke_invitation(
    request: Request, invitation_id: uuid.UUID, viewer: InvitationWriter, session: WorkspaceSession
) -> Response:
    await read_form(request)
    revoked = identity.revoke_invitation(
        session,
        scope=workspace_scope(viewer),
        actor=viewer.principal,
        invitation_id=invitation_id,
    )
    return await act_and_redirect(
        request,
        session,
        revoked,
        done=lambda _: "The invitation was revoked; its link no longer works.",
        to="/app/invitations",
    )


@router.post("/invitations/{invitation_id}/resend")
async def resend_invitation(
    request: Request,
    invitation_id: uuid.UUID,
    viewer: InvitationWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    """Mail a fresh invitation to the address and role of an expired one; identity revokes the
    expired one as the new one replaces it."""
    await read_form(request)
    scope = workspace_scope(viewer)
    expired = (await open_invitations(session, scope)).expired
    old = next((row for row in expired if row.id == invitation_id), None)
    if old is None:
        flash(request, "Only an expired, unanswered invitation can be sent again.", "error")
        return redirect(request, "/app/invitations")
    resent = identity.create_invitation(
        session,
        identity=identity_context,
        scope=scope,
        actor=viewer.principal,
        email=old.email,
        role=old.role,
    )
    return await act_and_redirect(
        request,
        session,
        resent,
        done=lambda invitation: f"A new invitation was sent to {invitation.email}.",
        to="/app/invitations",
    )
