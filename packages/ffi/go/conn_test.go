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

// Concurrent callers' frames are combined into fewer writes, every call gets its own answer, and
// a write that fails fails every call whose frame was waiting for it.
func TestWritesCombined(t *testing.T) {
	client, server := net.Pipe()
	hold := make(chan struct{})
	go echoFrames(server, hold)
	cc := &countingConn{Conn: client}
	conn := newWireConn(cc, 1)
	defer conn.close()

	const callers = 64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
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
	// net.Pipe blocks each Write until the server reads: the first caller's write waits here,
	// and the other callers queue their frames behind it.
	for conn.inFlight() < callers {
		runtime.Gosched()
	}
	close(hold)
	wg.Wait()
	close(errs)
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
	var wg2 sync.WaitGroup
	fails := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			_, err := conn2.call(&request{Op: "version"})
			fails <- err
		}()
	}
	for conn2.inFlight() < callers {
		runtime.Gosched()
	}
	_ = server2.Close()
	wg2.Wait()
	close(fails)
	for err := range fails {
		if !errors.Is(err, ErrSidecarDied) {
			t.Fatalf("a call on a broken connection returned %v, want ErrSidecarDied", err)
		}
	}
}
