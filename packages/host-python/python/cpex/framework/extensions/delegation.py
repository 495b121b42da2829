"""Delegation extension (monotonic slot: append-only chain)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class DelegationHop(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_id: str
    subject_type: str
    audience: Optional[str] = None
    scopes_granted: tuple[str, ...] = ()
    timestamp: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    ttl_seconds: Optional[int] = None
    strategy: Optional[str] = None
    from_cache: bool = False


class DelegationExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    chain: tuple[DelegationHop, ...] = ()
    depth: int = 0
    origin_subject_id: Optional[str] = None
    actor_subject_id: Optional[str] = None
    delegated: bool = False
    age_seconds: float = 0.0
