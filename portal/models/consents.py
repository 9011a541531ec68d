"""KVKK texts and the consents given against them: evidence that must outlive the account."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.i18n import in_reader_language
from portal.models.base import Base, BigId, bigint_pk, one_of, str255

# The information notice (aydınlatma metni) is shown; the explicit consent (açık rıza) is given.
CONSENT_TEXT_KINDS = ("kvkk_notice", "kvkk_consent")
# How a consent was given or withdrawn.
CONSENT_METHODS = ("registration_form", "account_page", "lead_form")


class ConsentText(Base):
    """consent_texts: a version of a KVKK text. Never edited: a change is a new version."""

    __tablename__ = "consent_texts"
    __table_args__ = (UniqueConstraint("kind", "version"), one_of("kind", CONSENT_TEXT_KINDS))

    id: Mapped[bigint_pk]
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str255]
    body: Mapped[str] = mapped_column(Text)  # Turkish: the binding text, the one consented to
    body_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    # An English translation for English readers (None: not translated, the Turkish is shown).
    title_en: Mapped[str | None] = mapped_column(String(255))
    body_en: Mapped[str | None] = mapped_column(Text)

    @property
    def display_title(self) -> str:
        return in_reader_language(self.title, self.title_en)

    @property
    def display_body(self) -> str:
        return in_reader_language(self.body, self.body_en)

    @property
    def shown_in_translation(self) -> bool:
        """True when the reader gets the English text, so the page must say which one binds."""
        return self.display_body is not self.body


class UserConsent(Base):
    """user_consents: one explicit consent, with the exact text, when, from where and how.

    Kept when the account is deleted (the user row stays, anonymised), because the consent
    is the evidence that processing before then was lawful.
    """

    __tablename__ = "user_consents"
    __table_args__ = (
        one_of("method", CONSENT_METHODS),
        one_of("withdrawn_method", CONSENT_METHODS),
    )

    id: Mapped[bigint_pk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    consent_text_id: Mapped[int] = mapped_column(BigId, ForeignKey("consent_texts.id"), index=True)
    text_sha256: Mapped[str] = mapped_column(String(64))  # of the text as it was shown
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    method: Mapped[str] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_method: Mapped[str | None] = mapped_column(String(32))

    consent_text: Mapped[ConsentText] = relationship(lazy="joined")
