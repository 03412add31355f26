"""Links that open the Vary (Region) mask editor, and which jobs are waiting for one."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, WebAppInfo

from bot.domain import Job
from bot.i18n import Translator
from bot.miniapp import region_token


@dataclass
class RegionLinks:
    """Buttons that open the editor: a Mini App in private chats, a deep link to the private chat in groups
    (Telegram allows web_app buttons only in private chats)."""

    public_url: str
    secret: str  # a key of its own (bot.credentials), never derived from a secret a backend sees
    ttl: float
    bot_username: str = ""

    def token(self, job: Job) -> str:
        return region_token(
            job.id, job.user_id, secret=self.secret, expires_at=int(job.updated_at + self.ttl)
        )

    def editor_url(self, token: str) -> str:
        return f"{self.public_url}/region/{token}"

    def button(self, job: Job, t: Translator) -> InlineKeyboardButton:
        token = self.token(job)
        if job.chat_id > 0:
            return InlineKeyboardButton(
                text=t("region-open-button"), web_app=WebAppInfo(url=self.editor_url(token))
            )
        return InlineKeyboardButton(
            text=t("region-open-private"), url=f"https://t.me/{self.bot_username}?start=r{token}"
        )
