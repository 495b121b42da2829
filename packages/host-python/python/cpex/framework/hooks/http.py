"""HTTP forwarding and authentication hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import RootModel

from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class HttpHeaderPayload(RootModel[dict[str, str]], PluginPayload):
    """HTTP headers as a dict-like payload."""

    def __iter__(self):  # type: ignore[override]
        return iter(self.root)

    def __getitem__(self, item: str) -> str:
        return self.root[item]

    def __setitem__(self, key: str, value: str) -> None:
        self.root[key] = value

    def __len__(self) -> int:
        return len(self.root)


HttpHeaderPayloadResult = PluginResult[HttpHeaderPayload]


class HttpHookType(str, Enum):
    HTTP_PRE_REQUEST = "http_pre_request"
    HTTP_POST_REQUEST = "http_post_request"
    HTTP_AUTH_RESOLVE_USER = "http_auth_resolve_user"
    HTTP_AUTH_CHECK_PERMISSION = "http_auth_check_permission"


class HttpPreRequestPayload(PluginPayload):
    path: str
    method: str
    client_host: Optional[str] = None
    client_port: Optional[int] = None
    headers: HttpHeaderPayload


class HttpPostRequestPayload(HttpPreRequestPayload):
    response_headers: Optional[HttpHeaderPayload] = None
    status_code: Optional[int] = None


class HttpAuthResolveUserPayload(PluginPayload):
    credentials: Optional[dict[str, Any]] = None
    headers: HttpHeaderPayload
    client_host: Optional[str] = None
    client_port: Optional[int] = None


class HttpAuthCheckPermissionPayload(PluginPayload):
    user_email: str
    permission: str
    resource_type: Optional[str] = None
    team_id: Optional[str] = None
    is_admin: bool = False
    auth_method: Optional[str] = None
    client_host: Optional[str] = None
    user_agent: Optional[str] = None


class HttpAuthCheckPermissionResultPayload(PluginPayload):
    granted: bool
    reason: Optional[str] = None


HttpPreRequestResult = PluginResult[HttpHeaderPayload]
HttpPostRequestResult = PluginResult[HttpHeaderPayload]
HttpAuthResolveUserResult = PluginResult[dict]
HttpAuthCheckPermissionResult = PluginResult[HttpAuthCheckPermissionResultPayload]

_register(
    [
        ("http_pre_request", HttpPreRequestPayload, HttpPreRequestResult),
        ("http_post_request", HttpPostRequestPayload, HttpPostRequestResult),
        ("http_auth_resolve_user", HttpAuthResolveUserPayload, HttpAuthResolveUserResult),
        ("http_auth_check_permission", HttpAuthCheckPermissionPayload, HttpAuthCheckPermissionResult),
    ]
)
