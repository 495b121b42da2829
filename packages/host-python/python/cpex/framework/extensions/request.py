"""Request extension (immutable slot)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict


class RequestExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    environment: Optional[str] = None
    request_id: Optional[str] = None
    timestamp: Optional[str] = None
    trace_id: Optional[str] = None
    span_id: Optional[str] = None
