"""The built-in simulator backend: Midjourney-like tasks rendered locally with Pillow, marked as simulated."""

from bot.backends.simulator.backend import SimulatorBackend

__all__ = ["SimulatorBackend"]
