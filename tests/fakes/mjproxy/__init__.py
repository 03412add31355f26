"""A fake midjourney-proxy (trueai current or the Java build) over real HTTP on 127.0.0.1."""

from tests.fakes.mjproxy.server import FakeMjProxy
from tests.fakes.mjproxy.task import DEFAULT_SECRET, JAVA, TRUEAI, FakeTask, Flavour

__all__ = ["DEFAULT_SECRET", "JAVA", "TRUEAI", "FakeMjProxy", "FakeTask", "Flavour"]
