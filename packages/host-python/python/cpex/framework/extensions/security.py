"""Security extension: labels (monotonic), subject (capability-gated), object/data policies."""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class SubjectType(str, Enum):
    USER = "user"
    AGENT = "agent"
    SERVICE = "service"
    SYSTEM = "system"


class SubjectExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    type: SubjectType
    roles: frozenset[str] = Field(default_factory=frozenset)
    permissions: frozenset[str] = Field(default_factory=frozenset)
    teams: frozenset[str] = Field(default_factory=frozenset)
    claims: dict[str, str] = Field(default_factory=dict)


class ObjectSecurityProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    managed_by: str = "host"
    permissions: list[str] = Field(default_factory=list)
    trust_domain: Optional[str] = None
    data_scope: list[str] = Field(default_factory=list)


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_age_seconds: Optional[int] = None
    policy: str = "persistent"
    delete_after: Optional[str] = None


class DataPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    apply_labels: list[str] = Field(default_factory=list)
    allowed_actions: Optional[list[str]] = None
    denied_actions: list[str] = Field(default_factory=list)
    retention: Optional[RetentionPolicy] = None


class SecurityExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    labels: frozenset[str] = Field(default_factory=frozenset)
    classification: Optional[str] = None
    subject: Optional[SubjectExtension] = None
    objects: dict[str, ObjectSecurityProfile] = Field(default_factory=dict)
    data: dict[str, DataPolicy] = Field(default_factory=dict)
