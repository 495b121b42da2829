"""Identity resolution and token delegation hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cpex.framework.extensions.delegation import DelegationExtension
from cpex.framework.extensions.security import SubjectExtension
from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class IdentityHookType(str, Enum):
    IDENTITY_RESOLVE = "identity_resolve"
    TOKEN_DELEGATE = "token_delegate"


class IdentityPayload(PluginPayload):
    raw_token: SecretStr
    source: str = "bearer"
    headers: dict[str, str] = Field(default_factory=dict)
    client_host: Optional[str] = None
    client_port: Optional[int] = None


class IdentityResult(PluginPayload):
    subject: Optional[SubjectExtension] = None
    delegation: Optional[DelegationExtension] = None
    rejected: bool = False
    reject_status: int = 401
    reject_reason: str = ""
    raw_claims: dict[str, Any] = Field(default_factory=dict)


IdentityResolveResult = PluginResult[IdentityResult]


class AttenuationConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    capabilities: list[str] = Field(default_factory=list)
    resource_template: Optional[str] = None
    actions: list[str] = Field(default_factory=list)
    ttl_seconds: Optional[int] = None


class DelegationPayload(PluginPayload):
    target_name: str
    target_type: str = "tool"
    target_audience: Optional[str] = None
    required_permissions: list[str] = Field(default_factory=list)
    trust_domain: Optional[str] = None
    auth_enforced_by: str = "caller"
    route_attenuation: Optional[AttenuationConfig] = None
    bearer_token: Optional[SecretStr] = None


class DelegationResult(PluginPayload):
    delegated_token: Optional[str] = None
    delegation_update: DelegationExtension = Field(default_factory=DelegationExtension)
    forwarded_headers: dict[str, str] = Field(default_factory=dict)
    cache_key: Optional[str] = None
    cache_ttl: Optional[int] = None


TokenDelegateResult = PluginResult[DelegationResult]

_register(
    [
        ("identity_resolve", IdentityPayload, IdentityResolveResult),
        ("token_delegate", DelegationPayload, TokenDelegateResult),
    ]
)
