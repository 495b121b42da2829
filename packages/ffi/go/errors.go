package cpex

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per sidecar return code (the same codes as Rust cpex's C ABI). Every error
// this package returns for a failed call wraps one of them: test with errors.Is; errors.As with
// *Error gives the return code, the CPEX_ERR_* code and the sidecar's message.
var (
	// ErrCpexInvalidHandle (-1): the manager was shut down, or a handle (context table, background
	// tasks) is unknown, already consumed, or from before a sidecar restart.
	ErrCpexInvalidHandle = errors.New("cpex: invalid handle (manager shut down, handle consumed, or from before a sidecar restart)")
	// ErrCpexInvalidInput (-2): a malformed request (field types, frame size, payload size).
	ErrCpexInvalidInput = errors.New("cpex: invalid input")
	// ErrCpexParse (-3): the config, payload or extensions failed validation, or an unknown payload type.
	ErrCpexParse = errors.New("cpex: parse / validation failed")
	// ErrCpexPipeline (-4): a lifecycle or pipeline error (plugin load failure, not initialized, shutting down).
	ErrCpexPipeline = errors.New("cpex: pipeline / lifecycle error")
	// ErrCpexSerialize (-5): the sidecar could not encode the result.
	ErrCpexSerialize = errors.New("cpex: result serialize failed")
	// ErrCpexTimeout (-6): the call exceeded the sidecar's wall-clock limit.
	ErrCpexTimeout = errors.New("cpex: wall-clock timeout exceeded")
	// ErrCpexPanic (-7): the sidecar failed unexpectedly (Rust calls this a panic at the FFI boundary).
	ErrCpexPanic = errors.New("cpex: internal error in the sidecar")

	// ErrSidecarDied: the sidecar connection was lost while the call was in flight (the process
	// died or the socket closed). The call's outcome is unknown. The client restarts the sidecar
	// (or reconnects) and re-creates its managers; retry if the call is idempotent.
	ErrSidecarDied = errors.New("cpex: sidecar connection lost while the call was in flight")
	// ErrSidecarUnavailable: no sidecar could be started or reached within the start timeout.
	ErrSidecarUnavailable = errors.New("cpex: sidecar unavailable")
	// ErrProtocolVersion: the sidecar speaks another protocol version.
	ErrProtocolVersion = errors.New("cpex: sidecar protocol version mismatch")
)

// Return codes (append-only, never renumbered).
const (
	rcOK             = 0
	rcInvalidHandle  = -1
	rcInvalidInput   = -2
	rcParseError     = -3
	rcPipelineError  = -4
	rcSerializeError = -5
	rcTimeout        = -6
	rcPanic          = -7
)

// Error is a failed sidecar call: the operation, its return code, and the sidecar's coded message.
type Error struct {
	Op      string // the Go method, e.g. "InvokeByName"
	RC      int    // the return code (-1 .. -7)
	Code    string // CPEX_ERR_* (docs/errors.md)
	Message string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Unwrap())
	}
	return fmt.Sprintf("%s: %v: %s: %s", e.Op, e.Unwrap(), e.Code, e.Message)
}

// Unwrap returns the sentinel of the return code.
func (e *Error) Unwrap() error { return sentinel(e.RC) }

func sentinel(rc int) error {
	switch rc {
	case rcInvalidHandle:
		return ErrCpexInvalidHandle
	case rcInvalidInput:
		return ErrCpexInvalidInput
	case rcParseError:
		return ErrCpexParse
	case rcPipelineError:
		return ErrCpexPipeline
	case rcSerializeError:
		return ErrCpexSerialize
	case rcTimeout:
		return ErrCpexTimeout
	case rcPanic:
		return ErrCpexPanic
	default:
		return fmt.Errorf("cpex: unknown return code %d", rc)
	}
}

func errorFromRC(rc int, op string, w *wireError) error {
	if rc == rcOK {
		return nil
	}
	e := &Error{Op: op, RC: rc}
	if w != nil {
		e.Code, e.Message = w.Code, w.Message
	}
	return e
}

func invalidHandle(op, why string) error {
	return fmt.Errorf("%s: %w (%s)", op, ErrCpexInvalidHandle, why)
}
