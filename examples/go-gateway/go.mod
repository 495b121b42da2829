module github.com/contextforge-org/cpex-ts/examples/go-gateway

go 1.24

require github.com/contextforge-org/cpex-ts/packages/ffi/go v0.0.0

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

replace github.com/contextforge-org/cpex-ts/packages/ffi/go => ../../packages/ffi/go
