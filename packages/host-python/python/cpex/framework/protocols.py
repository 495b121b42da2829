"""Structural types for message-shaped data (``cpex.framework.protocols`` of Python cpex 0.1.x).

Agent messages and rendered prompt results arrive as JSON and are given attribute access
(:mod:`cpex.framework.utils`); these protocols describe what a plugin may rely on.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence, runtime_checkable


@runtime_checkable
class MessageLike(Protocol):
    """Anything with a ``role`` and a ``content``."""

    role: str
    content: Any


@runtime_checkable
class PromptResultLike(Protocol):
    """A rendered prompt: ``messages`` and an optional ``description``."""

    messages: Sequence[MessageLike]
    description: Optional[str]
