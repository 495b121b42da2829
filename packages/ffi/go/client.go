package cpex

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SidecarEnv names the environment variable holding the sidecar command (split on spaces), e.g.
// `node --conditions=@cpex/source --import tsx /src/cpex-ts/packages/cli/src/bin.ts`. The client
// appends `serve --socket PATH`. Default: `cpex` on PATH.
const SidecarEnv = "CPEX_SIDECAR"

// Option configures NewPluginManager, NewPluginManagerDefault and Connect.
type Option func(*options)

type options struct {
	command      []string
	baseDir      string
	startTimeout time.Duration
	output       io.Writer
}

// WithSidecarCommand sets the sidecar command (default: $CPEX_SIDECAR, else `cpex`).
func WithSidecarCommand(argv ...string) Option {
	return func(o *options) { o.command = append([]string(nil), argv...) }
}

// WithBaseDir sets the directory relative paths in the config (node:// modules, plugin_dirs)
// resolve against. Default: the sidecar's working directory (this process's, for a spawned one).
func WithBaseDir(dir string) Option { return func(o *options) { o.baseDir = dir } }

// WithStartTimeout bounds how long starting (or restarting) the sidecar may take; default 60 s.
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithSidecarOutput receives the sidecar's stdout and stderr (default os.Stderr).
func WithSidecarOutput(w io.Writer) Option { return func(o *options) { o.output = w } }

func buildOptions(opts []Option) options {
	o := options{startTimeout: 60 * time.Second, output: os.Stderr}
	for _, f := range opts {
		f(&o)
	}
	if len(o.command) == 0 {
		if env := strings.Fields(os.Getenv(SidecarEnv)); len(env) > 0 {
			o.command = env
		} else {
			o.command = []string{"cpex"}
		}
	}
	return o
}

// client is one sidecar endpoint shared by every manager that uses it: a spawned, supervised
// process (restarted when it dies) or a socket someone else runs (reconnected).
type client struct {
	key   string
	spawn bool
	sock  string
	opts  options

	mu         sync.Mutex
	conn       *wireConn
	epoch      uint64
	shared     uint64
	cmd        *exec.Cmd
	procDone   chan struct{}
	dir        string
	restarting chan struct{}
	lastErr    error
	managers   map[*managerState]struct{}
	refs       int
	closed     bool
}

var (
	clientsMu sync.Mutex
	clients   = map[string]*client{}
)

// acquireClient returns the shared client of an endpoint (one sidecar per command, one connection
// per socket), counting the manager that uses it.
func acquireClient(spawn bool, sock string, o options) *client {
	key := "socket:" + sock
	if spawn {
		key = "spawn:" + strings.Join(o.command, "\x00")
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	c := clients[key]
	if c == nil {
		c = &client{key: key, spawn: spawn, sock: sock, opts: o, managers: map[*managerState]struct{}{}}
		clients[key] = c
	}
	c.refs++
	return c
}

func (c *client) release(s *managerState) {
	clientsMu.Lock()
	c.mu.Lock()
	delete(c.managers, s)
	c.refs--
	last := c.refs == 0
	if last {
		delete(clients, c.key)
		c.closed = true
	}
	conn, cmd, done, dir := c.conn, c.cmd, c.procDone, c.dir
	c.mu.Unlock()
	clientsMu.Unlock()
	if last {
		if conn != nil {
			conn.close()
		}
		stopProcess(cmd, done)
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
}

func (c *client) register(s *managerState) {
	c.mu.Lock()
	c.managers[s] = struct{}{}
	c.mu.Unlock()
}

// current returns a live connection, starting or restarting the sidecar (once, shared by every
// waiting caller) when there is none.
func (c *client) current() (*wireConn, error) {
	c.mu.Lock()
	for attempt := 0; ; attempt++ {
		if c.closed {
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: the client was closed", ErrCpexInvalidHandle)
		}
		if c.conn != nil && !c.conn.isDead() {
			conn := c.conn
			c.mu.Unlock()
			return conn, nil
		}
		if attempt > 0 && c.restarting == nil && c.lastErr != nil {
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		}
		if c.restarting == nil {
			c.restarting = make(chan struct{})
			go c.restart()
		}
		ch := c.restarting
		c.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(c.opts.startTimeout + 5*time.Second):
			return nil, fmt.Errorf("%w: not ready within %s", ErrSidecarUnavailable, c.opts.startTimeout)
		}
		c.mu.Lock()
	}
}

// restart (re)starts the sidecar or reconnects, publishes the new connection, then re-creates
// every manager on it from the YAML it holds.
func (c *client) restart() {
	conn, shared, err := c.connect()
	c.mu.Lock()
	if err == nil && c.closed {
		conn.close()
		err = fmt.Errorf("%w: the client was closed", ErrCpexInvalidHandle)
	}
	if err == nil {
		c.conn, c.shared = conn, shared
	}
	c.lastErr = err
	close(c.restarting)
	c.restarting = nil
	managers := make([]*managerState, 0, len(c.managers))
	for s := range c.managers {
		managers = append(managers, s)
	}
	c.mu.Unlock()
	if err != nil {
		return
	}
	for _, s := range managers {
		s.mu.Lock()
		if !s.shut && s.epoch != conn.epoch {
			_ = s.rebuildLocked(conn)
		}
		s.mu.Unlock()
	}
}

func (c *client) connect() (*wireConn, uint64, error) {
	c.mu.Lock()
	c.epoch++
	epoch := c.epoch
	oldCmd, oldDone := c.cmd, c.procDone
	c.mu.Unlock()
	sock := c.sock
	var done chan struct{}
	var waitErr *error
	if c.spawn {
		stopProcess(oldCmd, oldDone)
		c.mu.Lock()
		if c.dir == "" {
			dir, err := os.MkdirTemp("", "cpex-sidecar-")
			if err != nil {
				c.mu.Unlock()
				return nil, 0, fmt.Errorf("%w: %v", ErrSidecarUnavailable, err)
			}
			c.dir = dir
		}
		sock = filepath.Join(c.dir, fmt.Sprintf("cpex-%d.sock", epoch))
		c.mu.Unlock()
		argv := append(append([]string(nil), c.opts.command[1:]...), "serve", "--socket", sock)
		cmd := exec.Command(c.opts.command[0], argv...)
		cmd.Stdout, cmd.Stderr = c.opts.output, c.opts.output
		cmd.SysProcAttr = sidecarSysProcAttr()
		if err := cmd.Start(); err != nil {
			return nil, 0, fmt.Errorf("%w: starting %q: %v", ErrSidecarUnavailable, strings.Join(c.opts.command, " "), err)
		}
		done = make(chan struct{})
		var werr error
		waitErr = &werr
		go func() {
			werr = cmd.Wait()
			close(done)
			c.processExited(cmd)
		}()
		c.mu.Lock()
		c.cmd, c.procDone = cmd, done
		c.mu.Unlock()
	}
	deadline := time.Now().Add(c.opts.startTimeout)
	var nc net.Conn
	for {
		var err error
		nc, err = net.Dial("unix", sock)
		if err == nil {
			break
		}
		if done != nil {
			select {
			case <-done:
				return nil, 0, fmt.Errorf("%w: the sidecar exited before listening: %v", ErrSidecarUnavailable, *waitErr)
			default:
			}
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("%w: no answer on %s within %s: %v", ErrSidecarUnavailable, sock, c.opts.startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn := newWireConn(nc, epoch)
	resp, err := conn.call(&request{Op: "version"})
	if err != nil {
		conn.close()
		return nil, 0, fmt.Errorf("%w: version: %v", ErrSidecarUnavailable, err)
	}
	if resp.RC != rcOK || resp.Protocol != ProtocolVersion {
		conn.close()
		return nil, 0, fmt.Errorf("%w: the sidecar speaks protocol %d (%s), this client %d", ErrProtocolVersion, resp.Protocol, resp.Server, ProtocolVersion)
	}
	return conn, resp.SharedManager, nil
}

// processExited restarts a sidecar that died on its own (not one this client stopped): calls in
// flight have already failed with ErrSidecarDied; the managers are re-created in the background.
func (c *client) processExited(cmd *exec.Cmd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cmd != cmd || c.restarting != nil {
		return
	}
	if c.conn != nil {
		c.conn.fail(fmt.Errorf("%w: the sidecar process exited", ErrSidecarDied))
	}
	c.restarting = make(chan struct{})
	go c.restart()
}

func (c *client) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// stopProcess sends SIGTERM to the sidecar's process group (it drains), then SIGKILL after 10 s.
func stopProcess(cmd *exec.Cmd, done chan struct{}) {
	if cmd == nil || cmd.Process == nil || done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	pid := cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		<-done
	}
}
