//go:build !linux && !windows

package cpex

import "syscall"

func sidecarSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
