"""Staff members, teams, chat identities and invite codes."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crm_core.access import Actor, require_role
from crm_core.clock import utcnow
from crm_core.errors import InvalidInput, NotFound
from crm_core.models import Channel, InviteCode, Role, Staff, StaffIdentity, Team
from crm_core.settings import get_settings

# No 0/O/1/I: codes are read off screens and typed on phones.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


async def get_or_create_team(session: AsyncSession, name: str) -> Team:
    team = (await session.exec(select(Team).where(Team.name == name))).first()
    if team is None:
        settings = get_settings()
        team = Team(name=name, timezone=settings.timezone, language=settings.language)
        session.add(team)
        await session.flush()
    return team


async def add_staff(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    team: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
    email: str | None = None,
) -> Staff:
    """A new staff member, reachable from the console under their name."""
    settings = get_settings()
    team_row = await get_or_create_team(session, team) if team else None
    staff = Staff(
        name=name,
        role=role,
        team_id=team_row.id if team_row else None,
        language=language or (team_row.language if team_row else settings.language),
        timezone=timezone or (team_row.timezone if team_row else settings.timezone),
        email=email,
    )
    session.add(staff)
    await session.flush()
    assert staff.id is not None
    session.add(StaffIdentity(staff_id=staff.id, channel=Channel.CONSOLE, external_id=name))
    return staff


async def create_invite(session: AsyncSession, staff: Staff) -> InviteCode:
    assert staff.id is not None
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    ttl = timedelta(hours=get_settings().invite_ttl_hours)
    invite = InviteCode(code=code, staff_id=staff.id, expires_at=utcnow() + ttl)
    session.add(invite)
    return invite


async def redeem_invite(
    session: AsyncSession, *, code: str, channel: Channel, external_id: str
) -> Staff:
    """Bind a chat identity to the invited staff member. Codes are single-use and expire."""
    invite = await session.get(InviteCode, code.strip().upper())
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise InvalidInput("bad_invite")
    existing = (
        await session.exec(
            select(StaffIdentity).where(
                StaffIdentity.channel == channel, StaffIdentity.external_id == external_id
            )
        )
    ).first()
    if existing is not None:
        existing.staff_id = invite.staff_id
        session.add(existing)
    else:
        session.add(
            StaffIdentity(staff_id=invite.staff_id, channel=channel, external_id=external_id)
        )
    invite.used_at = utcnow()
    session.add(invite)
    staff = await session.get(Staff, invite.staff_id)
    assert staff is not None
    return staff


async def staff_for_identity(
    session: AsyncSession, *, channel: str, external_id: str
) -> Staff | None:
    stmt = (
        select(Staff)
        .join(StaffIdentity, col(StaffIdentity.staff_id) == col(Staff.id))
        .where(StaffIdentity.channel == channel, StaffIdentity.external_id == external_id)
        .where(col(Staff.active).is_(True))
    )
    return (await session.exec(stmt)).first()


async def find_staff(session: AsyncSession, ref: str) -> Staff:
    """A staff member by id or exact name."""
    stmt = (
        select(Staff).where(Staff.id == int(ref))
        if ref.isdigit()
        else select(Staff).where(Staff.name == ref)
    )
    staff = (await session.exec(stmt)).first()
    if staff is None:
        raise NotFound("staff_not_found", ref=ref)
    return staff


async def list_staff(session: AsyncSession) -> list[tuple[Staff, Team | None]]:
    stmt = (
        select(Staff, Team)
        .join(Team, col(Team.id) == col(Staff.team_id), isouter=True)
        .order_by(col(Staff.id))
    )
    return [(s, t) for s, t in (await session.exec(stmt)).all()]


async def link_by_email(
    session: AsyncSession, *, email: str, channel: Channel, external_id: str
) -> Staff | None:
    """Bind a chat identity to the one active staff member with this e-mail, if exactly one.

    Only for e-mails the platform has verified (a Slack workspace profile); None otherwise.
    """
    stmt = select(Staff).where(
        func.lower(col(Staff.email)) == email.strip().lower(), col(Staff.active).is_(True)
    )
    matches = (await session.exec(stmt.limit(2))).all()
    if len(matches) != 1:
        return None
    staff = matches[0]
    assert staff.id is not None
    session.add(StaffIdentity(staff_id=staff.id, channel=channel, external_id=external_id))
    return staff


async def set_digest_channel(session: AsyncSession, *, actor: Actor, channel: str) -> Team:
    """Make `channel` ("telegram:-100…", "slack:C…") the actor's team's digest channel."""
    require_role(actor, Role.MANAGER, Role.ADMIN)
    if actor.team_id is None:
        raise InvalidInput("subscribe_no_team")
    team = await session.get(Team, actor.team_id)
    assert team is not None
    team.digest_channel = channel
    session.add(team)
    return team
