"""All tables; importing this package registers them on SQLModel.metadata."""

from crm_core.models.audit import AuditEntry
from crm_core.models.customer import Customer, CustomerSearchKey, CustomerShare, SearchKind, Stage
from crm_core.models.draft import (
    DiscountCode,
    DiscountStatus,
    DraftStatus,
    MessageDraft,
)
from crm_core.models.feedback import Feedback, FeedbackKind, FeedbackStatus
from crm_core.models.importing import ImportedRow, ImportJob, ImportStatus
from crm_core.models.inbox import ConversationState, InboxMessage, InboxStatus
from crm_core.models.interaction import Interaction, InteractionKind
from crm_core.models.llm import LlmToolCall, LlmUsage
from crm_core.models.order import Order, OrderItem, PaymentStatus, Product
from crm_core.models.reminder import DeliveryState, Reminder, ReminderSource, ReminderStatus
from crm_core.models.report_indexes import REPORT_INDEXES
from crm_core.models.report_pin import Cadence, ReportPin
from crm_core.models.schedule import ScheduledRun
from crm_core.models.segment import Segment
from crm_core.models.staff import Channel, InviteCode, Role, Staff, StaffIdentity, Team

__all__ = [
    "DiscountCode",
    "DiscountStatus",
    "DraftStatus",
    "LlmToolCall",
    "LlmUsage",
    "MessageDraft",
    "AuditEntry",
    "Cadence",
    "Channel",
    "ConversationState",
    "Customer",
    "CustomerSearchKey",
    "CustomerShare",
    "DeliveryState",
    "Feedback",
    "FeedbackKind",
    "FeedbackStatus",
    "ImportJob",
    "ImportStatus",
    "ImportedRow",
    "InboxMessage",
    "InboxStatus",
    "Interaction",
    "InteractionKind",
    "InviteCode",
    "Order",
    "OrderItem",
    "PaymentStatus",
    "Product",
    "REPORT_INDEXES",
    "Reminder",
    "ReminderSource",
    "ReminderStatus",
    "ReportPin",
    "Role",
    "ScheduledRun",
    "SearchKind",
    "Segment",
    "Staff",
    "StaffIdentity",
    "Stage",
    "Team",
]
