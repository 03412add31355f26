"""Backend adapters: one package per provider over a shared HTTP layer, and the registry that builds one."""

from bot.backends.registry import (
    BACKENDS,
    BackendNotAvailable,
    BackendOptions,
    create_backend,
    ensure_available,
    prepare_backend,
)

__all__ = [
    "BACKENDS",
    "BackendNotAvailable",
    "BackendOptions",
    "create_backend",
    "ensure_available",
    "prepare_backend",
]
