"""Running Core statements (multi-column selects, bulk updates) on a session's connection.

SQLModel's AsyncSession.execute warns that ORM users want exec(); these statements return
plain rows, so they go to the session's connection, inside the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Result
from sqlalchemy.ext.asyncio import AsyncResult
from sqlmodel.ext.asyncio.session import AsyncSession


async def execute(session: AsyncSession, statement: Executable, params: Any = None) -> Result[Any]:
    connection = await session.connection()
    return await connection.execute(statement, params)


async def stream(session: AsyncSession, statement: Executable) -> AsyncResult[Any]:
    connection = await session.connection()
    return await connection.stream(statement)
