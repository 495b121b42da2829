"""HTTP extension: request headers (visible with read_headers, writable with write_headers)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    headers: dict[str, str] = Field(default_factory=dict)
