package cpex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKilledSidecar(t *testing.T) {
	m := initialized(t, "killed")
	pid := m.SidecarPID()
	if pid == 0 {
		t.Fatal("no sidecar pid")
	}
	_, ctOld, _, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, toolPayload{Name: "a"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ct, bgOld, err := m.InvokeByName("bg", PayloadGeneric, map[string]any{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct.Close()

	const n = 8
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, _, _, err := m.InvokeByName("slow", PayloadGeneric, map[string]any{"ms": 60000}, nil, nil)
			results <- err
		}()
	}
	waitFor(t, "the slow calls to be in flight", 30*time.Second, func() bool {
		m.s.c.mu.Lock()
		conn := m.s.c.conn
		m.s.c.mu.Unlock()
		return conn.inFlight() >= n
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		select {
		case err := <-results:
			if !errors.Is(err, ErrSidecarDied) {
				t.Fatalf("in-flight call: %v, want ErrSidecarDied", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("an in-flight call hung after the sidecar died")
		}
	}
	// The next call waits for the restart; the manager is re-created from its YAML and re-initialized.
	res, ct2, bg2, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, toolPayload{Name: "b"}, nil, nil)
	if err != nil {
		t.Fatalf("call after the restart: %v", err)
	}
	ct2.Close()
	bg2.Close()
	if !res.ContinueProcessing || !m.IsInitialized() || m.PluginCount() != 5 {
		t.Fatal("the manager was not re-created and re-initialized")
	}
	if newPID := m.SidecarPID(); newPID == pid || newPID == 0 {
		t.Fatalf("sidecar pid %d after the restart (was %d)", newPID, pid)
	}
	// handles from before the restart answer invalid handle
	if _, _, _, err := m.InvokeByName("tool_post_invoke", PayloadGeneric, map[string]any{"name": "a", "result": 1}, nil, ctOld); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("context table from before the restart: %v", err)
	}
	if _, err := bgOld.Wait(); !errors.Is(err, ErrCpexInvalidHandle) {
		t.Fatalf("background tasks from before the restart: %v", err)
	}
}

// startSidecar runs `cpex serve --socket` itself (as an operator would) and returns the socket.
func startSidecar(t testing.TB, args ...string) (string, *exec.Cmd) {
	t.Helper()
	dir, err := os.MkdirTemp("", "cpex-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	argv := append(append(append([]string(nil), sidecarCmd[1:]...), "serve", "--socket", sock), args...)
	cmd := exec.Command(sidecarCmd[0], argv...)
	cmd.Stderr = os.Stderr
	cmd.Dir = testdata(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	waitFor(t, "the sidecar socket", 240*time.Second, func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return sock, cmd
}

func TestConnectSharedManagerAndDrain(t *testing.T) {
	sock, cmd := startSidecar(t, "--config", "config.yaml")
	info, err := os.Stat(sock)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	m, err := Connect(sock)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsInitialized() || m.PluginCount() != 5 {
		t.Fatal("Connect must attach to the preloaded, initialized manager")
	}
	if err := m.LoadConfig("plugins: []"); !errors.Is(err, ErrCpexPipeline) {
		t.Fatalf("LoadConfig on the shared manager: %v", err)
	}
	m.Shutdown() // detaches only
	m2, err := Connect(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Shutdown()
	if m2.PluginCount() != 5 {
		t.Fatal("the shared manager must survive a client's Shutdown")
	}
	// SIGTERM drains: a call in flight completes, then the sidecar exits and removes its socket.
	done := make(chan error, 1)
	go func() {
		res, _, _, err := m2.InvokeByName("slow", PayloadGeneric, map[string]any{"ms": 1500}, nil, nil)
		if err == nil && fmt.Sprint(res.Metadata["slept"]) != "1500" {
			err = fmt.Errorf("unexpected result %+v", res)
		}
		done <- err
	}()
	waitFor(t, "the call to be in flight", 10*time.Second, func() bool {
		m2.s.c.mu.Lock()
		defer m2.s.c.mu.Unlock()
		return m2.s.c.conn.inFlight() > 0
	})
	// wait until the sidecar itself has the call in flight (stats counts the stats call too)
	probe := dialRaw(t, sock)
	waitFor(t, "the sidecar to have the call in flight", 30*time.Second, func() bool {
		probe.send(map[string]any{"id": 1, "op": "stats"})
		a, _ := probe.until(1)
		return fmt.Sprint(a["inflight"]) == "2"
	})
	probe.nc.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the in-flight call did not drain: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("drain hung")
	}
	waitFor(t, "the socket file to be removed", 30*time.Second, func() bool {
		_, err := os.Stat(sock)
		return os.IsNotExist(err)
	})
}

// rawConn speaks the protocol by hand (malformed frames, handle accounting).
type rawConn struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t testing.TB, sock string) *rawConn {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) sendBody(body []byte) {
	buf := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := c.nc.Write(append(buf, body...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) send(req map[string]any) {
	b, err := msgpack.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendBody(b)
}

func (c *rawConn) recv() map[string]any {
	_ = c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		c.t.Fatalf("no answer: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatal(err)
	}
	var out map[string]any
	if body[0] == '{' {
		out = map[string]any{"json": string(body)}
		return out
	}
	dec := msgpack.NewDecoder(bytesReader(body))
	dec.UseLooseInterfaceDecoding(true)
	if err := dec.Decode(&out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// until reads answers until the one with id (returning it) and counts the others.
func (c *rawConn) until(id int64) (map[string]any, []map[string]any) {
	var others []map[string]any
	for {
		a := c.recv()
		if fmt.Sprint(a["id"]) == fmt.Sprint(id) {
			return a, others
		}
		others = append(others, a)
	}
}

func TestMalformedFrames(t *testing.T) {
	sock, _ := startSidecar(t, "--max-frame-bytes", "4096")
	c := dialRaw(t, sock)
	defer c.nc.Close()
	bad := [][]byte{
		{0xc1},                       // never-used msgpack byte
		{0x93, 0x01, 0x02, 0x03},     // an array, not a map
		{0x81, 0xa2, 'o', 'p', 0x01}, // no id
		{0x82, 0xa2, 'i', 'd', 0xff, 0xa2, 'o', 'p', 0xa1, 'x'}, // negative id
		[]byte(`{"id": "x"`), // truncated JSON
		{},                   // empty body
	}
	for _, b := range bad {
		c.sendBody(b)
	}
	// an oversize frame: answered -2, skipped, the stream stays in sync
	c.sendBody(make([]byte, 5000))
	c.send(map[string]any{"id": 5, "op": "nope"})
	c.send(map[string]any{"id": 6, "op": "invoke", "manager": "x"})
	c.send(map[string]any{"id": 7, "op": "version"})
	v, others := c.until(7)
	if len(others) < len(bad)+3 { // invoke answers asynchronously: id 6 may come after 7
		a, more := c.until(6)
		others = append(append(others, more...), a)
	}
	if v["rc"] != int64(0) || v["protocol"] != int64(ProtocolVersion) {
		t.Fatalf("version after malformed frames: %v", v)
	}
	if len(others) != len(bad)+3 {
		t.Fatalf("%d answers to %d bad requests: %v", len(others), len(bad)+3, others)
	}
	for _, a := range others {
		if a["json"] != nil {
			continue // the truncated JSON frame is answered in JSON
		}
		if a["rc"] != int64(rcInvalidInput) {
			t.Errorf("answer %v, want rc -2", a)
		}
	}
	// JSON debug encoding
	c.sendBody([]byte(`{"id": 8, "op": "version"}`))
	if j := c.recv(); j["json"] == nil {
		t.Fatalf("a JSON request must get a JSON answer: %v", j)
	}
	// handles of a closed connection are freed
	other := dialRaw(t, sock)
	other.send(map[string]any{"id": 1, "op": "load_config", "yaml": "plugins: []"})
	if a := other.recv(); a["rc"] != int64(0) {
		t.Fatalf("load_config: %v", a)
	}
	other.send(map[string]any{"id": 2, "op": "stats"})
	if a := other.recv(); a["handles"] != int64(1) {
		t.Fatalf("stats: %v", a)
	}
	other.nc.Close()
	waitFor(t, "the closed connection's handles to be freed", 10*time.Second, func() bool {
		c.send(map[string]any{"id": 9, "op": "stats"})
		a, _ := c.until(9)
		return a["handles"] == int64(0) && a["connections"] == int64(1)
	})
}

var (
	fuzzOnce sync.Once
	fuzzSock string
)

// FuzzFrames throws arbitrary frame bodies at a sidecar: every one is answered (or skipped) without
// crashing it, the connection stays usable, and a closed connection leaves no handle behind.
func FuzzFrames(f *testing.F) {
	for _, seed := range [][]byte{
		{0xc1}, {0x80}, {0x81, 0xa2, 'i', 'd', 0x01}, []byte(`{"id":1,"op":"version"}`), []byte(`{"id":1,"op":"invoke"}`),
		{0x83, 0xa2, 'i', 'd', 0x01, 0xa2, 'o', 'p', 0xa6, 'i', 'n', 'v', 'o', 'k', 'e', 0xa7, 'm', 'a', 'n', 'a', 'g', 'e', 'r', 0x05},
		{0xdf, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0x7f, 0xff, 0xff, 0xff}, {0xc6, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(seed)
	}
	fuzzOnce.Do(func() {
		// the sidecar outlives the fuzz workers' individual runs; it dies with the test process
		dir, err := os.MkdirTemp("", "cpex-fuzz-")
		if err != nil {
			f.Fatal(err)
		}
		fuzzSock = filepath.Join(dir, "f.sock")
		argv := append(append([]string(nil), sidecarCmd[1:]...), "serve", "--socket", fuzzSock, "--max-frame-bytes", "65536")
		cmd := exec.Command(sidecarCmd[0], argv...)
		cmd.SysProcAttr = sidecarSysProcAttr()
		if err := cmd.Start(); err != nil {
			f.Fatal(err)
		}
		waitFor(f, "the fuzz sidecar", 240*time.Second, func() bool {
			c, err := net.Dial("unix", fuzzSock)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		c := dialRaw(t, fuzzSock)
		c.sendBody(body)
		c.send(map[string]any{"id": 99, "op": "version"})
		for {
			// a body that begins with id 99 is answered on that id too: skip its answer
			a, _ := c.until(99)
			if _, isVersion := a["protocol"]; isVersion || a["rc"] == int64(0) {
				if a["rc"] != int64(0) {
					t.Fatalf("version after %x: %v", body, a)
				}
				break
			}
		}
		c.nc.Close()
		probe := dialRaw(t, fuzzSock)
		defer probe.nc.Close()
		waitFor(t, "no handles left", 10*time.Second, func() bool {
			probe.send(map[string]any{"id": 1, "op": "stats"})
			a, _ := probe.until(1)
			return a["handles"] == int64(0)
		})
	})
}
