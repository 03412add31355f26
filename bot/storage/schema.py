"""Tables (SQLAlchemy Core), kept to portable SQL so SQLite and PostgreSQL both run them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 4  # bump with a step in bot/storage/migrations.py
USER_NAME_LENGTH = 128

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("thread_id", BigInteger),
    Column("user_id", BigInteger, nullable=False),
    Column("user_name", String(USER_NAME_LENGTH), nullable=False),
    Column("language", String(16), nullable=False),
    Column("backend", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("task_id", String(128)),
    Column("parent_id", String(32)),
    Column("origin", Text),
    Column("reply_to_message_id", BigInteger),
    Column("message_id", BigInteger),
    Column("progress", Integer, nullable=False, default=0),
    Column("queue_position", Integer),
    Column("preview_url", Text),
    Column("image_url", Text),
    Column("video_url", Text),  # schema 2
    Column("actions", Text, nullable=False, default="[]"),
    Column("text", Text),
    Column("fail_reason", Text),
    Column("failure", String(16)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("used", Text, nullable=False, default="[]"),
    # Delivery bookkeeping: what Telegram shows now, so a restart resumes where it stopped.
    Column("shown_version", Integer, nullable=False, default=-1),
    Column("shown_media", Text),
    Column("shown_caption", String(64)),
    Column("photo_file_id", Text),
    Column("document_sent", Boolean, nullable=False, default=False),
    Column("delivery_error", Text),
    # Schema 4: the replica that recorded the job and submits it; if it dies before the backend's answer is
    # stored, another replica reconciles the job at once instead of after a long grace.
    Column("submitter", String(64)),
)
Index("ix_jobs_task", jobs.c.backend, jobs.c.task_id)
Index("ix_jobs_status", jobs.c.status)
# Schema 4: the outbox, jobs whose newest state Telegram has not shown. Replicas read it twice a second, so
# it is a partial index holding those jobs alone (an index on the two versions cannot compare them).
OUTBOX_WHERE = (jobs.c.shown_version < jobs.c.version) & jobs.c.delivery_error.is_(None)
Index("ix_jobs_outbox", jobs.c.updated_at, sqlite_where=OUTBOX_WHERE, postgresql_where=OUTBOX_WHERE)
# Schema 4: the operators' statistics read all jobs of a day or a week; the retention sweep walks finished
# jobs by age.
Index("ix_jobs_created", jobs.c.created_at)
Index("ix_jobs_status_updated", jobs.c.status, jobs.c.updated_at, jobs.c.id)
# Schema 3: quotas, history and lookups read a user's or a chat's jobs of a day, a job's children, the job
# behind a message; without these each was a scan of the whole table.
JOB_INDEXES = (
    Index("ix_jobs_user_created", jobs.c.user_id, jobs.c.created_at),
    Index("ix_jobs_chat_created", jobs.c.chat_id, jobs.c.created_at),
    Index("ix_jobs_parent", jobs.c.parent_id),
    Index("ix_jobs_message", jobs.c.chat_id, jobs.c.message_id),
)

buttons = Table(
    "buttons",
    metadata,
    Column("token", String(24), primary_key=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("action_ref", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Questions the bot asked with a ForceReply: a reply to one of these messages is the answer.
input_requests = Table(
    "input_requests",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("message_id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("job_id", String(32), index=True),
    Column("created_at", Float, nullable=False),
)

# Images collected for /blend before the user picks a shape.
blend_drafts = Table(
    "blend_drafts",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("thread_id", BigInteger),
    Column("message_id", BigInteger),
    Column("reply_to_message_id", BigInteger),
    Column("file_ids", Text, nullable=False, default="[]"),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ix_blend_drafts_owner", blend_drafts.c.chat_id, blend_drafts.c.user_id, blend_drafts.c.status)

kv = Table(
    "kv",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# Access decisions made at runtime by the bot's admins (on top of the configured lists).
access_rules = Table(
    "access_rules",
    metadata,
    Column("subject", String(8), primary_key=True),
    Column("subject_id", BigInteger, primary_key=True),
    Column("rule", String(8), nullable=False),
    Column("set_by", BigInteger, nullable=False),
    Column("set_at", Float, nullable=False),
)

# Leases: one replica at a time holds each (polling Telegram, a share of the work); it must renew before
# `expires_at` or another takes it over.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

# Telegram updates already taken by a replica: Telegram re-delivers an update whose answer was slow, maybe to
# another replica, and a new polling leader may fetch updates the old one handled.
seen_updates = Table(
    "seen_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)
