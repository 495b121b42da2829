"""Hook payload policies (which payload fields a hook lets plugins change)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class DefaultHookPolicy(str, Enum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class HookPayloadPolicy:
    writable_fields: frozenset[str]
