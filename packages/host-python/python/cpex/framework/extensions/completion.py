"""Completion extension (immutable slot)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict


class StopReason(str, Enum):
    END = "end"
    RETURN = "return"
    CALL = "call"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"


class TokenUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    input_tokens: int
    output_tokens: int
    total_tokens: int


class CompletionExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    stop_reason: Optional[StopReason] = None
    tokens: Optional[TokenUsage] = None
    model: Optional[str] = None
    raw_format: Optional[str] = None
    created_at: Optional[str] = None
    latency_ms: Optional[int] = None
