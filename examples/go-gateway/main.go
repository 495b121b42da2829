// Command go-gateway is the quickstart gateway written in Go: it loads the quickstart plugin config
// into a CPEX sidecar (`cpex serve`, started by the Go client) and prints the decision for each
// sample tool call, one JSON line per call, as `pnpm demo --json` does.
//
//	go run . [--config ../quickstart/config.yaml]
//
// The sidecar command is $CPEX_SIDECAR (default `cpex` on PATH), e.g. from a checkout:
//
//	CPEX_SIDECAR="node --conditions=@cpex/source --import tsx $PWD/../../packages/cli/src/bin.ts" go run .
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	cpex "github.com/contextforge-org/cpex-ts/packages/ffi/go"
)

type call struct {
	User    string
	Hook    string
	Payload toolPayload
}

type toolPayload struct {
	Name   string         `msgpack:"name" json:"name"`
	Args   map[string]any `msgpack:"args,omitempty" json:"args,omitempty"`
	Result any            `msgpack:"result,omitempty" json:"result,omitempty"`
}

// The same stream of calls as examples/quickstart/src/samples.ts.
var samples = []call{
	{"alice", "tool_pre_invoke", toolPayload{Name: "search", Args: map[string]any{"q": "weather in Paris"}}},
	{"alice", "tool_pre_invoke", toolPayload{Name: "send_email", Args: map[string]any{"to": "bob@example.com", "body": "Call me at 555-123-4567"}}},
	{"bob", "tool_pre_invoke", toolPayload{Name: "delete_database", Args: map[string]any{"confirm": true}}},
	{"dave", "tool_pre_invoke", toolPayload{Name: "get_user", Args: map[string]any{"ssn": "123-45-6789"}}},
	{"carol", "tool_pre_invoke", toolPayload{Name: "get_weather", Args: map[string]any{"city": "Oslo"}}},
	{"carol", "tool_pre_invoke", toolPayload{Name: "get_weather", Args: map[string]any{"city": "Lima"}}},
	{"carol", "tool_pre_invoke", toolPayload{Name: "get_weather", Args: map[string]any{"city": "Pune"}}},
	{"carol", "tool_pre_invoke", toolPayload{Name: "get_weather", Args: map[string]any{"city": "Rome"}}},
	{"eve", "tool_pre_invoke", toolPayload{Name: "shell_exec", Args: map[string]any{"cmd": "rm -rf /"}}},
	{"alice", "tool_post_invoke", toolPayload{Name: "get_user", Result: map[string]any{"email": "dave@corp.example", "phone": "+1 555 987 6543"}}},
}

type violation struct {
	Code       string  `json:"code"`
	Reason     string  `json:"reason"`
	PluginName *string `json:"plugin_name"`
}

type errorRecord struct {
	PluginName string `json:"plugin_name"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// report has the fields (and order) of the quickstart's --json lines.
type report struct {
	Seq             int            `json:"seq"`
	User            string         `json:"user"`
	Hook            string         `json:"hook"`
	Tool            string         `json:"tool"`
	Decision        string         `json:"decision"`
	Plugin          *string        `json:"plugin"`
	Violation       *violation     `json:"violation"`
	ModifiedPayload any            `json:"modified_payload"`
	Metadata        map[string]any `json:"metadata"`
	RetryDelayMs    int64          `json:"retry_delay_ms"`
	Errors          []errorRecord  `json:"errors"`
}

// run loads the config through the sidecar, sends every sample call and writes one JSON line per call.
func run(configPath string, out io.Writer, opts ...cpex.Option) error {
	yaml, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(filepath.Dir(configPath))
	if err != nil {
		return err
	}
	m, err := cpex.NewPluginManager(string(yaml), append([]cpex.Option{cpex.WithBaseDir(abs)}, opts...)...)
	if err != nil {
		return err
	}
	defer m.Shutdown()
	if err := m.Initialize(); err != nil {
		return err
	}
	counts := map[string]int{"allow": 0, "modify": 0, "deny": 0}
	enc := json.NewEncoder(out)
	for i, c := range samples {
		gc := &cpex.GlobalContext{RequestID: fmt.Sprintf("req-%d", i+1), User: c.User}
		res, ct, bg, err := m.InvokeByNameWithContext(c.Hook, cpex.PayloadGeneric, c.Payload, nil, nil, gc)
		if err != nil {
			return fmt.Errorf("call %d: %w", i+1, err)
		}
		ct.Close()
		background, err := bg.Wait()
		if err != nil {
			return fmt.Errorf("call %d: background: %w", i+1, err)
		}
		r := report{Seq: i + 1, User: c.User, Hook: c.Hook, Tool: c.Payload.Name, Decision: "allow",
			Metadata: res.Metadata, RetryDelayMs: res.RetryDelayMs, Errors: []errorRecord{}}
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		switch {
		case !res.ContinueProcessing:
			r.Decision = "deny"
		case res.PayloadModified:
			r.Decision = "modify"
		}
		if v := res.Violation; v != nil {
			name := v.PluginName
			r.Plugin = &name
			r.Violation = &violation{Code: v.Code, Reason: v.Reason, PluginName: &name}
		}
		if res.PayloadModified {
			p, err := cpex.DeserializePayload[map[string]any](res)
			if err != nil {
				return err
			}
			r.ModifiedPayload = p
		}
		for _, e := range append(res.Errors, background...) {
			r.Errors = append(r.Errors, errorRecord{PluginName: e.PluginName, Code: e.Code, Message: e.Message})
		}
		counts[r.Decision]++
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	summary := map[string]any{"summary": map[string]any{"calls": len(samples), "allow": counts["allow"],
		"modify": counts["modify"], "deny": counts["deny"]}}
	return enc.Encode(summary)
}

func main() {
	config := flag.String("config", filepath.Join("..", "quickstart", "config.yaml"), "plugin config")
	flag.Parse()
	if err := run(*config, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "go-gateway:", err)
		os.Exit(1)
	}
}
