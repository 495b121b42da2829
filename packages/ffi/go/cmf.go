package cpex

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// MessagePayload is the payload of every cmf.* hook (payload type 1).
type MessagePayload struct {
	Message Message `msgpack:"message"`
	Hook    string  `msgpack:"hook,omitempty"` // the message hook type, when the caller sets it
}

// Message is a CMF message: a role, content parts and an optional channel.
type Message struct {
	SchemaVersion string        `msgpack:"schema_version,omitempty"`
	Role          string        `msgpack:"role"` // system | developer | user | assistant | tool
	Content       []ContentPart `msgpack:"content,omitempty"`
	Channel       string        `msgpack:"channel,omitempty"`
}

// NewMessage builds a message with schema version 2.0.
func NewMessage(role string, content ...ContentPart) Message {
	return Message{SchemaVersion: "2.0", Role: role, Content: content}
}

// Content part kinds.
const (
	ContentTypeText          = "text"
	ContentTypeThinking      = "thinking"
	ContentTypeToolCall      = "tool_call"
	ContentTypeToolResult    = "tool_result"
	ContentTypeResource      = "resource"
	ContentTypeResourceRef   = "resource_ref"
	ContentTypePromptRequest = "prompt_request"
	ContentTypePromptResult  = "prompt_result"
	ContentTypeImage         = "image"
	ContentTypeVideo         = "video"
	ContentTypeAudio         = "audio"
	ContentTypeDocument      = "document"
)

// ContentPart is one part of a message: `{content_type, text}` for text and thinking,
// `{content_type, content}` for the others. Exactly the field matching ContentType is used.
type ContentPart struct {
	ContentType string

	Text string

	ToolCallContent      *ToolCall
	ToolResultContent    *ToolResult
	ResourceContent      *Resource
	ResourceRefContent   *ResourceReference
	PromptRequestContent *PromptRequest
	PromptResultContent  *PromptResult
	ImageContent         *ImageSource
	VideoContent         *VideoSource
	AudioContent         *AudioSource
	DocumentContent      *DocumentSource
}

// ToolCall content.
type ToolCall struct {
	ToolCallID string         `msgpack:"tool_call_id"`
	Name       string         `msgpack:"name"`
	Arguments  map[string]any `msgpack:"arguments,omitempty"`
	Namespace  string         `msgpack:"namespace,omitempty"`
}

// ToolResult content.
type ToolResult struct {
	ToolCallID string `msgpack:"tool_call_id"`
	ToolName   string `msgpack:"tool_name"`
	Content    any    `msgpack:"content,omitempty"`
	IsError    bool   `msgpack:"is_error,omitempty"`
}

// Resource content (embedded).
type Resource struct {
	ResourceRequestID string         `msgpack:"resource_request_id"`
	URI               string         `msgpack:"uri"`
	Name              string         `msgpack:"name,omitempty"`
	Description       string         `msgpack:"description,omitempty"`
	ResourceType      string         `msgpack:"resource_type"` // file | blob | uri | database | api | memory | artifact
	Content           string         `msgpack:"content,omitempty"`
	Blob              []int          `msgpack:"blob,omitempty"` // bytes as a list of 0..255 (the CMF wire shape)
	MimeType          string         `msgpack:"mime_type,omitempty"`
	SizeBytes         *uint64        `msgpack:"size_bytes,omitempty"`
	Annotations       map[string]any `msgpack:"annotations,omitempty"`
	Version           string         `msgpack:"version,omitempty"`
}

// ResourceReference content.
type ResourceReference struct {
	ResourceRequestID string  `msgpack:"resource_request_id"`
	URI               string  `msgpack:"uri"`
	Name              string  `msgpack:"name,omitempty"`
	ResourceType      string  `msgpack:"resource_type"`
	RangeStart        *uint64 `msgpack:"range_start,omitempty"`
	RangeEnd          *uint64 `msgpack:"range_end,omitempty"`
	Selector          string  `msgpack:"selector,omitempty"`
}

// PromptRequest content.
type PromptRequest struct {
	PromptRequestID string         `msgpack:"prompt_request_id"`
	Name            string         `msgpack:"name"`
	Arguments       map[string]any `msgpack:"arguments,omitempty"`
	ServerID        string         `msgpack:"server_id,omitempty"`
}

// PromptResult content.
type PromptResult struct {
	PromptRequestID string    `msgpack:"prompt_request_id"`
	PromptName      string    `msgpack:"prompt_name"`
	Messages        []Message `msgpack:"messages,omitempty"`
	Content         string    `msgpack:"content,omitempty"`
	IsError         bool      `msgpack:"is_error,omitempty"`
	ErrorMessage    string    `msgpack:"error_message,omitempty"`
}

// ImageSource content: `type` is url or base64.
type ImageSource struct {
	Type      string `msgpack:"type"`
	Data      string `msgpack:"data"`
	MediaType string `msgpack:"media_type,omitempty"`
}

// VideoSource content.
type VideoSource struct {
	Type       string  `msgpack:"type"`
	Data       string  `msgpack:"data"`
	MediaType  string  `msgpack:"media_type,omitempty"`
	DurationMs *uint64 `msgpack:"duration_ms,omitempty"`
}

// AudioSource content.
type AudioSource struct {
	Type       string  `msgpack:"type"`
	Data       string  `msgpack:"data"`
	MediaType  string  `msgpack:"media_type,omitempty"`
	DurationMs *uint64 `msgpack:"duration_ms,omitempty"`
}

// DocumentSource content.
type DocumentSource struct {
	Type      string `msgpack:"type"`
	Data      string `msgpack:"data"`
	MediaType string `msgpack:"media_type,omitempty"`
	Title     string `msgpack:"title,omitempty"`
}

var (
	_ msgpack.CustomEncoder = ContentPart{}
	_ msgpack.CustomDecoder = (*ContentPart)(nil)
)

func (cp ContentPart) content() any {
	switch cp.ContentType {
	case ContentTypeToolCall:
		return cp.ToolCallContent
	case ContentTypeToolResult:
		return cp.ToolResultContent
	case ContentTypeResource:
		return cp.ResourceContent
	case ContentTypeResourceRef:
		return cp.ResourceRefContent
	case ContentTypePromptRequest:
		return cp.PromptRequestContent
	case ContentTypePromptResult:
		return cp.PromptResultContent
	case ContentTypeImage:
		return cp.ImageContent
	case ContentTypeVideo:
		return cp.VideoContent
	case ContentTypeAudio:
		return cp.AudioContent
	case ContentTypeDocument:
		return cp.DocumentContent
	}
	return nil
}

// EncodeMsgpack writes `{content_type, text}` or `{content_type, content}`.
func (cp ContentPart) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(2); err != nil {
		return err
	}
	if err := enc.EncodeString("content_type"); err != nil {
		return err
	}
	if err := enc.EncodeString(cp.ContentType); err != nil {
		return err
	}
	if cp.ContentType == ContentTypeText || cp.ContentType == ContentTypeThinking {
		if err := enc.EncodeString("text"); err != nil {
			return err
		}
		return enc.EncodeString(cp.Text)
	}
	if err := enc.EncodeString("content"); err != nil {
		return err
	}
	c := cp.content()
	if c == nil {
		return fmt.Errorf("cpex: content part %q has no content", cp.ContentType)
	}
	return enc.Encode(c)
}

// DecodeMsgpack reads a content part by its content_type.
func (cp *ContentPart) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	var raw msgpack.RawMessage
	*cp = ContentPart{}
	for i := 0; i < n; i++ {
		key, err := dec.DecodeString()
		if err != nil {
			return err
		}
		switch key {
		case "content_type":
			if cp.ContentType, err = dec.DecodeString(); err != nil {
				return err
			}
		case "text":
			if cp.Text, err = dec.DecodeString(); err != nil {
				return err
			}
		case "content":
			if raw, err = dec.DecodeRaw(); err != nil {
				return err
			}
		default:
			if err := dec.Skip(); err != nil {
				return err
			}
		}
	}
	if raw == nil {
		return nil
	}
	into := func(v any) error { return msgpack.Unmarshal(raw, v) }
	switch cp.ContentType {
	case ContentTypeToolCall:
		cp.ToolCallContent = new(ToolCall)
		return into(cp.ToolCallContent)
	case ContentTypeToolResult:
		cp.ToolResultContent = new(ToolResult)
		return into(cp.ToolResultContent)
	case ContentTypeResource:
		cp.ResourceContent = new(Resource)
		return into(cp.ResourceContent)
	case ContentTypeResourceRef:
		cp.ResourceRefContent = new(ResourceReference)
		return into(cp.ResourceRefContent)
	case ContentTypePromptRequest:
		cp.PromptRequestContent = new(PromptRequest)
		return into(cp.PromptRequestContent)
	case ContentTypePromptResult:
		cp.PromptResultContent = new(PromptResult)
		return into(cp.PromptResultContent)
	case ContentTypeImage:
		cp.ImageContent = new(ImageSource)
		return into(cp.ImageContent)
	case ContentTypeVideo:
		cp.VideoContent = new(VideoSource)
		return into(cp.VideoContent)
	case ContentTypeAudio:
		cp.AudioContent = new(AudioSource)
		return into(cp.AudioContent)
	case ContentTypeDocument:
		cp.DocumentContent = new(DocumentSource)
		return into(cp.DocumentContent)
	}
	return nil
}

// NewTextPart builds a text part.
func NewTextPart(text string) ContentPart {
	return ContentPart{ContentType: ContentTypeText, Text: text}
}

// NewThinkingPart builds a thinking part.
func NewThinkingPart(text string) ContentPart {
	return ContentPart{ContentType: ContentTypeThinking, Text: text}
}

// NewToolCallPart builds a tool_call part.
func NewToolCallPart(tc ToolCall) ContentPart {
	return ContentPart{ContentType: ContentTypeToolCall, ToolCallContent: &tc}
}

// NewToolResultPart builds a tool_result part.
func NewToolResultPart(tr ToolResult) ContentPart {
	return ContentPart{ContentType: ContentTypeToolResult, ToolResultContent: &tr}
}

// NewResourcePart builds a resource part.
func NewResourcePart(r Resource) ContentPart {
	return ContentPart{ContentType: ContentTypeResource, ResourceContent: &r}
}

// NewResourceRefPart builds a resource_ref part.
func NewResourceRefPart(r ResourceReference) ContentPart {
	return ContentPart{ContentType: ContentTypeResourceRef, ResourceRefContent: &r}
}

// NewPromptRequestPart builds a prompt_request part.
func NewPromptRequestPart(p PromptRequest) ContentPart {
	return ContentPart{ContentType: ContentTypePromptRequest, PromptRequestContent: &p}
}

// NewPromptResultPart builds a prompt_result part.
func NewPromptResultPart(p PromptResult) ContentPart {
	return ContentPart{ContentType: ContentTypePromptResult, PromptResultContent: &p}
}

// NewImagePart builds an image part.
func NewImagePart(s ImageSource) ContentPart {
	return ContentPart{ContentType: ContentTypeImage, ImageContent: &s}
}

// NewVideoPart builds a video part.
func NewVideoPart(s VideoSource) ContentPart {
	return ContentPart{ContentType: ContentTypeVideo, VideoContent: &s}
}

// NewAudioPart builds an audio part.
func NewAudioPart(s AudioSource) ContentPart {
	return ContentPart{ContentType: ContentTypeAudio, AudioContent: &s}
}

// NewDocumentPart builds a document part.
func NewDocumentPart(s DocumentSource) ContentPart {
	return ContentPart{ContentType: ContentTypeDocument, DocumentContent: &s}
}

// IdentityPayload is the payload of identity.resolve (payload type 2). The raw token never
// crosses the boundary (as in Rust): put it in Headers.
type IdentityPayload struct {
	Source         string                   `msgpack:"source"`
	SourceHeader   string                   `msgpack:"source_header,omitempty"`
	Headers        map[string]string        `msgpack:"headers,omitempty"`
	ClientHost     string                   `msgpack:"client_host,omitempty"`
	ClientPort     uint16                   `msgpack:"client_port,omitempty"`
	Subject        *SubjectExtension        `msgpack:"subject,omitempty"`
	Client         *ClientExtension         `msgpack:"client,omitempty"`
	CallerWorkload *WorkloadIdentity        `msgpack:"caller_workload,omitempty"`
	Delegation     *DelegationExtension     `msgpack:"delegation,omitempty"`
	RawCredentials *RawCredentialsExtension `msgpack:"raw_credentials,omitempty"`
	ResolvedAt     string                   `msgpack:"resolved_at,omitempty"`
	RawClaims      map[string]any           `msgpack:"raw_claims,omitempty"`
}

// HookIdentityResolve is the identity hook's name.
const HookIdentityResolve = "identity.resolve"

// Token sources of IdentityPayload.Source.
const (
	TokenSourceBearer        = "bearer"
	TokenSourceUserToken     = "user_token"
	TokenSourceMTLS          = "mtls"
	TokenSourceSpiffeJwtSvid = "spiffe_jwt_svid"
	TokenSourceAPIKey        = "api_key"
)

// NewIdentityPayload builds an identity payload (source defaults to bearer).
func NewIdentityPayload(source string, headers map[string]string) IdentityPayload {
	if source == "" {
		source = TokenSourceBearer
	}
	return IdentityPayload{Source: source, Headers: headers}
}
