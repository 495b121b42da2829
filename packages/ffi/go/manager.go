package cpex

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// PluginManager is a CPEX PluginManager living in a sidecar (`cpex serve`). It has the surface of
// the Rust cpex Go SDK; every method is one round trip. Safe for concurrent use by many
// goroutines. If the sidecar dies, calls in flight fail with ErrSidecarDied, the sidecar is
// restarted (or reconnected), and the manager is re-created from its YAML and re-initialized;
// context tables and background tasks from before answer ErrCpexInvalidHandle.
type PluginManager struct {
	s       *managerState
	cleanup runtime.Cleanup
}

// managerState is everything a manager needs; background work (restarts, cleanups) references
// only this, never the PluginManager, so an abandoned PluginManager can be collected.
type managerState struct {
	c *client

	// opMu: calls hold it for reading during their round trip; Shutdown takes it for writing,
	// so it waits for the calls in flight and no call starts on a shut-down manager.
	opMu sync.RWMutex

	mu       sync.Mutex // guards the fields below
	yaml     string
	baseDir  string
	shared   bool
	handle   uint64
	epoch    uint64 // the connection the handle lives on
	wantInit bool
	shut     bool
}

const emptyConfig = "plugins: []\n"

// NewPluginManager starts (or reuses) a sidecar and loads yaml into a new manager. The sidecar
// command comes from WithSidecarCommand, else $CPEX_SIDECAR, else `cpex` on PATH; one sidecar
// process serves every manager created with the same command.
func NewPluginManager(yaml string, opts ...Option) (*PluginManager, error) {
	o := buildOptions(opts)
	return newManager(acquireClient(true, "", o), yaml, o, false)
}

// NewPluginManagerDefault is a manager with no plugins; LoadConfig gives it a config.
func NewPluginManagerDefault(opts ...Option) (*PluginManager, error) {
	o := buildOptions(opts)
	return newManager(acquireClient(true, "", o), emptyConfig, o, false)
}

// Connect attaches to a running sidecar on a Unix socket. When the sidecar was started with
// --config, the manager is that shared, initialized one (Shutdown then only detaches); otherwise
// it has no plugins until LoadConfig. A lost connection is re-established on the next call.
func Connect(socket string, opts ...Option) (*PluginManager, error) {
	o := buildOptions(opts)
	return newManager(acquireClient(false, socket, o), "", o, true)
}

func newManager(c *client, yaml string, o options, attach bool) (*PluginManager, error) {
	baseDir := o.baseDir
	if baseDir == "" && c.spawn {
		baseDir, _ = os.Getwd()
	}
	s := &managerState{c: c, yaml: yaml, baseDir: baseDir}
	conn, err := c.current()
	if err != nil {
		c.release(s)
		return nil, fmt.Errorf("NewPluginManager: %w", err)
	}
	if attach {
		c.mu.Lock()
		shared := c.shared
		c.mu.Unlock()
		if shared != 0 {
			s.shared, s.wantInit = true, true
		} else {
			s.yaml = emptyConfig
		}
	}
	s.mu.Lock()
	err = s.rebuildLocked(conn)
	s.mu.Unlock()
	if err != nil {
		c.release(s)
		return nil, err
	}
	c.register(s)
	m := &PluginManager{s: s}
	m.cleanup = runtime.AddCleanup(m, func(s *managerState) { go s.shutdown() }, s)
	return m, nil
}

// rebuildLocked (re-)creates the manager on conn from its YAML (s.mu held).
func (s *managerState) rebuildLocked(conn *wireConn) error {
	s.handle, s.epoch = 0, conn.epoch
	if s.shared {
		s.c.mu.Lock()
		s.handle = s.c.shared
		s.c.mu.Unlock()
		return nil
	}
	resp, err := conn.call(&request{Op: "load_config", YAML: s.yaml, BaseDir: s.baseDir})
	if err != nil {
		return fmt.Errorf("LoadConfig: %w", err)
	}
	if err := errorFromRC(resp.RC, "LoadConfig", resp.Error); err != nil {
		return err
	}
	s.handle = resp.Manager
	if s.wantInit {
		resp, err := conn.call(&request{Op: "initialize", Manager: s.handle})
		if err != nil {
			return fmt.Errorf("Initialize: %w", err)
		}
		return errorFromRC(resp.RC, "Initialize", resp.Error)
	}
	return nil
}

// begin starts a call: a live connection and this manager's handle on it (re-created there if
// the sidecar was restarted). The caller must call s.opMu.RUnlock when done.
func (s *managerState) begin(op string) (*wireConn, uint64, error) {
	s.opMu.RLock()
	conn, err := s.c.current()
	if err != nil {
		s.opMu.RUnlock()
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		s.opMu.RUnlock()
		return nil, 0, invalidHandle(op, "the manager was shut down")
	}
	if s.epoch != conn.epoch || s.handle == 0 {
		if err := s.rebuildLocked(conn); err != nil {
			s.opMu.RUnlock()
			return nil, 0, fmt.Errorf("%s: re-creating the manager after a sidecar restart: %w", op, err)
		}
	}
	return conn, s.handle, nil
}

// simple runs one op that only needs the manager handle.
func (s *managerState) simple(op, wireOp string, req *request) (*response, error) {
	conn, h, err := s.begin(op)
	if err != nil {
		return nil, err
	}
	defer s.opMu.RUnlock()
	req.Op, req.Manager = wireOp, h
	resp, err := conn.call(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := errorFromRC(resp.RC, op, resp.Error); err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *managerState) shutdown() {
	s.opMu.Lock()
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		s.opMu.Unlock()
		return
	}
	s.shut = true
	h, epoch, shared := s.handle, s.epoch, s.shared
	s.mu.Unlock()
	s.opMu.Unlock()
	s.c.mu.Lock()
	conn := s.c.conn
	s.c.mu.Unlock()
	if !shared && h != 0 && conn != nil && conn.epoch == epoch && !conn.isDead() {
		_, _ = conn.call(&request{Op: "shutdown", Manager: h})
	}
	s.c.release(s)
}

// LoadConfig replaces the manager's config (before Initialize). The manager keeps the YAML to
// re-create itself after a sidecar restart.
func (m *PluginManager) LoadConfig(yaml string) error {
	s := m.s
	conn, h, err := s.begin("LoadConfig")
	if err != nil {
		return err
	}
	defer s.opMu.RUnlock()
	s.mu.Lock()
	shared := s.shared
	s.mu.Unlock()
	if shared {
		return &Error{Op: "LoadConfig", RC: rcPipelineError, Code: "CPEX_ERR_INVALID_ARGUMENT",
			Message: "the sidecar's shared (--config) manager cannot load another config"}
	}
	resp, err := conn.call(&request{Op: "load_config", Manager: h, YAML: yaml, BaseDir: s.baseDir})
	if err != nil {
		return fmt.Errorf("LoadConfig: %w", err)
	}
	if err := errorFromRC(resp.RC, "LoadConfig", resp.Error); err != nil {
		return err
	}
	s.mu.Lock()
	s.yaml = yaml
	s.mu.Unlock()
	return nil
}

// Initialize creates and initializes the plugins.
func (m *PluginManager) Initialize() error {
	if _, err := m.s.simple("Initialize", "initialize", &request{}); err != nil {
		return err
	}
	m.s.mu.Lock()
	m.s.wantInit = true
	m.s.mu.Unlock()
	return nil
}

// Shutdown shuts the manager down in the sidecar (after the calls in flight) and frees its
// handle; later calls fail with ErrCpexInvalidHandle. Idempotent. The sidecar process stops when
// the last manager using it is shut down.
func (m *PluginManager) Shutdown() {
	m.cleanup.Stop()
	m.s.shutdown()
}

// IsInitialized reports whether Initialize succeeded (false after Shutdown or on error).
func (m *PluginManager) IsInitialized() bool {
	resp, err := m.s.simple("IsInitialized", "is_initialized", &request{})
	if err != nil {
		return false
	}
	var v bool
	_ = msgpack.Unmarshal(resp.Value, &v)
	return v
}

// HasHooksFor reports whether any plugin handles the hook (false on error).
func (m *PluginManager) HasHooksFor(hookName string) bool {
	resp, err := m.s.simple("HasHooksFor", "has_hooks_for", &request{Hook: hookName})
	if err != nil {
		return false
	}
	var v bool
	_ = msgpack.Unmarshal(resp.Value, &v)
	return v
}

// PluginCount is the number of registered plugins (0 on error).
func (m *PluginManager) PluginCount() int {
	resp, err := m.s.simple("PluginCount", "plugin_count", &request{})
	if err != nil {
		return 0
	}
	var v int
	_ = msgpack.Unmarshal(resp.Value, &v)
	return v
}

// PluginNames lists the registered plugins in registration order.
func (m *PluginManager) PluginNames() ([]string, error) {
	resp, err := m.s.simple("PluginNames", "plugin_names", &request{})
	if err != nil {
		return nil, err
	}
	var names []string
	if err := msgpack.Unmarshal(resp.Value, &names); err != nil {
		return nil, fmt.Errorf("PluginNames: decode failed: %w", err)
	}
	return names, nil
}

// SidecarPID is the process id of the spawned sidecar (0 for Connect).
func (m *PluginManager) SidecarPID() int { return m.s.c.pid() }

// InvokeByName runs a hook. payloadType is PayloadGeneric, PayloadCMFMessage or PayloadIdentity;
// payload is any value msgpack can encode (a struct with msgpack tags, a map). contextTable (may
// be nil) is the table of an earlier call of the same request; it is consumed. Close the returned
// ContextTable and BackgroundTasks (or Wait) when done; abandoned ones are freed by the GC.
func (m *PluginManager) InvokeByName(
	hookName string,
	payloadType uint8,
	payload any,
	extensions *Extensions,
	contextTable *ContextTable,
) (*PipelineResult, *ContextTable, *BackgroundTasks, error) {
	return m.invoke("InvokeByName", hookName, payloadType, payload, extensions, contextTable, nil)
}

// InvokeByNameWithContext is InvokeByName with the request's GlobalContext (request id, user,
// tenant, state, metadata). The plugins' global state and metadata writes are merged back into gc.
func (m *PluginManager) InvokeByNameWithContext(
	hookName string,
	payloadType uint8,
	payload any,
	extensions *Extensions,
	contextTable *ContextTable,
	gc *GlobalContext,
) (*PipelineResult, *ContextTable, *BackgroundTasks, error) {
	return m.invoke("InvokeByName", hookName, payloadType, payload, extensions, contextTable, gc)
}

func (m *PluginManager) invoke(
	op, hookName string,
	payloadType uint8,
	payload any,
	extensions *Extensions,
	contextTable *ContextTable,
	gc *GlobalContext,
) (*PipelineResult, *ContextTable, *BackgroundTasks, error) {
	s := m.s
	// The input table is consumed whatever happens (as in Rust's cpex_invoke).
	var ct handleRef
	if contextTable != nil {
		var ok bool
		if ct, ok = contextTable.take(); !ok {
			return nil, nil, nil, invalidHandle(op, "the context table was already consumed or closed")
		}
	}
	conn, h, err := s.begin(op)
	if err != nil {
		return nil, nil, nil, err
	}
	defer s.opMu.RUnlock()
	if ct.handle != 0 && ct.epoch != conn.epoch {
		return nil, nil, nil, invalidHandle(op, "the context table is from before a sidecar restart")
	}
	// payload and extensions travel inline in the request (one encode here, one decode there)
	req := &request{Op: "invoke", Manager: h, Hook: hookName, PayloadType: payloadType, Payload: payload,
		Extensions: extensions, ContextTable: ct.handle, Context: gc}
	resp, err := conn.call(req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := errorFromRC(resp.RC, op, resp.Error); err != nil {
		return nil, nil, nil, err
	}
	if resp.Result == nil {
		return nil, nil, nil, &Error{Op: op, RC: rcSerializeError, Code: "CPEX_ERR_FFI_FRAME", Message: "the answer has no result"}
	}
	if gc != nil && resp.Context != nil {
		gc.State, gc.Metadata = resp.Context.State, resp.Context.Metadata
	}
	return resp.Result, newContextTable(s, resp.ContextTable, conn.epoch), newBackgroundTasks(s, resp.Background, conn.epoch), nil
}

// Invoke is InvokeByName with the modified payload and extensions decoded into P and Extensions.
func Invoke[P any](
	m *PluginManager,
	hookName string,
	payloadType uint8,
	payload P,
	extensions *Extensions,
	contextTable *ContextTable,
) (*TypedPipelineResult[P], *ContextTable, *BackgroundTasks, error) {
	return InvokeWithContext(m, hookName, payloadType, payload, extensions, contextTable, nil)
}

// InvokeWithContext is Invoke with the request's GlobalContext (see InvokeByNameWithContext).
func InvokeWithContext[P any](
	m *PluginManager,
	hookName string,
	payloadType uint8,
	payload P,
	extensions *Extensions,
	contextTable *ContextTable,
	gc *GlobalContext,
) (*TypedPipelineResult[P], *ContextTable, *BackgroundTasks, error) {
	raw, ct, bg, err := m.invoke("Invoke", hookName, payloadType, payload, extensions, contextTable, gc)
	if err != nil {
		return nil, nil, nil, err
	}
	typed := &TypedPipelineResult[P]{PipelineResult: *raw}
	if len(raw.ModifiedPayload) > 0 {
		var v P
		if err := msgpack.Unmarshal(raw.ModifiedPayload, &v); err != nil {
			return nil, ct, bg, fmt.Errorf("Invoke: modified payload unmarshal failed: %w", err)
		}
		typed.ModifiedPayload = &v
	}
	if len(raw.ModifiedExtensions) > 0 {
		var ext Extensions
		if err := msgpack.Unmarshal(raw.ModifiedExtensions, &ext); err != nil {
			return nil, ct, bg, fmt.Errorf("Invoke: modified extensions unmarshal failed: %w", err)
		}
		typed.ModifiedExtensions = &ext
	}
	return typed, ct, bg, nil
}

// handleRef is what a GC cleanup needs to free a handle (never the owning object).
type handleRef struct {
	s          *managerState
	background bool
	handle     uint64
	epoch      uint64
}

func (r handleRef) free() {
	r.s.c.mu.Lock()
	conn := r.s.c.conn
	r.s.c.mu.Unlock()
	if conn == nil || conn.epoch != r.epoch || conn.isDead() {
		return // that connection is gone, and the sidecar freed the handle with it
	}
	conn.deferFree(r.background, r.handle)
}

// ownedHandle is a sidecar handle the Go side owns (a context table or background tasks): taken
// exactly once — by an invoke, Wait or Close — and freed by a GC cleanup when abandoned. The
// cleanup holds only a handleRef, never the owner, so no finalizer can race a live use.
type ownedHandle struct {
	mu       sync.Mutex
	ref      handleRef
	consumed bool
	cleanup  runtime.Cleanup
}

// own makes o the owner of ref and arms the GC cleanup on owner (the struct embedding o).
func own[T any](owner *T, o *ownedHandle, ref handleRef) *T {
	o.ref = ref
	if ref.handle != 0 {
		o.cleanup = runtime.AddCleanup(owner, func(r handleRef) { go r.free() }, ref)
	}
	return owner
}

// take hands the handle over (0 when there is none); false if it was already taken.
func (o *ownedHandle) take() (handleRef, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.consumed {
		return handleRef{}, false
	}
	o.consumed = true
	r := o.ref
	o.ref.handle = 0
	if r.handle != 0 {
		o.cleanup.Stop()
	}
	return r, true
}

// Close frees the handle in the sidecar without using it (it rides on the next request).
// Idempotent; a no-op once the handle was taken by an invoke or Wait.
func (o *ownedHandle) Close() {
	if r, ok := o.take(); ok && r.handle != 0 {
		r.free()
	}
}

// ContextTable is the per-request plugin contexts held by the sidecar: pass it to the next
// invoke of the same request (pre → post) so each plugin gets its local state back. Consumed by
// that invoke; Close frees it otherwise.
type ContextTable struct{ ownedHandle }

func newContextTable(s *managerState, handle, epoch uint64) *ContextTable {
	ct := new(ContextTable)
	return own(ct, &ct.ownedHandle, handleRef{s: s, handle: handle, epoch: epoch})
}

// BackgroundTasks is the fire-and-forget work of one invocation. Wait for it (which consumes it)
// or Close it (the work itself still runs to completion).
type BackgroundTasks struct{ ownedHandle }

func newBackgroundTasks(s *managerState, handle, epoch uint64) *BackgroundTasks {
	bg := new(BackgroundTasks)
	return own(bg, &bg.ownedHandle, handleRef{s: s, background: true, handle: handle, epoch: epoch})
}

// Wait blocks until every fire-and-forget plugin of the invocation settled and returns their
// failures. Consumes the handle: a second Wait returns nil, nil.
func (bg *BackgroundTasks) Wait() ([]PluginError, error) {
	r, ok := bg.take()
	if !ok || r.handle == 0 {
		return nil, nil
	}
	s := r.s
	s.opMu.RLock()
	defer s.opMu.RUnlock()
	s.mu.Lock()
	shut := s.shut
	s.mu.Unlock()
	if shut {
		return nil, invalidHandle("BackgroundTasks.Wait", "manager shut down; background tasks abandoned")
	}
	s.c.mu.Lock()
	conn := s.c.conn
	s.c.mu.Unlock()
	if conn == nil || conn.epoch != r.epoch {
		return nil, invalidHandle("BackgroundTasks.Wait", "the background tasks are from before a sidecar restart")
	}
	resp, err := conn.call(&request{Op: "background_wait", Background: r.handle})
	if err != nil {
		return nil, fmt.Errorf("BackgroundTasks.Wait: %w", err)
	}
	if err := errorFromRC(resp.RC, "BackgroundTasks.Wait", resp.Error); err != nil {
		return nil, err
	}
	return resp.Errors, nil
}
