package cpex

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// maxFrameBytes is the largest frame this client sends or accepts (the sidecar's default).
const maxFrameBytes = 16 << 20

// request is one request frame (docs/ffi/protocol.md). Zero fields are left out.
type request struct {
	ID           uint64         `msgpack:"id"`
	Op           string         `msgpack:"op"`
	Manager      uint64         `msgpack:"manager,omitempty"`
	Hook         string         `msgpack:"hook,omitempty"`
	PayloadType  uint8          `msgpack:"payload_type,omitempty"`
	Payload      any            `msgpack:"payload,omitempty"` // inline (the sidecar also takes a bin document)
	Extensions   *Extensions    `msgpack:"extensions,omitempty"`
	ContextTable uint64         `msgpack:"context_table,omitempty"`
	Context      *GlobalContext `msgpack:"context,omitempty"`
	Background   uint64         `msgpack:"background,omitempty"`
	YAML         string         `msgpack:"yaml,omitempty"`
	// handles the client is done with, piggybacked on the next request (no frame of their own)
	FreeContextTables []uint64 `msgpack:"free_context_tables,omitempty"`
	FreeBackgrounds   []uint64 `msgpack:"free_backgrounds,omitempty"`
	BaseDir           string   `msgpack:"base_dir,omitempty"`
}

type wireError struct {
	Code    string `msgpack:"code"`
	Message string `msgpack:"message"`
}

type contextWrites struct {
	State    map[string]any `msgpack:"state"`
	Metadata map[string]any `msgpack:"metadata"`
}

// response is one answer frame; which fields are set depends on the op.
type response struct {
	ID            uint64             `msgpack:"id"`
	RC            int                `msgpack:"rc"`
	Error         *wireError         `msgpack:"error"`
	Result        *PipelineResult    `msgpack:"result"`
	ContextTable  uint64             `msgpack:"context_table"`
	Background    uint64             `msgpack:"background"`
	Manager       uint64             `msgpack:"manager"`
	Value         msgpack.RawMessage `msgpack:"value"`
	Errors        []PluginError      `msgpack:"errors"`
	Context       *contextWrites     `msgpack:"context"`
	Protocol      int                `msgpack:"protocol"`
	SharedManager uint64             `msgpack:"shared_manager"`
	Server        string             `msgpack:"server"`
}

type outcome struct {
	resp *response
	err  error
}

// wireConn is one connection to a sidecar: requests are written under a mutex, one reader
// goroutine hands answers to their callers by id. When the connection breaks, every call in flight
// fails with ErrSidecarDied and later calls fail at once.
type wireConn struct {
	nc    net.Conn
	epoch uint64

	// Writes from concurrent goroutines are combined: the goroutine that finds no write in
	// progress writes its frame, then every frame queued meanwhile, in one syscall per round;
	// the others queue their frame and return. A lone caller writes at once.
	wmu     sync.Mutex // guards writing and queued
	writing bool
	queued  []byte // frames waiting for the writer, back to back
	spare   []byte // the buffer of the last round, reused

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan outcome
	dead    error
	done    chan struct{}
	freeCT  []uint64
	freeBG  []uint64
	flush   *time.Timer
}

func newWireConn(nc net.Conn, epoch uint64) *wireConn {
	c := &wireConn{nc: nc, epoch: epoch, pending: make(map[uint64]chan outcome), done: make(chan struct{})}
	go c.readLoop()
	return c
}

func (c *wireConn) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead != nil
}

// fail marks the connection dead and fails every call in flight.
func (c *wireConn) fail(err error) {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return
	}
	c.dead = err
	pending := c.pending
	c.pending = make(map[uint64]chan outcome)
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, ch := range pending {
		ch <- outcome{err: err}
	}
}

func (c *wireConn) close() { c.fail(fmt.Errorf("%w: connection closed by the client", ErrSidecarDied)) }

func (c *wireConn) readLoop() {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			c.fail(fmt.Errorf("%w: %v", ErrSidecarDied, err))
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > maxFrameBytes {
			c.fail(fmt.Errorf("%w: the sidecar sent a frame of %d bytes (limit %d)", ErrSidecarDied, n, maxFrameBytes))
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			c.fail(fmt.Errorf("%w: %v", ErrSidecarDied, err))
			return
		}
		resp := new(response)
		if err := msgpack.Unmarshal(body, resp); err != nil {
			c.fail(fmt.Errorf("%w: undecodable answer: %v", ErrSidecarDied, err))
			return
		}
		c.mu.Lock()
		ch, ok := c.pending[resp.ID]
		delete(c.pending, resp.ID)
		c.mu.Unlock()
		if ok {
			ch <- outcome{resp: resp}
		}
	}
}

var chanPool = sync.Pool{New: func() any { return make(chan outcome, 1) }}

// call sends req and waits for its answer (or the connection's death).
func (c *wireConn) call(req *request) (*response, error) {
	ch := chanPool.Get().(chan outcome)
	c.mu.Lock()
	if c.dead != nil {
		err := c.dead
		c.mu.Unlock()
		chanPool.Put(ch)
		return nil, err
	}
	c.nextID++
	req.ID = c.nextID
	c.pending[req.ID] = ch
	c.mu.Unlock()

	if err := c.write(req); err != nil {
		c.mu.Lock()
		_, still := c.pending[req.ID]
		delete(c.pending, req.ID)
		c.mu.Unlock()
		if still {
			chanPool.Put(ch)
			return nil, err
		}
		// the reader (or fail) already answered: take that answer below
	}
	out := <-ch
	chanPool.Put(ch)
	return out.resp, out.err
}

// deferFree queues a handle to free: it rides on the next request, or a `free` request sent
// after 20 ms of quiet.
func (c *wireConn) deferFree(background bool, h uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead != nil {
		return // the sidecar freed it with the connection
	}
	if background {
		c.freeBG = append(c.freeBG, h)
	} else {
		c.freeCT = append(c.freeCT, h)
	}
	if c.flush == nil {
		c.flush = time.AfterFunc(20*time.Millisecond, func() {
			c.mu.Lock()
			c.flush = nil
			pending := len(c.freeCT)+len(c.freeBG) > 0
			c.mu.Unlock()
			if pending {
				c.post(&request{Op: "free"})
			}
		})
	}
}

// post sends req without waiting for its answer (frees: the reader drops the answer).
func (c *wireConn) post(req *request) {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return
	}
	c.nextID++
	req.ID = c.nextID
	c.mu.Unlock()
	_ = c.write(req)
}

// frameBufs are reusable frame buffers: a request is encoded straight after its 4-byte header.
var frameBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var frameHeader [4]byte

func (c *wireConn) write(req *request) error {
	c.mu.Lock()
	if len(c.freeCT)+len(c.freeBG) > 0 {
		req.FreeContextTables, req.FreeBackgrounds = c.freeCT, c.freeBG
		c.freeCT, c.freeBG = nil, nil
	}
	c.mu.Unlock()
	buf := frameBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			frameBufs.Put(buf)
		}
	}()
	buf.Reset()
	buf.Write(frameHeader[:])
	enc := msgpack.GetEncoder()
	enc.Reset(buf)
	err := enc.Encode(req)
	msgpack.PutEncoder(enc)
	if err != nil {
		return fmt.Errorf("%w: request encode failed: %v", ErrCpexInvalidInput, err)
	}
	b := buf.Bytes()
	n := len(b) - len(frameHeader)
	if n > maxFrameBytes {
		return &Error{Op: req.Op, RC: rcInvalidInput, Code: "CPEX_ERR_FFI_FRAME_TOO_LARGE",
			Message: fmt.Sprintf("request of %d bytes exceeds the frame limit of %d", n, maxFrameBytes)}
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	c.wmu.Lock()
	if c.writing {
		// another goroutine is writing: it writes this frame in its next round. If that write
		// fails, fail() answers this call (ErrSidecarDied) like every other call in flight.
		c.queued = append(c.queued, b...)
		c.wmu.Unlock()
		return nil
	}
	c.writing = true
	c.wmu.Unlock()
	_, err = c.nc.Write(b)
	for err == nil {
		c.wmu.Lock()
		if len(c.queued) == 0 {
			break
		}
		round := c.queued
		c.queued = c.spare[:0]
		c.wmu.Unlock()
		_, err = c.nc.Write(round)
		c.wmu.Lock()
		if cap(round) <= 256<<10 {
			c.spare = round[:0]
		}
		c.wmu.Unlock()
	}
	if err == nil {
		c.writing = false // wmu is held (the loop broke with it)
		c.wmu.Unlock()
		return nil
	}
	c.wmu.Lock()
	c.writing = false
	c.queued = c.queued[:0]
	c.wmu.Unlock()
	c.fail(fmt.Errorf("%w: %v", ErrSidecarDied, err))
	return fmt.Errorf("%w: %v", ErrSidecarDied, err)
}

// inFlight is the number of calls waiting for an answer (diagnostics and tests).
func (c *wireConn) inFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
