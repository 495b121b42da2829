"""Agent extension (immutable slot; visible with read_agent)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class ConversationContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    history: list[Any] = Field(default_factory=list)
    summary: Optional[str] = None
    topics: list[str] = Field(default_factory=list)


class AgentExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: Optional[str] = None
    session_id: Optional[str] = None
    conversation_id: Optional[str] = None
    turn: Optional[int] = None
    agent_id: Optional[str] = None
    parent_agent_id: Optional[str] = None
    conversation: Optional[ConversationContext] = None
