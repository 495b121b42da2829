package main

import (
	"errors"
	"fmt"

	cpex "github.com/contextforge-org/cpex-ts/packages/ffi/go"
)

// docsToolCall is the example of docs/ffi/go.md: the page shows the lines between the region
// markers (the docs test keeps both in step), and go build / go vet compile them here.
func docsToolCall(yamlText, reqID string, args map[string]any, runTool func(map[string]any) (any, error)) error {
	// #region invoke
	mgr, err := cpex.NewPluginManager(yamlText, cpex.WithBaseDir("/etc/gateway"))
	if err != nil {
		return err
	}
	defer mgr.Shutdown()
	if err := mgr.Initialize(); err != nil {
		return err
	}

	gc := &cpex.GlobalContext{RequestID: reqID, User: "alice"}
	ext := &cpex.Extensions{Request: &cpex.RequestExtension{RequestID: reqID}}
	res, ct, bg, err := mgr.InvokeByNameWithContext("tool_pre_invoke", cpex.PayloadGeneric,
		map[string]any{"name": "search", "args": args}, ext, nil, gc)
	if errors.Is(err, cpex.ErrCpexParse) { // a failed call: ErrCpexInvalidInput, ErrCpexPipeline, ...
		return fmt.Errorf("the sidecar refused the payload: %w", err)
	} else if err != nil {
		return err
	}
	defer bg.Close()
	if res.IsDenied() {
		ct.Close()
		return fmt.Errorf("denied by %s: %s", res.Violation.Code, res.Violation.Reason)
	}
	result, err := runTool(args)
	if err != nil {
		ct.Close()
		return err
	}
	post, ct2, bg2, err := mgr.InvokeByNameWithContext("tool_post_invoke", cpex.PayloadGeneric,
		map[string]any{"name": "search", "result": result}, nil, ct, gc) // ct is consumed
	if err != nil {
		return err
	}
	defer ct2.Close()
	defer bg2.Close()
	if post.IsDenied() {
		return fmt.Errorf("result withheld: %s", post.Violation.Reason)
	}
	// #endregion
	return nil
}
