package cpex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// countingConn counts the Write calls on the client's side of a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// echoFrames answers every request frame read from nc with {id, rc: 0} until nc breaks.
// hold, when set, is closed to let the server start answering (the requests pile up before).
func echoFrames(nc net.Conn, hold chan struct{}) {
	if hold != nil {
		<-hold
	}
	r := bufio.NewReader(nc)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var req struct {
			ID uint64 `msgpack:"id"`
		}
		if err := msgpack.Unmarshal(body, &req); err != nil {
			return
		}
		ans, _ := msgpack.Marshal(map[string]any{"id": req.ID, "rc": 0})
		binary.BigEndian.PutUint32(hdr[:], uint32(len(ans)))
		if _, err := nc.Write(append(hdr[:], ans...)); err != nil {
			return
		}
	}
}

const callers = 64

// callConcurrently starts n calls on conn and returns once all are in flight; the channel yields
// each call's error (nil for an answer with rc 0) and is closed when every call returned.
func callConcurrently(conn *wireConn, n int) <-chan error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := conn.call(&request{Op: "version"})
			if err == nil && resp.RC != 0 {
				err = errors.New("bad rc")
			}
			errs <- err
		}()
	}
	for conn.inFlight() < n {
		runtime.Gosched()
	}
	go func() {
		wg.Wait()
		close(errs)
	}()
	return errs
}

// Concurrent callers' frames are combined into fewer writes, every call gets its own answer, and
// a write that fails fails every call whose frame was waiting for it.
func TestWritesCombined(t *testing.T) {
	client, server := net.Pipe()
	hold := make(chan struct{})
	go echoFrames(server, hold)
	cc := &countingConn{Conn: client}
	conn := newWireConn(cc, 1)
	defer conn.close()

	// net.Pipe blocks each Write until the server reads: the first caller's write waits there,
	// and the other callers queue their frames behind it.
	errs := callConcurrently(conn, callers)
	close(hold)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if w := cc.writes.Load(); w >= callers {
		t.Fatalf("%d callers made %d writes: no frames were combined", callers, w)
	}

	// a broken connection: the writer's failure reaches the callers whose frames it held
	client2, server2 := net.Pipe()
	conn2 := newWireConn(client2, 2)
	fails := callConcurrently(conn2, callers)
	_ = server2.Close()
	for err := range fails {
		if !errors.Is(err, ErrSidecarDied) {
			t.Fatalf("a call on a broken connection returned %v, want ErrSidecarDied", err)
		}
	}
}
