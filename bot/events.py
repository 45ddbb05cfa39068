"""What flows between front doors and the Assistant: Incoming in, Replies out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Attachment(BaseModel):
    kind: str  # voice | photo | document
    file_id: str
    mime_type: str | None = None
    file_name: str | None = None


class Incoming(BaseModel):
    """One message or button press, already verified by its front door."""

    channel: str
    message_id: str
    sender_id: str
    chat_id: str
    is_group: bool = False
    text: str | None = None
    button: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    # Hints for people the CRM does not know yet (refusals in their language).
    sender_language: str | None = None
    sender_email: str | None = None


class Button(BaseModel):
    label: str
    payload: str


class Table(BaseModel):
    columns: list[str]
    rows: list[list[str]]


class Reply(BaseModel):
    text: str
    buttons: list[list[Button]] = Field(default_factory=list)
    table: Table | None = None
    image: bytes | None = None
    # The typed result of the action behind this reply (for --json and for adapters).
    data: dict[str, Any] | None = None
    # Set when the reply holds personal customer details: never post it in a group.
    private: bool = False
