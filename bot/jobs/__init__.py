"""Jobs: one writer of job rows, and the submitting, buttons, answers, ingest and polling around it."""

from bot.jobs.outcomes import AlreadyDone, Cancelled, PressOutcome, SeedFound, Started
from bot.jobs.policy import JobPolicy
from bot.jobs.questions import JobPrompt, NewPrompt, Questions
from bot.jobs.service import JobService
from bot.jobs.writer import Ingest, JobListener

__all__ = [
    "AlreadyDone",
    "Cancelled",
    "Ingest",
    "JobListener",
    "JobPolicy",
    "JobPrompt",
    "JobService",
    "NewPrompt",
    "PressOutcome",
    "Questions",
    "SeedFound",
    "Started",
]
