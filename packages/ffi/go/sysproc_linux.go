//go:build linux

package cpex

import "syscall"

// The sidecar gets its own process group (so a wrapper like `pnpm cpex` is stopped with its
// node child) and SIGTERM when this process dies.
func sidecarSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
