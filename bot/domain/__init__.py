"""The domain: jobs, buttons, what backends accept and refuse, the refusals users are told (pure)."""

from bot.domain.actions import ALWAYS_MODAL, ANIMATIONS, REMIX_ACTIONS, RESULT_KEPT, Action, ActionKind
from bot.domain.backend import (
    AccountProblem,
    AccountRefused,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Capabilities,
    Command,
    ImageTooLarge,
    InvalidCallback,
    PromptRejected,
    Submission,
    TaskNotFound,
    UpdateSink,
)
from bot.domain.jobs import Job, Requester, TaskUpdate
from bot.domain.kinds import FailureKind, JobKind, JobStatus, as_percent

__all__ = [
    "ALWAYS_MODAL",
    "ANIMATIONS",
    "REMIX_ACTIONS",
    "RESULT_KEPT",
    "AccountProblem",
    "AccountRefused",
    "Action",
    "ActionKind",
    "BackendBusy",
    "BackendError",
    "BackendRefused",
    "BackendUnavailable",
    "BlendDimensions",
    "Capabilities",
    "Command",
    "FailureKind",
    "ImageTooLarge",
    "InvalidCallback",
    "Job",
    "JobKind",
    "JobStatus",
    "PromptRejected",
    "Requester",
    "Submission",
    "TaskNotFound",
    "TaskUpdate",
    "UpdateSink",
    "as_percent",
]
