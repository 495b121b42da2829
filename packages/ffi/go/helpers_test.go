package cpex

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The sidecar the tests run: $CPEX_SIDECAR, else the CLI from this checkout's sources (no build needed).
var sidecarCmd []string

var repoRoot string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "../../.."))
	if env := strings.Fields(os.Getenv(SidecarEnv)); len(env) > 0 {
		sidecarCmd = env
	} else {
		node, err := exec.LookPath("node")
		if err != nil {
			fmt.Fprintln(os.Stderr, "node is not on PATH: the tests need it to run the sidecar")
			os.Exit(1)
		}
		sidecarCmd = []string{node, "--conditions=@cpex/source", "--import", "tsx", filepath.Join(repoRoot, "packages/cli/src/bin.ts")}
	}
	os.Exit(m.Run())
}

func testdata(t testing.TB) string {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func testConfig(t testing.TB) string {
	b, err := os.ReadFile(filepath.Join(testdata(t), "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newManager starts a manager on the shared test sidecar; tag gives it a sidecar of its own.
func newTestManager(t testing.TB, tag string) *PluginManager {
	t.Helper()
	cmd := sidecarCmd
	if tag != "" {
		cmd = append([]string{"env", "CPEX_TEST_SIDECAR=" + tag}, sidecarCmd...)
	}
	m, err := NewPluginManager(testConfig(t), WithSidecarCommand(cmd...), WithBaseDir(testdata(t)),
		WithStartTimeout(90*time.Second))
	if err != nil {
		t.Fatalf("NewPluginManager: %v", err)
	}
	t.Cleanup(m.Shutdown)
	return m
}

func initialized(t testing.TB, tag string) *PluginManager {
	t.Helper()
	m := newTestManager(t, tag)
	if err := m.Initialize(); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return m
}

type toolPayload struct {
	Name string         `msgpack:"name"`
	Args map[string]any `msgpack:"args,omitempty"`
}
