package cpex

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBench is the Go half of `pnpm bench --only ffi` (bench/src/ffi.ts starts the sidecar and a
// bare Node echo server and sets the environment). It is not a test: without
// CPEX_BENCH_SIDECAR it does nothing.
func TestBench(t *testing.T) {
	sidecar, echo := os.Getenv("CPEX_BENCH_SIDECAR"), os.Getenv("CPEX_BENCH_ECHO")
	if sidecar == "" || echo == "" {
		t.Skip("run by pnpm bench --only ffi")
	}
	n, _ := strconv.Atoi(os.Getenv("CPEX_BENCH_N"))
	if n <= 0 {
		n = 3000
	}
	rounds, _ := strconv.Atoi(os.Getenv("CPEX_BENCH_ROUNDS"))
	if rounds <= 0 {
		rounds = 3
	}
	payload := toolPayload{Name: "search", Args: map[string]any{"q": strings.Repeat("x", 1000)}}

	m, err := Connect(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	viaSidecar := func() error {
		res, ct, bg, err := m.InvokeByName("tool_pre_invoke", PayloadGeneric, payload, nil, nil)
		if err != nil {
			return err
		}
		ct.Close()
		bg.Close()
		if !res.ContinueProcessing {
			return fmt.Errorf("denied")
		}
		return nil
	}
	nc, err := net.Dial("unix", echo)
	if err != nil {
		t.Fatal(err)
	}
	echoConn := newWireConn(nc, 1)
	defer echoConn.close()
	// the same request frame the client sends for that invoke, echoed back as its answer
	viaEcho := func() error {
		resp, err := echoConn.call(&request{Op: "invoke", Manager: m.s.handle, Hook: "tool_pre_invoke", Payload: payload})
		if err != nil {
			return err
		}
		_ = resp
		return nil
	}
	modes := []struct {
		name string
		fn   func() error
	}{{"echo", viaEcho}, {"sidecar", viaSidecar}}
	// Warm-up, the same for both modes: the timed rounds measure a warm sidecar (a long-running
	// process, as in production), not V8 compiling its code paths on the first calls.
	for _, c := range modes {
		if _, err := throughput(c.fn, 16, n*4); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < rounds; round++ {
		for _, c := range modes {
			lat, err := latencies(c.fn, n)
			if err != nil {
				t.Fatal(err)
			}
			tput, err := throughput(c.fn, 16, n*4)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.Marshal(map[string]any{"mode": c.name, "round": round, "lat_us": lat, "throughput": tput})
			fmt.Println("BENCH " + string(out))
		}
	}
}

// latencies runs fn n times in a row (after a warm-up) and returns each call's µs.
func latencies(fn func() error, n int) ([]float64, error) {
	for i := 0; i < n/10; i++ {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	out := make([]float64, n)
	for i := range out {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out[i] = float64(time.Since(t0).Nanoseconds()) / 1000
	}
	sort.Float64s(out)
	return out, nil
}

// throughput runs total calls from g goroutines and returns calls per second.
func throughput(fn func() error, g, total int) (float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	per := total / g
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < per; j++ {
				if err := fn(); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(per*g) / time.Since(t0).Seconds(), first
}
