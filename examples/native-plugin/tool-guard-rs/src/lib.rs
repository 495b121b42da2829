//! A cpex native plugin written in Rust against `cpex_plugin.h` (ABI 1, wire schema 1), with no
//! dependencies: a minimal MessagePack reader and writer are included below.
//!
//! Config (`config:` of the entry): `deny: [tool names]`, optional `code` (violation code,
//! default "tool_denied"). On `tool_pre_invoke` it denies a call whose `payload.name` is listed
//! and otherwise allows it with metadata `{"rust_guard": "allowed"}`. It also counts the calls it
//! saw in its local context state (`calls`), which the host keeps per request.
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

const CPEX_OK: i32 = 0;
const CPEX_STATUS_ERROR: i32 = 1;
const CPEX_STATUS_BAD_REQUEST: i32 = 2;
/// FNV-1a 64 of "cpex_plugin abi=1 wire=1" (CPEX_INTERFACE_HASH in cpex_plugin.h).
const CPEX_INTERFACE_HASH: u64 = 0x2841_e491_8552_7bea;

#[repr(C)]
pub struct CpexManifest {
    abi_version: u32,
    hook_count: u32,
    interface_hash: u64,
    name: *const c_char,
    version: *const c_char,
    hooks: *const *const c_char,
}

struct Hooks([*const c_char; 1]);
unsafe impl Sync for Hooks {}
struct Manifest(CpexManifest);
unsafe impl Sync for Manifest {}

static HOOKS: Hooks = Hooks([b"tool_pre_invoke\0".as_ptr() as *const c_char]);
static MANIFEST: Manifest = Manifest(CpexManifest {
    abi_version: 1,
    hook_count: 1,
    interface_hash: CPEX_INTERFACE_HASH,
    name: b"rust-tool-guard\0".as_ptr() as *const c_char,
    version: b"0.1.0\0".as_ptr() as *const c_char,
    hooks: &HOOKS as *const Hooks as *const *const c_char,
});

// ------------------------------------------------------------------ MessagePack, minimal

#[allow(dead_code)]
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(pairs) => pairs.iter().find(|(k, _)| matches!(k, Value::Str(s) if s == key)).map(|(_, v)| v),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.pos + n > self.buf.len() {
            return Err("truncated MessagePack".into());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn be(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
    }
    fn string(&mut self, n: usize) -> Result<Value, String> {
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map(Value::Str).map_err(|_| "invalid UTF-8".into())
    }
    fn array(&mut self, n: usize) -> Result<Value, String> {
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(self.value()?);
        }
        Ok(Value::Array(v))
    }
    fn map(&mut self, n: usize) -> Result<Value, String> {
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let k = self.value()?;
            let x = self.value()?;
            v.push((k, x));
        }
        Ok(Value::Map(v))
    }
    fn value(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("MessagePack nests too deep".into());
        }
        let b = self.take(1)?[0];
        let v = match b {
            0x00..=0x7f => Value::Int(b as i64),
            0xe0..=0xff => Value::Int(b as i8 as i64),
            0x80..=0x8f => self.map((b & 0x0f) as usize)?,
            0x90..=0x9f => self.array((b & 0x0f) as usize)?,
            0xa0..=0xbf => self.string((b & 0x1f) as usize)?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 | 0xc5 | 0xc6 => {
                let n = self.be(1 << (b - 0xc4))? as usize;
                Value::Bin(self.take(n)?.to_vec())
            }
            0xca => Value::Float(f32::from_bits(self.be(4)? as u32) as f64),
            0xcb => Value::Float(f64::from_bits(self.be(8)?)),
            0xcc..=0xcf => Value::Int(self.be(1 << (b - 0xcc))? as i64),
            0xd0 => Value::Int(self.be(1)? as u8 as i8 as i64),
            0xd1 => Value::Int(self.be(2)? as u16 as i16 as i64),
            0xd2 => Value::Int(self.be(4)? as u32 as i32 as i64),
            0xd3 => Value::Int(self.be(8)? as i64),
            0xd9 | 0xda | 0xdb => {
                let n = self.be(1 << (b - 0xd9))? as usize;
                self.string(n)?
            }
            0xdc | 0xdd => {
                let n = self.be(2 << (b - 0xdc))? as usize;
                self.array(n)?
            }
            0xde | 0xdf => {
                let n = self.be(2 << (b - 0xde))? as usize;
                self.map(n)?
            }
            _ => return Err(format!("unsupported MessagePack byte 0x{b:02x}")),
        };
        self.depth -= 1;
        Ok(v)
    }
}

fn parse(buf: &[u8]) -> Result<Value, String> {
    let mut r = Reader { buf, pos: 0, depth: 0 };
    let v = r.value()?;
    if r.pos != buf.len() {
        return Err("trailing bytes after MessagePack value".into());
    }
    Ok(v)
}

fn write_len(out: &mut Vec<u8>, n: usize, fix: u8, fixmax: usize, t16: u8, t32: u8) {
    if n <= fixmax {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(t16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(t32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn write(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Int(i) => {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Str(s) => {
            if s.len() <= 31 {
                out.push(0xa0 | s.len() as u8);
            } else if s.len() <= 0xff {
                out.push(0xd9);
                out.push(s.len() as u8);
            } else {
                write_len(out, s.len(), 0, 0, 0xda, 0xdb);
            }
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bin(b) => {
            out.push(0xc6);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
        Value::Array(a) => {
            write_len(out, a.len(), 0x90, 15, 0xdc, 0xdd);
            for x in a {
                write(out, x);
            }
        }
        Value::Map(m) => {
            write_len(out, m.len(), 0x80, 15, 0xde, 0xdf);
            for (k, x) in m {
                write(out, k);
                write(out, x);
            }
        }
    }
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

// ------------------------------------------------------------------ the plugin

struct Guard {
    deny: Vec<String>,
    code: String,
}

/// Hands a buffer to the host; released by `cpex_plugin_free`.
unsafe fn give(bytes: Vec<u8>, out: *mut *mut u8, out_len: *mut usize) {
    let boxed = bytes.into_boxed_slice();
    *out_len = boxed.len();
    *out = Box::into_raw(boxed) as *mut u8;
}

#[no_mangle]
pub extern "C" fn cpex_plugin_manifest() -> *const CpexManifest {
    &MANIFEST.0
}

#[no_mangle]
pub unsafe extern "C" fn cpex_plugin_init(
    config: *const u8,
    config_len: usize,
    state: *mut *mut std::ffi::c_void,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    let bytes = if config.is_null() { &[][..] } else { std::slice::from_raw_parts(config, config_len) };
    let cfg = match parse(bytes) {
        Ok(v) => v,
        Err(e) => {
            give(format!("config: {e}").into_bytes(), err, err_len);
            return CPEX_STATUS_BAD_REQUEST;
        }
    };
    let deny = match cfg.get("deny") {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        None | Some(Value::Nil) => Vec::new(),
        Some(_) => {
            give(b"config.deny must be a list of tool names".to_vec(), err, err_len);
            return CPEX_STATUS_BAD_REQUEST;
        }
    };
    let code = cfg.get("code").and_then(Value::as_str).unwrap_or("tool_denied").to_string();
    *state = Box::into_raw(Box::new(Guard { deny, code })) as *mut std::ffi::c_void;
    CPEX_OK
}

fn handle(guard: &Guard, request: &[u8]) -> Result<Vec<u8>, String> {
    let req = parse(request)?;
    let tool = req.get("payload").and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or("");
    // Local state: count the calls this plugin saw for this request (kept by the host per request).
    let calls = match req.get("context").and_then(|c| c.get("state")).and_then(|st| st.get("calls")) {
        Some(Value::Int(n)) => *n + 1,
        _ => 1,
    };
    let context = Value::Map(vec![(s("state"), Value::Map(vec![(s("calls"), Value::Int(calls))]))]);
    let result = if guard.deny.iter().any(|d| d == tool) {
        Value::Map(vec![
            (s("continue_processing"), Value::Bool(false)),
            (
                s("violation"),
                Value::Map(vec![
                    (s("code"), s(&guard.code)),
                    (s("reason"), s(&format!("tool {tool} is denied by the Rust tool guard"))),
                    (s("details"), Value::Map(vec![(s("tool"), s(tool))])),
                ]),
            ),
            (s("context"), context),
        ])
    } else {
        Value::Map(vec![
            (s("metadata"), Value::Map(vec![(s("rust_guard"), s("allowed"))])),
            (s("context"), context),
        ])
    };
    let mut out = Vec::with_capacity(128);
    write(&mut out, &result);
    Ok(out)
}

#[no_mangle]
pub unsafe extern "C" fn cpex_plugin_invoke(
    state: *mut std::ffi::c_void,
    request: *const u8,
    request_len: usize,
    _cancel: *const i32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    *out = ptr::null_mut();
    *out_len = 0;
    if state.is_null() || request.is_null() {
        give(b"no state or request".to_vec(), out, out_len);
        return CPEX_STATUS_BAD_REQUEST;
    }
    let guard = &*(state as *const Guard);
    let bytes = std::slice::from_raw_parts(request, request_len);
    // Never let a panic unwind into the host.
    match catch_unwind(AssertUnwindSafe(|| handle(guard, bytes))) {
        Ok(Ok(result)) => {
            give(result, out, out_len);
            CPEX_OK
        }
        Ok(Err(e)) => {
            give(e.into_bytes(), out, out_len);
            CPEX_STATUS_BAD_REQUEST
        }
        Err(_) => {
            give(b"the Rust tool guard panicked".to_vec(), out, out_len);
            CPEX_STATUS_ERROR
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn cpex_plugin_free(p: *mut u8, len: usize) {
    if !p.is_null() {
        drop(Box::from_raw(ptr::slice_from_raw_parts_mut(p, len)));
    }
}

#[no_mangle]
pub unsafe extern "C" fn cpex_plugin_shutdown(state: *mut std::ffi::c_void) {
    if !state.is_null() {
        drop(Box::from_raw(state as *mut Guard));
    }
}
