package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	cpex "github.com/contextforge-org/cpex-ts/packages/ffi/go"
)

// TestSameDecisionsAsTheTypeScriptDemo runs `pnpm demo --json` (the quickstart in TypeScript,
// in process) and this Go gateway (through the sidecar) and compares every line.
func TestSameDecisionsAsTheTypeScriptDemo(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH")
	}
	demo := exec.Command(node, "--conditions=@cpex/source", "--import", "tsx", "examples/quickstart/src/main.ts", "--json")
	demo.Dir = root
	demo.Env = append(os.Environ(), "INIT_CWD="+root)
	demo.Stderr = os.Stderr
	tsOut, err := demo.Output()
	if err != nil {
		t.Fatalf("pnpm demo --json: %v", err)
	}
	sidecar := strings.Fields(os.Getenv(cpex.SidecarEnv))
	if len(sidecar) == 0 {
		sidecar = []string{node, "--conditions=@cpex/source", "--import", "tsx", filepath.Join(root, "packages/cli/src/bin.ts")}
	}
	var goOut bytes.Buffer
	if err := run(filepath.Join(root, "examples/quickstart/config.yaml"), &goOut, cpex.WithSidecarCommand(sidecar...)); err != nil {
		t.Fatal(err)
	}
	ts, gw := lines(t, tsOut), lines(t, goOut.Bytes())
	if len(ts) != len(gw) || len(ts) != len(samples)+1 {
		t.Fatalf("%d TS lines, %d Go lines, %d samples", len(ts), len(gw), len(samples))
	}
	for i := range ts {
		a, b := ts[i], gw[i]
		if s, ok := a["summary"].(map[string]any); ok {
			delete(s, "telemetry_events") // counted from a diagnostics channel inside the TS process
		}
		for _, m := range []map[string]any{a, b} {
			if d, ok := m["retry_delay_ms"].(float64); ok && d > 0 {
				m["retry_delay_ms"] = "positive" // depends on the clock
			}
		}
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Errorf("line %d differs:\n  ts %s\n  go %s", i+1, ja, jb)
		}
	}
}

func lines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var res []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q (%v)", l, err)
		}
		res = append(res, m)
	}
	return res
}
