"""A fake Ace Data Cloud Midjourney API on 127.0.0.1, as Ace Data Cloud's own clients show it behaves."""

from tests.fakes.acedata.service import FakeAceData
from tests.fakes.acedata.tasks import FakeImage, FakeTask
from tests.fakes.acedata.wire import DEFAULT_TOKEN, NDJSON, Model

__all__ = ["DEFAULT_TOKEN", "NDJSON", "FakeAceData", "FakeImage", "FakeTask", "Model"]
