package cpex

import (
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func u64(v uint64) *uint64 { return &v }
func u32(v uint32) *uint32 { return &v }

// fullExtensions sets every field of every slot (tokens never cross the boundary, so they have no field).
func fullExtensions() *Extensions {
	return &Extensions{
		Request: &RequestExtension{Environment: "prod", RequestID: "req-rt", Timestamp: "2026-01-01T00:00:00Z", TraceID: "t1", SpanID: "s1"},
		Agent: &AgentExtension{Input: "hi", SessionID: "sess", ConversationID: "conv", Turn: u32(3), AgentID: "a1", ParentAgentID: "a0",
			Conversation: &ConversationContext{History: []any{"m1", map[string]any{"role": "user"}}, Summary: "sum", Topics: []string{"x", "y"}}},
		HTTP: &HTTPExtension{RequestHeaders: map[string]string{"x-req": "1"}, ResponseHeaders: map[string]string{"x-res": "2"},
			Method: "POST", Path: "/v1/tools", Host: "gw.local", Scheme: "https"},
		Security: &SecurityExtension{
			Labels: []string{"PII", "confidential"}, Classification: "secret",
			Subject: &SubjectExtension{ID: "u1", SubjectType: "user", Roles: []string{"admin"}, Permissions: []string{"tools:run"},
				Teams: []string{"core"}, Claims: map[string]string{"iss": "idp"}},
			Client: &ClientExtension{ClientID: "c1", ClientName: "cli", TrustLevel: "high", AuthorizedScopes: []string{"s1"},
				AuthorizedAudiences: []string{"aud"}, Roles: []string{"r"}, Permissions: []string{"p"}, Teams: []string{"t"},
				Claims: map[string]any{"k": "v"}},
			CallerWorkload: &WorkloadIdentity{SpiffeID: "spiffe://d/caller", TrustDomain: "d", AttestedAt: "now", Attestor: "k8s",
				Selectors: []string{"ns:a"}, ClientID: "wc"},
			ThisWorkload: &WorkloadIdentity{SpiffeID: "spiffe://d/gw", TrustDomain: "d", AttestedAt: "then", Attestor: "tpm",
				Selectors: []string{"ns:gw"}, ClientID: "gwc"},
			AuthMethod: "oauth",
			Objects:    map[string]ObjectSecurityProfile{"db": {ManagedBy: "team", Permissions: []string{"read"}, TrustDomain: "d", DataScope: []string{"rows"}}},
			Data: map[string]DataPolicy{"pii": {ApplyLabels: []string{"PII"}, AllowedActions: []string{"read"}, DeniedActions: []string{"export"},
				Retention: &RetentionPolicy{MaxAgeSeconds: u64(3600), Policy: "delete", DeleteAfter: "2027-01-01"}}},
		},
		Delegation: &DelegationExtension{
			Chain: []DelegationHop{{SubjectID: "u1", SubjectType: "user", Audience: "api", ScopesGranted: []string{"a", "b"},
				AuthorizationDetails: []AuthorizationDetail{{Type: "payment", Locations: []string{"l"}, Actions: []string{"pay"},
					Datatypes: []string{"d"}, Identifier: "id", Privileges: []string{"p"}}},
				Timestamp: "ts", TTLSeconds: u64(60), Strategy: "token_exchange", FromCache: true}},
			Depth: 1, OriginSubjectID: "u1", ActorSubjectID: "agent", Delegated: true, AgeSeconds: 1.5,
		},
		RawCredentials: &RawCredentialsExtension{
			InboundTokens: map[string]InboundToken{"user": {SourceHeader: "authorization", Kind: "jwt"}},
			DelegatedTokens: map[string]DelegatedToken{"api": {OutboundHeader: "authorization", Audience: "api", Scopes: []string{"a"},
				ExpiresAt: "2027-01-01T00:00:00Z", Key: &DelegationKey{SubjectID: "u1", WorkloadID: "w", ClientID: "c", Audience: "api",
					Scopes: []string{"a"}, Mode: "on_behalf_of_user"}}},
		},
		CandidateConstraint: &CandidateConstraintExtension{AllowModels: []string{"m1"}, DenyModels: []string{"m2"}, AllowRegions: []string{"eu"},
			AllowSites: []string{"s"}, MaxCostTiers: []string{"low"}, Custom: map[string]string{"k": "v"}, OnEmpty: "fallback"},
		MCP: &MCPExtension{
			Tool: &ToolMetadata{Name: "search", Title: "Search", Description: "d", InputSchema: map[string]any{"type": "object"},
				OutputSchema: map[string]any{"type": "string"}, ServerID: "srv", Namespace: "ns", Annotations: map[string]any{"readOnly": true}},
			Resource: &ResourceMetadata{URI: "file:///a", Name: "a", Description: "d", MimeType: "text/plain", ServerID: "srv", Annotations: map[string]any{"x": "y"}},
			Prompt:   &PromptMetadata{Name: "p", Description: "d", Arguments: []any{"a1"}, ServerID: "srv", Annotations: map[string]any{"z": "w"}},
		},
		Completion: &CompletionExtension{StopReason: "max_tokens", Tokens: &TokenUsage{InputTokens: 10, OutputTokens: 20, TotalTokens: 30},
			Model: "gpt", RawFormat: "openai", CreatedAt: "now", LatencyMs: u64(42)},
		Provenance: &ProvenanceExtension{Source: "user", MessageID: "m1", ParentID: "m0"},
		LLM:        &LLMExtension{ModelID: "m", Provider: "p", Capabilities: []string{"tools"}},
		Framework:  &FrameworkExtension{Framework: "langgraph", FrameworkVersion: "1.0", NodeID: "n", GraphID: "g", Metadata: map[string]any{"k": "v"}},
		Meta:       &MetaExtension{EntityType: "tool", EntityName: "search", Tags: []string{"pii"}, Scope: "team", Properties: map[string]string{"k": "v"}},
		Custom:     map[string]any{"nested": map[string]any{"list": []any{"a", "b"}, "flag": true}, "s": "str"},
	}
}

// normalize re-encodes through msgpack into generic maps, so the comparison ignores integer widths.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := msgpack.NewDecoder(nil)
	dec.Reset(bytesReader(b))
	dec.UseLooseInterfaceDecoding(true)
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtensionsRoundTrip(t *testing.T) {
	m := initialized(t, "")
	ext := fullExtensions()
	res, ct, bg, err := Invoke(m, "tool_pre_invoke", PayloadGeneric, toolPayload{Name: "search", Args: map[string]any{"q": "x"}}, ext, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	bg.Close()
	if !res.ContinueProcessing || len(res.Errors) > 0 {
		t.Fatalf("%+v %+v", res.Violation, res.Errors)
	}
	if res.ModifiedExtensions == nil {
		t.Fatal("the echo plugin's extensions did not come back")
	}
	if got, want := normalize(t, res.ModifiedExtensions), normalize(t, ext); !reflect.DeepEqual(got, want) {
		t.Fatalf("extensions changed on the round trip:\n got %#v\nwant %#v", got, want)
	}
	// every Go field was set (no zero value left untested)
	assertAllSet(t, reflect.ValueOf(*ext), "Extensions")
}

// assertAllSet fails for a zero field anywhere in the struct tree (maps and slices are entered).
func assertAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			t.Errorf("%s is not set", path)
			return
		}
		assertAllSet(t, v.Elem(), path)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(ContentPart{}) {
			return // one field per kind; the kinds are checked one by one
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			assertAllSet(t, v.Field(i), path+"."+f.Name)
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s is empty", path)
		}
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
			assertAllSet(t, v.Index(0), path+"[0]")
		}
		if v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.Struct {
			for _, k := range v.MapKeys() {
				assertAllSet(t, v.MapIndex(k), path+"["+k.String()+"]")
			}
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero", path)
		}
	}
}

func fullMessage() MessagePayload {
	return MessagePayload{Message: Message{
		SchemaVersion: "2.0", Role: "assistant", Channel: "final",
		Content: []ContentPart{
			NewTextPart("hello"),
			NewThinkingPart("hmm"),
			NewToolCallPart(ToolCall{ToolCallID: "tc1", Name: "search", Arguments: map[string]any{"q": "x"}, Namespace: "ns"}),
			NewToolResultPart(ToolResult{ToolCallID: "tc1", ToolName: "search", Content: map[string]any{"hits": []any{"a"}}, IsError: true}),
			NewResourcePart(Resource{ResourceRequestID: "r1", URI: "file:///a", Name: "a", Description: "d", ResourceType: "file",
				Content: "text", Blob: []int{0, 1, 255}, MimeType: "text/plain", SizeBytes: u64(3), Annotations: map[string]any{"k": "v"}, Version: "1"}),
			NewResourceRefPart(ResourceReference{ResourceRequestID: "r2", URI: "file:///b", Name: "b", ResourceType: "blob",
				RangeStart: u64(1), RangeEnd: u64(9), Selector: "$.a"}),
			NewPromptRequestPart(PromptRequest{PromptRequestID: "p1", Name: "greet", Arguments: map[string]any{"who": "bob"}, ServerID: "srv"}),
			NewPromptResultPart(PromptResult{PromptRequestID: "p1", PromptName: "greet",
				Messages: []Message{{SchemaVersion: "2.0", Role: "user", Channel: "analysis", Content: []ContentPart{NewTextPart("hi bob")}}}, Content: "hi", IsError: true, ErrorMessage: "e"}),
			NewImagePart(ImageSource{Type: "url", Data: "https://x/img.png", MediaType: "image/png"}),
			NewVideoPart(VideoSource{Type: "url", Data: "https://x/v.mp4", MediaType: "video/mp4", DurationMs: u64(1000)}),
			NewAudioPart(AudioSource{Type: "base64", Data: "AAAA", MediaType: "audio/wav", DurationMs: u64(500)}),
			NewDocumentPart(DocumentSource{Type: "base64", Data: "JVBERi0=", MediaType: "application/pdf", Title: "doc"}),
		},
	}}
}

func TestCMFRoundTrip(t *testing.T) {
	m := initialized(t, "")
	in := fullMessage()
	ext := &Extensions{Meta: &MetaExtension{EntityType: "llm", EntityName: "m"}}
	res, ct, bg, err := Invoke(m, "cmf.llm_input", PayloadCMFMessage, in, ext, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	bg.Close()
	if res.PayloadType != PayloadCMFMessage || res.ModifiedPayload == nil {
		t.Fatalf("payload type %d, modified %v, errors %+v", res.PayloadType, res.ModifiedPayload != nil, res.Errors)
	}
	if !reflect.DeepEqual(*res.ModifiedPayload, in) {
		t.Fatalf("CMF message changed on the round trip:\n got %+v\nwant %+v", *res.ModifiedPayload, in)
	}
	for i, p := range in.Message.Content {
		if p.ContentType != ContentTypeText && p.ContentType != ContentTypeThinking {
			assertAllSet(t, reflect.ValueOf(p.content()), "Content["+p.ContentType+"]")
		}
		_ = i
	}
	if len(in.Message.Content) != 12 {
		t.Fatal("every one of the 12 content part kinds")
	}
}

func TestIdentityRoundTrip(t *testing.T) {
	m := initialized(t, "")
	full := fullExtensions()
	in := IdentityPayload{Source: TokenSourceBearer, SourceHeader: "authorization", Headers: map[string]string{"authorization": "Bearer x"},
		ClientHost: "10.0.0.1", ClientPort: 443, Subject: full.Security.Subject, Client: full.Security.Client,
		CallerWorkload: full.Security.CallerWorkload, Delegation: full.Delegation, RawCredentials: full.RawCredentials,
		ResolvedAt: "now", RawClaims: map[string]any{"sub": "u1"}}
	assertAllSet(t, reflect.ValueOf(in), "IdentityPayload")
	res, ct, bg, err := Invoke(m, HookIdentityResolve, PayloadIdentity, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	bg.Close()
	if res.ModifiedPayload == nil || res.PayloadType != PayloadIdentity {
		t.Fatalf("%+v", res)
	}
	if got, want := normalize(t, res.ModifiedPayload), normalize(t, in); !reflect.DeepEqual(got, want) {
		t.Fatalf("identity payload changed:\n got %#v\nwant %#v", got, want)
	}
}

func TestGenericPayloadRoundTrip(t *testing.T) {
	m := initialized(t, "")
	in := map[string]any{"s": "str", "n": int64(-5), "f": 1.25, "b": true, "nil": nil, "list": []any{"a", int64(1)},
		"bin": []byte{1, 2, 3}, "nested": map[string]any{"deep": map[string]any{"x": "y"}}}
	res, ct, bg, err := Invoke(m, "generic_echo", PayloadGeneric, in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	bg.Close()
	got := normalize(t, (*res.ModifiedPayload)["echoed"])
	if want := normalize(t, in); !reflect.DeepEqual(got, want) {
		t.Fatalf("generic payload changed:\n got %#v\nwant %#v", got, want)
	}
}
