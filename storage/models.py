"""Typed SQLAlchemy models. Integrity lives in the database: keys, uniques and checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ITEM_KINDS = ("poll", "multi", "scale", "ask", "rating", "clause", "statements")
CONSULTATION_STATUSES = ("draft", "open", "closed", "superseded")
ANSWER_STATUSES = ("visible", "held", "hidden")
ROLES = ("policy", "moderator", "admin")
DASHBOARD_ROLES = ("admin", "policy", "moderator")
#: Partial-index predicates; upserts must repeat them word for word (SQLite matches the text).
SINGLE_CHOICE_WHERE = "NOT multi"
PENDING_REFRESH_WHERE = "status = 'pending' AND op = 'refresh'"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Consultation(Base):
    """Several items in order, loaded from a consultation file (docs/consultations.md).

    Loading again with ``--new-version`` keeps the old rows as ``superseded`` and adds the
    next ``version`` under the same slug.
    """

    __tablename__ = "consultations"
    __table_args__ = (
        UniqueConstraint("slug", "version", name="uq_consultations_slug_version"),
        CheckConstraint(_in("status", CONSULTATION_STATUSES), name="status"),
        CheckConstraint(_in("moderation", ("strict", "lazy")), name="moderation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    slug: Mapped[str | None] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(12), default="draft", server_default="draft")
    introduction: Mapped[str] = mapped_column(Text, default="", server_default="")
    privacy: Mapped[str] = mapped_column(Text, default="", server_default="")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    topics: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    moderation: Mapped[str] = mapped_column(String(10), default="strict", server_default="strict")
    #: The file it was loaded from, for the record (never read back).
    source: Mapped[str | None] = mapped_column(String(500))
    #: "About you" questions asked once per person before the items (services/profile.py):
    #: each ``{"key", "question", "options"}``; empty: none asked.
    profile: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    #: The Welsh, when the file gives it (issue 18): Welsh readers see it.
    title_cy: Mapped[str | None] = mapped_column(String(300))
    introduction_cy: Mapped[str | None] = mapped_column(Text)
    privacy_cy: Mapped[str | None] = mapped_column(Text)


class Item(Base):
    """A poll, multi-choice poll, 5-point scale or open question; in a consultation also a
    rating (Improve / Keep as is / Scrap, then an optional "why") or a clause (a stance, then an
    optional comment). Those two hold their fixed options as options and the text as answers."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        CheckConstraint(_in("status", ("open", "closed")), name="status"),
        CheckConstraint(_in("results_visibility", ("live", "closed")), name="results_visibility"),
        CheckConstraint("length(question) BETWEEN 1 AND 300", name="question_length"),
        CheckConstraint(_in("moderation", ("strict", "lazy")), name="moderation"),
        Index("ix_items_open_deadline", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_id: Mapped[str] = mapped_column(String(12), unique=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(10))
    question: Mapped[str] = mapped_column(String(300))
    #: The question in Welsh, when the item has it (issue 18): Welsh readers see it.
    question_cy: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="open")
    results_visibility: Mapped[str] = mapped_column(String(10), default="live")
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))  # staff subject, e.g. "slack:U123"
    #: strict: flagged answers are held until a moderator decides; lazy: shown, then reviewed.
    moderation: Mapped[str] = mapped_column(String(10), default="strict", server_default="strict")
    #: Tell an author when a moderator hides their answer.
    notify_authors: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: In a consultation: the item's place (1, 2, ...); a clause's number, title and text; a
    #: regulation's title and summary (rating items). None outside consultations.
    position: Mapped[int | None] = mapped_column(Integer)
    clause_number: Mapped[str | None] = mapped_column(String(20))
    clause_title: Mapped[str | None] = mapped_column(String(300))
    clause_text: Mapped[str | None] = mapped_column(Text)
    regulation_title: Mapped[str | None] = mapped_column(String(300))
    regulation_summary: Mapped[str | None] = mapped_column(Text)
    #: Their Welsh, when the consultation file gives it (issue 18).
    clause_title_cy: Mapped[str | None] = mapped_column(String(300))
    clause_text_cy: Mapped[str | None] = mapped_column(Text)
    regulation_summary_cy: Mapped[str | None] = mapped_column(Text)
    #: "About you" questions asked just before it (services/profile.py), as on a consultation.
    profile: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    options: Mapped[list[Option]] = relationship(
        back_populates="item", order_by="Option.position", lazy="selectin"
    )

    @property
    def is_choice(self) -> bool:
        return self.kind not in ("ask", "statements")


class Option(Base):
    __tablename__ = "options"
    __table_args__ = (
        UniqueConstraint("item_id", "position", name="uq_options_item_position"),
        CheckConstraint("position BETWEEN 1 AND 10", name="position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    #: The option in Welsh (issue 18); votes count once, whichever language was read.
    label_cy: Mapped[str | None] = mapped_column(String(200))

    item: Mapped[Item] = relationship(back_populates="options")


class Publication(Base):
    """Which channel on which platform shows which item, with the platform's message id."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_lookup", "platform", "channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(String(100))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))  # set once delivered
    #: What the platform calls the channel ("#consultations"), asked once delivered; None
    #: when the platform could not say (the dashboard then shows the id).
    channel_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Published in a private chat with the bot: never offered as a channel to publish to.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Participant(Base):
    """A pseudonymous person on one platform."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256 hex
    platform: Mapped[str] = mapped_column(String(20))
    #: Raw platform id, kept only to message the person back; erased with them.
    platform_user_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the person agreed to the privacy notice (nothing is stored for them before).
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The language the person chose (``language cy``); empty: their platform's, else the
    #: instance default (``TOWNHALL_DEFAULT_LANGUAGE``).
    language: Mapped[str | None] = mapped_column(String(8))


class Vote(Base):
    """A vote on a choice item. One per participant for single choice (partial unique index)."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("item_id", "participant_id", "option_id", name="uq_votes_choice"),
        Index(
            "uq_votes_single_choice",
            "item_id",
            "participant_id",
            unique=True,
            sqlite_where=text(SINGLE_CHOICE_WHERE),
            postgresql_where=text(SINGLE_CHOICE_WHERE),
        ),
        Index("ix_votes_item_option", "item_id", "option_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("options.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    multi: Mapped[bool] = mapped_column(Boolean, default=False)
    platform: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OptionTally(Base):
    """Votes per option, kept by triggers on ``votes`` in the vote's own transaction."""

    __tablename__ = "option_tallies"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("options.id", ondelete="CASCADE"), primary_key=True
    )
    votes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class PlatformTally(Base):
    """People who voted on an item, per platform, kept like :class:`OptionTally`."""

    __tablename__ = "platform_tallies"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    participants: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Answer(Base):
    """Free text given to an open question. Hidden answers are hidden, never deleted."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint(_in("status", ANSWER_STATUSES), name="status"),
        CheckConstraint("length(text) BETWEEN 1 AND 4000", name="text_length"),
        Index("ix_answers_item_created", "item_id", "created_at"),
        # Refs (A12) are never reused: SQLite otherwise hands out a deleted row's id again.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    #: The language the person was reading when they answered (``cy``/``en``; None: before
    #: issue 18 recorded it). Answers in every language count together.
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="visible")
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Where the answer was written, so it can be reported or moderated in place.
    channel_id: Mapped[str | None] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: In the moderators' queue (held, reported, or flagged under lazy moderation).
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    redacted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))


class Statement(Base):
    """One statement of a ``statements`` item (a Polis "comment"): seeded by the officer, or
    written by a citizen, when it is also an :class:`Answer` and shown only while that answer
    is visible (screened and moderated like any answer)."""

    __tablename__ = "statements"
    __table_args__ = (CheckConstraint("length(text) BETWEEN 1 AND 4000", name="text_length"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    #: The citizen's answer it came from (None: a seed statement).
    answer_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("answers.id", ondelete="CASCADE"),
        unique=True,
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when its author was forgotten: the text is erased and the statement left out of
    #: everything; the row stays so that its id is never reused (docs/opinion-groups.md).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StatementVote(Base):
    """Agree (+1), disagree (-1) or pass (0) on one statement; one per person, replaceable."""

    __tablename__ = "statement_votes"
    __table_args__ = (
        UniqueConstraint("statement_id", "participant_id", name="uq_statement_votes_once"),
        CheckConstraint("value IN (-1, 0, 1)", name="value"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ErasedAnswer(Base):
    """The tombstone of an answer erased at its author's request: its ref stays taken, and
    audit rows and reports about it keep pointing here rather than at a newer answer."""

    __tablename__ = "erased_answers"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    """One participant's report of an answer; distinct reporters count towards hiding it."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("answer_id", "reporter_id", name="uq_reports_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PendingAction(Base):
    """A vote or answer waiting for its author's consent; applied on agree, dropped on decline."""

    __tablename__ = "pending_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Each platform event is applied once: redelivery hits the primary key."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RoleGrant(Base):
    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("subject", "role", name="uq_roles_subject_role"),
        CheckConstraint(_in("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))  # "platform:user_id" of a staff member
    role: Mapped[str] = mapped_column(String(20))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """A message that must be delivered, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("op", ("send", "refresh")), name="op"),
        CheckConstraint(_in("status", ("pending", "sent", "failed", "uncertain")), name="status"),
        Index("ix_outbox_due", "status", "due_at"),
        # At most one pending refresh per publication: many votes coalesce into one edit.
        Index(
            "uq_outbox_pending_refresh",
            "publication_id",
            unique=True,
            sqlite_where=text(PENDING_REFRESH_WHERE),
            postgresql_where=text(PENDING_REFRESH_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    op: Mapped[str] = mapped_column(String(10))
    platform: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(String(100))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    reply_to: Mapped[str | None] = mapped_column(String(100))
    #: Deliver privately to the person whose platform user id is ``channel_id``.
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    publication_id: Mapped[int | None] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE")
    )
    view: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: Who asked for it (``platform:user_id``), told privately if it cannot be delivered;
    #: a raw platform id, so erased with the person.
    requested_by: Mapped[str | None] = mapped_column(String(150))
    #: When the first delivery attempt began: the outbox gives up a while after it.
    first_tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The platform's id for the delivered message, recorded with ``status = 'sent'``.
    platform_message_id: Mapped[str | None] = mapped_column(String(100))
    #: The delivering worker's claim on this row (a lease until ``due_at``): only the claim
    #: holder may start sending it.
    claim: Mapped[str | None] = mapped_column(String(100))


class DashboardUser(Base):
    """A policy team member who signs in to the dashboard (email + password)."""

    __tablename__ = "dashboard_users"
    __table_args__ = (CheckConstraint(_in("role", DASHBOARD_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Part of every session cookie; signing out bumps it, so old cookies stop working.
    session_generation: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)


class SignInCounter(Base):
    """Dashboard sign-in attempts per limiter key in a fixed window starting at ``since``.

    Counted with one atomic upsert *before* the password is checked, shared by every worker.
    """

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # a keyed digest
    attempts: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Theme(Base):
    """A label the policy team puts on answers to one open question."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("item_id", "name", name="uq_themes_item_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnswerTheme(Base):
    """One answer tagged with one theme."""

    __tablename__ = "answer_themes"

    answer_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("answers.id", ondelete="CASCADE"),
        primary_key=True,
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tagged_by: Mapped[str] = mapped_column(String(254))
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelLanguage(Base):
    """The language a channel's public cards are in (issue 18): ``en``, ``cy`` or ``both``;
    no row: both languages when the item has its Welsh, else English."""

    __tablename__ = "channel_languages"
    __table_args__ = (CheckConstraint(_in("language", ("en", "cy", "both")), name="language"),)

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    language: Mapped[str] = mapped_column(String(4))


class InstanceSetting(Base):
    """Facts about this installation, e.g. the fingerprint of the secret key it was started with.

    The secret key itself is never stored: only an HMAC of a fixed label under it.
    """

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsultationProgress(Base):
    """Where one person is in one consultation: started, items skipped, finished, reminded.

    The next item is the first one they have neither voted on, answered nor skipped; the row
    only keeps what the responses cannot tell (the skips, when they started and finished).
    """

    __tablename__ = "consultation_progress"
    __table_args__ = (
        UniqueConstraint("participant_id", "consultation_id", name="uq_consultation_progress_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Item ids the person skipped (they count as reached, not as answered).
    skipped: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: An item waiting for typed text (a why, a comment, an answer) in a chat without forms.
    awaiting_item_id: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The one reminder before it closes has been queued (never sent twice).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Subscription(Base):
    """A participant asked to hear about consultations on a topic."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("participant_id", "topic", name="uq_subscriptions_participant_topic"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(60), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MessageOptOut(Base):
    """STOP (or unsubscribe from everything): no consultation messages the person did not ask
    for — no topic cards, reminders or responses — until they subscribe again."""

    __tablename__ = "message_opt_outs"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsultationResponse(Base):
    """ "You said, we did": what the policy team decided, sent to everyone who took part."""

    __tablename__ = "consultation_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: How many people it was queued for.
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Lease(Base):
    """A job only one worker may run at a time (Telegram long polling, the scheduler, a
    Discord gateway shard): held by ``holder`` until ``expires_at`` unless renewed."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProfileAnswer(Base):
    """One person's answer to an "about you" question (services/profile.py), asked once:
    ``value`` is the option chosen, None for "Prefer not to say". Erased with the person."""

    __tablename__ = "profile_answers"
    __table_args__ = (
        UniqueConstraint("participant_id", "question", name="uq_profile_answers_once"),
        Index("ix_profile_answers_question_value", "question", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateLimit(Base):
    """One rate limit's state, shared by every worker: the web chat's form limits
    (bot/ratelimit.py), kept by GCRA.

    ``tat`` is the key's theoretical arrival time (seconds since the epoch, the database's
    clock): a row whose ``tat`` has passed says no more than no row, and is pruned. ``key`` is
    a namespace and a digest (no addresses or platform ids in the table).
    """

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tat: Mapped[float] = mapped_column(Double(), index=True)


class SendWindow(Base):
    """The outbox's send budget under one platform limit "N per P", shared by every worker
    (bot/sendrate.py): the times (epoch seconds, the database's clock) of the sends within the
    last window, at most N of them, as ``limits``' moving window keeps them in memory or Redis.
    PostgreSQL only (an array); ``until`` is when the newest leaves its window (then pruned)."""

    __tablename__ = "send_windows"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    hits: Mapped[list[float]] = mapped_column(
        postgresql.ARRAY(Double()).with_variant(JSON(), "sqlite")
    )
    until: Mapped[float] = mapped_column(Double(), index=True)


class WebMail(Base):
    """A private message waiting for a web chat visitor's next page (adapters/web/mailbox.py):
    ``visitor`` is a digest of the visitor id, ``view`` the serialised view (JSON text, as in
    Redis). Taken (deleted) when shown; a few per visitor, kept a week at most."""

    __tablename__ = "web_mail"
    __table_args__ = (Index("ix_web_mail_visitor_id", "visitor", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    visitor: Mapped[str] = mapped_column(String(64))
    view: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
