"""Settings from environment variables (prefix CRM_) or a `.env` file."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./crm.db"
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    # Region used to read phone numbers written without a country code.
    default_region: str = "CN"
    default_currency: str = "CNY"
    # Imports: read 01/05/2026 as 1 May (day first) instead of 5 January.
    import_day_first: bool = False

    telegram_token: str | None = None
    telegram_webhook_url: str | None = None
    telegram_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    # Where files are downloaded; derived from telegram_api_url (…/bot -> …/file/bot) if unset.
    telegram_file_url: str | None = None
    # For invite deep links (t.me/<bot>?start=CODE); asked of getMe when unset.
    telegram_bot_username: str | None = None

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Link an unknown Slack user to the staff member whose e-mail matches their profile.
    slack_link_by_email: bool = True

    llm_base_url: str | None = None
    llm_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("CRM_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = "gpt-4o-mini"
    # The LLM is on only when CRM_LLM_BASE_URL is set (a stray OPENAI_API_KEY turns nothing on).
    llm_transcribe_model: str = "whisper-1"
    llm_timeout: float = 30.0  # seconds per request; the client retries 408/409/429/5xx
    llm_max_retries: int = 2
    llm_redact: bool = False  # replace phones and e-mails by placeholders before sending
    llm_daily_tokens: int = 200_000  # per staff member and day; 0 = no limit
    llm_context_chars: int = 24_000  # feedback text per summary call before map-reduce
    winback_discount_percent: int = 10
    winback_discount_days: int = 30

    http_host: str = "127.0.0.1"
    http_port: int = 8080

    invite_ttl_hours: int = 72


_override: Settings | None = None


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The process settings; tests and the CLI may replace them with `override_settings`."""
    return _override if _override is not None else _from_environment()


def override_settings(settings: Settings | None) -> None:
    """Use `settings` from now on (None goes back to the environment)."""
    global _override
    _override = settings
    _from_environment.cache_clear()
