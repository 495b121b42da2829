"""CMF ``Message``: a role, an optional channel and a list of typed content parts.

``iter_views`` / ``MessageView`` of Python cpex are not provided by this compatibility
package (cpex-ts has its own zero-copy view in TypeScript).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


class Role(str, Enum):
    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Channel(str, Enum):
    ANALYSIS = "analysis"
    COMMENTARY = "commentary"
    FINAL = "final"


class ContentType(str, Enum):
    TEXT = "text"
    THINKING = "thinking"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    RESOURCE = "resource"
    RESOURCE_REF = "resource_ref"
    PROMPT_REQUEST = "prompt_request"
    PROMPT_RESULT = "prompt_result"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class ResourceType(str, Enum):
    FILE = "file"
    BLOB = "blob"
    URI = "uri"
    DATABASE = "database"
    API = "api"
    MEMORY = "memory"
    ARTIFACT = "artifact"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ToolCall(_Frozen):
    tool_call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    namespace: Optional[str] = None


class ToolResult(_Frozen):
    tool_call_id: str
    tool_name: str
    content: Any = None
    is_error: bool = False


class Resource(_Frozen):
    resource_request_id: str
    uri: str
    name: Optional[str] = None
    description: Optional[str] = None
    resource_type: ResourceType
    content: Optional[str] = None
    blob: Optional[bytes] = None
    mime_type: Optional[str] = None
    size_bytes: Optional[int] = None
    annotations: dict[str, Any] = Field(default_factory=dict)
    version: Optional[str] = None

    @model_validator(mode="after")
    def _content_xor_blob(self) -> "Resource":
        if self.content is not None and self.blob is not None:
            raise ValueError("Resource cannot have both 'content' and 'blob' set")
        return self


class ResourceReference(_Frozen):
    resource_request_id: str
    uri: str
    name: Optional[str] = None
    resource_type: ResourceType
    range_start: Optional[int] = None
    range_end: Optional[int] = None
    selector: Optional[str] = None

    @model_validator(mode="after")
    def _range(self) -> "ResourceReference":
        if self.range_start is not None and self.range_end is not None and self.range_end < self.range_start:
            raise ValueError(f"range_end ({self.range_end}) must be >= range_start ({self.range_start})")
        return self


class PromptRequest(_Frozen):
    prompt_request_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    server_id: Optional[str] = None


class PromptResult(_Frozen):
    prompt_request_id: str
    prompt_name: str
    messages: list["Message"] = Field(default_factory=list)
    content: Optional[str] = None
    is_error: bool = False
    error_message: Optional[str] = None


class _MediaSource(_Frozen):
    type: Literal["url", "base64"]
    data: str
    media_type: Optional[str] = None


class ImageSource(_MediaSource):
    pass


class VideoSource(_MediaSource):
    duration_ms: Optional[int] = None


class AudioSource(_MediaSource):
    duration_ms: Optional[int] = None


class DocumentSource(_MediaSource):
    title: Optional[str] = None


class ContentPart(_Frozen):
    content_type: ContentType


class TextContent(ContentPart):
    content_type: Literal[ContentType.TEXT] = ContentType.TEXT
    text: str


class ThinkingContent(ContentPart):
    content_type: Literal[ContentType.THINKING] = ContentType.THINKING
    text: str


class ToolCallContentPart(ContentPart):
    content_type: Literal[ContentType.TOOL_CALL] = ContentType.TOOL_CALL
    content: ToolCall


class ToolResultContentPart(ContentPart):
    content_type: Literal[ContentType.TOOL_RESULT] = ContentType.TOOL_RESULT
    content: ToolResult


class ResourceContentPart(ContentPart):
    content_type: Literal[ContentType.RESOURCE] = ContentType.RESOURCE
    content: Resource


class ResourceRefContentPart(ContentPart):
    content_type: Literal[ContentType.RESOURCE_REF] = ContentType.RESOURCE_REF
    content: ResourceReference


class PromptRequestContentPart(ContentPart):
    content_type: Literal[ContentType.PROMPT_REQUEST] = ContentType.PROMPT_REQUEST
    content: PromptRequest


class PromptResultContentPart(ContentPart):
    content_type: Literal[ContentType.PROMPT_RESULT] = ContentType.PROMPT_RESULT
    content: PromptResult


class ImageContentPart(ContentPart):
    content_type: Literal[ContentType.IMAGE] = ContentType.IMAGE
    content: ImageSource


class VideoContentPart(ContentPart):
    content_type: Literal[ContentType.VIDEO] = ContentType.VIDEO
    content: VideoSource


class AudioContentPart(ContentPart):
    content_type: Literal[ContentType.AUDIO] = ContentType.AUDIO
    content: AudioSource


class DocumentContentPart(ContentPart):
    content_type: Literal[ContentType.DOCUMENT] = ContentType.DOCUMENT
    content: DocumentSource


def _discriminate(value: Any) -> str:
    if isinstance(value, dict):
        tag = value.get("content_type")
        if tag is None:
            raise ValueError("content part without 'content_type'")
        return str(getattr(tag, "value", tag))
    tag = getattr(value, "content_type", None)
    if tag is None:
        raise ValueError(f"content part {type(value).__name__} has no 'content_type'")
    return str(getattr(tag, "value", tag))


ContentPartUnion = Annotated[
    Union[
        Annotated[TextContent, Tag("text")],
        Annotated[ThinkingContent, Tag("thinking")],
        Annotated[ToolCallContentPart, Tag("tool_call")],
        Annotated[ToolResultContentPart, Tag("tool_result")],
        Annotated[ResourceContentPart, Tag("resource")],
        Annotated[ResourceRefContentPart, Tag("resource_ref")],
        Annotated[PromptRequestContentPart, Tag("prompt_request")],
        Annotated[PromptResultContentPart, Tag("prompt_result")],
        Annotated[ImageContentPart, Tag("image")],
        Annotated[VideoContentPart, Tag("video")],
        Annotated[AudioContentPart, Tag("audio")],
        Annotated[DocumentContentPart, Tag("document")],
    ],
    Discriminator(_discriminate),
]


class Message(BaseModel):
    """One CMF message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: str = "2.0"
    role: Role
    content: list[ContentPartUnion] = Field(default_factory=list)
    channel: Optional[Channel] = None


PromptResult.model_rebuild()
