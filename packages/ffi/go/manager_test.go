package cpex

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
)

func TestLifecycle(t *testing.T) {
	m := newTestManager(t, "")
	if n := m.PluginCount(); n != 5 {
		t.Fatalf("PluginCount = %d, want 5", n)
	}
	names, err := m.PluginNames()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"echo", "counter", "sleeper", "denier", "background"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("PluginNames = %v, want %v", names, want)
	}
	if !m.HasHooksFor("tool_pre_invoke") || m.HasHooksFor("no_such_hook") {
		t.Fatal("HasHooksFor")
	}
	if m.IsInitialized() {
		t.Fatal("initialized before Initialize")
	}
	// invoke before initialize: a pipeline error
	if _, _, _, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, toolPayload{Name: "x"}, nil, nil); !errors.Is(err, ErrCpexPipeline) {
		t.Fatalf("invoke before Initialize: %v, want ErrCpexPipeline", err)
	}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	if !m.IsInitialized() {
		t.Fatal("not initialized after Initialize")
	}
	m.Shutdown()
	m.Shutdown() // idempotent
	if m.IsInitialized() || m.PluginCount() != 0 || m.HasHooksFor("tool_pre_invoke") {
		t.Fatal("ops after Shutdown must answer zero values")
	}
	if _, err := m.PluginNames(); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("PluginNames after Shutdown: %v", err)
	}
	if _, _, _, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, toolPayload{Name: "x"}, nil, nil); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("invoke after Shutdown: %v", err)
	}
	if err := m.Initialize(); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("Initialize after Shutdown: %v", err)
	}
	if err := m.LoadConfig(testConfig(t)); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("LoadConfig after Shutdown: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	_, err := NewPluginManager("plugins: [ {name: 1", WithSidecarCommand(sidecarCmd...))
	if !errors.Is(err, ErrCpexParse) {
		t.Fatalf("bad YAML: %v, want ErrCpexParse", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != "CPEX_ERR_CONFIG_PARSE" {
		t.Fatalf("bad YAML: %#v", err)
	}
	_, err = NewPluginManager("plugins:\n  - name: x\n    kind: node://./missing.ts\n    hooks: [a]\n", WithSidecarCommand(sidecarCmd...))
	if err != nil {
		t.Fatalf("a missing module fails at Initialize, not at load: %v", err)
	}
	m, err := NewPluginManagerDefault(WithSidecarCommand(sidecarCmd...), WithBaseDir(testdata(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	if m.PluginCount() != 0 {
		t.Fatal("default manager has plugins")
	}
	if err := m.LoadConfig("plugins:\n  - name: x\n    kind: node://./missing.ts\n    hooks: [a]\n"); err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(); !errors.Is(err, ErrCpexPipeline) {
		t.Fatalf("Initialize with a missing module: %v, want ErrCpexPipeline", err)
	}
	if err := m.LoadConfig(testConfig(t)); err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	if m.PluginCount() != 5 {
		t.Fatal("LoadConfig did not replace the config")
	}
}

func TestInvokeAndContextThreading(t *testing.T) {
	m := initialized(t, "")
	gc := &GlobalContext{RequestID: "req-1", User: "alice", State: map[string]any{"from_go": 1}}
	res, ct, bg, err := m.InvokeByNameWithContext("tool_pre_invoke", PayloadGeneric,
		toolPayload{Name: "search", Args: map[string]any{"q": "x"}}, nil, nil, gc)
	if err != nil {
		t.Fatal(err)
	}
	defer bg.Close()
	if !res.ContinueProcessing || !res.PayloadModified {
		t.Fatalf("result %+v", res)
	}
	if res.Metadata["count"] != int8(1) && fmt.Sprint(res.Metadata["count"]) != "1" {
		t.Fatalf("count = %v", res.Metadata["count"])
	}
	if res.Metadata["user"] != "alice" || res.Metadata["request_id"] != "req-1" {
		t.Fatalf("the global context did not reach the plugin: %v", res.Metadata)
	}
	if gc.State["seen_by_counter"] != true || fmt.Sprint(gc.State["from_go"]) != "1" {
		t.Fatalf("global state writes not merged back: %v", gc.State)
	}
	p, err := DeserializePayload[toolPayload](res)
	if err != nil || p.Name != "search" {
		t.Fatalf("payload %v %v", p, err)
	}
	// post, with the table of pre: the counter's local state carries over
	res2, ct2, bg2, err := m.InvokeByNameWithContext("tool_post_invoke", PayloadGeneric,
		map[string]any{"name": "search", "result": "ok"}, nil, ct, &GlobalContext{RequestID: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ct2.Close()
	defer bg2.Close()
	if fmt.Sprint(res2.Metadata["count"]) != "2" {
		t.Fatalf("local state did not thread pre → post: count = %v", res2.Metadata["count"])
	}
	// the table was consumed by the second invoke
	if _, _, _, err := m.InvokeByName("tool_post_invoke", PayloadGeneric, map[string]any{"name": "s", "result": 1}, nil, ct); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("reusing a consumed table: %v", err)
	}
	// a fresh request starts from zero
	res3, ct3, _, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, toolPayload{Name: "s"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct3.Close()
	ct3.Close()
	if fmt.Sprint(res3.Metadata["count"]) != "1" {
		t.Fatalf("count = %v", res3.Metadata["count"])
	}
}

func TestDenyAndErrors(t *testing.T) {
	m := initialized(t, "")
	res, ct, bg, err := m.InvokeByName("deny_me", PayloadGeneric, map[string]any{"a": 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	bg.Close()
	if !res.IsDenied() || res.Violation == nil || res.Violation.Code != "forbidden" || res.Violation.PluginName != "denier" ||
		res.Violation.HTTPStatusCode == nil || *res.Violation.HTTPStatusCode != 403 || res.Violation.Details["why"] != "test" {
		t.Fatalf("violation %+v", res.Violation)
	}
	cases := []struct {
		name    string
		hook    string
		pt      uint8
		payload any
		ext     *Extensions
		want    error
		code    string
	}{
		{"payload fails the hook schema", "tool_pre_invoke", PayloadGeneric, map[string]any{"name": 5}, nil, ErrCpexParse, "CPEX_ERR_INVALID_PAYLOAD"},
		{"unknown payload type", "tool_pre_invoke", 9, toolPayload{Name: "x"}, nil, ErrCpexParse, "CPEX_ERR_INVALID_PAYLOAD"},
		{"payload type of another hook", "tool_pre_invoke", PayloadCMFMessage, toolPayload{Name: "x"}, nil, ErrCpexParse, "CPEX_ERR_INVALID_PAYLOAD"},
		{"CMF payload that is not a message", "cmf.llm_input", PayloadCMFMessage, map[string]any{"message": map[string]any{"role": "robot"}}, nil, ErrCpexParse, "CPEX_ERR_INVALID_PAYLOAD"},
		{"bad extensions", "tool_pre_invoke", PayloadGeneric, toolPayload{Name: "x"}, &Extensions{Security: &SecurityExtension{Subject: &SubjectExtension{SubjectType: "martian"}}}, ErrCpexParse, "CPEX_ERR_INVALID_PAYLOAD"},
		{"empty hook name", "", PayloadGeneric, 1, nil, ErrCpexInvalidInput, "CPEX_ERR_FFI_FRAME"},
	}
	for _, c := range cases {
		_, _, _, err := m.InvokeByName(c.hook, c.pt, c.payload, c.ext, nil)
		var e *Error
		if !errors.Is(err, c.want) || !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: %v, want %v / %s", c.name, err, c.want, c.code)
		}
	}
	// after every error the manager still works
	if _, ct, bg, err := m.InvokeByName("generic_echo", PayloadGeneric, []any{1, "two"}, nil, nil); err != nil {
		t.Fatal(err)
	} else {
		ct.Close()
		bg.Close()
	}
}

func TestBackgroundTasks(t *testing.T) {
	m := initialized(t, "")
	res, ct, bg, err := m.InvokeByName("bg", PayloadGeneric, map[string]any{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	if !res.ContinueProcessing {
		t.Fatal("fire-and-forget must not halt")
	}
	errs, err := bg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].PluginName != "background" || errs[0].Message == "" {
		t.Fatalf("background errors %+v", errs)
	}
	if again, err := bg.Wait(); again != nil || err != nil {
		t.Fatal("second Wait must be a no-op")
	}
	// a hook without fire-and-forget plugins: Wait returns at once
	_, ct, bg, err = m.InvokeByName("generic_echo", PayloadGeneric, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	if errs, err := bg.Wait(); errs != nil || err != nil {
		t.Fatal(errs, err)
	}
	// Wait after Shutdown: invalid handle
	_, ct, bg, err = m.InvokeByName("bg", PayloadGeneric, map[string]any{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()
	m.Shutdown()
	if _, err := bg.Wait(); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("Wait after Shutdown: %v", err)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	m := initialized(t, "")
	const goroutines, calls = 64, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				rid := fmt.Sprintf("g%d-%d", g, i)
				res, ct, bg, err := m.InvokeByNameWithContext("tool_pre_invoke", PayloadGeneric,
					toolPayload{Name: rid}, nil, nil, &GlobalContext{RequestID: rid, User: fmt.Sprint(g)})
				if err != nil {
					errs <- err
					return
				}
				bg.Close()
				p, _ := DeserializePayload[toolPayload](res)
				if p == nil || p.Name != rid || res.Metadata["request_id"] != rid {
					errs <- fmt.Errorf("%s: crossed answer: %+v", rid, res.Metadata)
					return
				}
				res2, ct2, bg2, err := m.InvokeByName("tool_post_invoke", PayloadGeneric, map[string]any{"name": rid, "result": i}, nil, ct)
				if err != nil {
					errs <- err
					return
				}
				ct2.Close()
				bg2.Close()
				if fmt.Sprint(res2.Metadata["count"]) != "2" {
					errs <- fmt.Errorf("%s: count %v", rid, res2.Metadata["count"])
					return
				}
			}
		}(g)
	}
	// other operations interleaved with the invokes
	for i := 0; i < 20; i++ {
		if !m.HasHooksFor("tool_pre_invoke") {
			t.Error("HasHooksFor")
		}
	}
	wg.Wait()
	close(errs)
	var all []string
	for err := range errs {
		all = append(all, err.Error())
	}
	sort.Strings(all)
	if len(all) > 0 {
		t.Fatalf("%d goroutines failed: %v", len(all), all)
	}
}
