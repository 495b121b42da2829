"""Provenance extension (immutable slot)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict


class ProvenanceExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: Optional[str] = None
    message_id: Optional[str] = None
    parent_id: Optional[str] = None
