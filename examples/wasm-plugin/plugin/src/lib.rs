//! A tool deny-list as a WebAssembly component (the cpex:plugin world).
//!
//! Denies `tool_pre_invoke` calls whose tool is in `config.deny`, and redacts SSNs in the
//! arguments otherwise. The config arrives in the reserved global-state entry `cpex:config`
//! (cpex-ts); on a host that does not deliver it (Rust cpex) the built-in default list applies.
wit_bindgen::generate!({ path: "../../../packages/host-wasm/wit", world: "cpex:plugin/plugin", generate_all });

use cpex::plugin::host_logging::{log, LogLevel};
use cpex::plugin::types::{CustomPayload, PluginViolation};
use serde_json::Value;

const DEFAULT_DENY: &[&str] = &["delete_database", "drop_table", "shell_exec"];

struct DenyList;

fn allow() -> HookResult {
    HookResult {
        continue_processing: true,
        modified_payload: None,
        modified_extensions: None,
        modified_context: None,
        violation: None,
        metadata: None,
    }
}

/// Replaces ddd-dd-dddd with ***-**-****; returns None when nothing matched.
fn redact_ssn(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut hit = false;
    while i < b.len() {
        let is = |j: usize, digits: usize| (j..j + digits).all(|k| k < b.len() && b[k].is_ascii_digit());
        if i + 11 <= b.len() && is(i, 3) && b[i + 3] == b'-' && is(i + 4, 2) && b[i + 6] == b'-' && is(i + 7, 4) {
            out.push_str("***-**-****");
            i += 11;
            hit = true;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    hit.then_some(out)
}

impl Guest for DenyList {
    fn handle_hook(hook: String, payload: HookPayload, _ext: Extensions, ctx: PluginContext) -> HookResult {
        let HookPayload::Custom(c) = payload else { return allow() };
        if c.payload_type != "cpex.tool_invoke" {
            return allow();
        }
        let Ok(mut data) = serde_json::from_slice::<Value>(&c.payload_data) else { return allow() };
        let config: Value = ctx
            .global_state
            .iter()
            .find(|e| e.key == "cpex:config")
            .and_then(|e| serde_json::from_str(&e.value).ok())
            .unwrap_or(Value::Null);
        let deny: Vec<String> = match config.get("deny").and_then(|d| d.as_array()) {
            Some(list) => list.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            None => DEFAULT_DENY.iter().map(|s| s.to_string()).collect(),
        };
        let tool = data.get("tool_name").and_then(|v| v.as_str()).unwrap_or("").to_string();
        if deny.iter().any(|d| *d == tool) {
            log(LogLevel::Warn, &format!("{hook}: tool {tool} is on the deny list"));
            let mut r = allow();
            r.continue_processing = false;
            r.violation = Some(PluginViolation {
                code: "TOOL_DENIED".into(),
                reason: format!("tool {tool} is not allowed"),
                description: Some("blocked by the WASM deny-list plugin".into()),
                details: serde_json::json!({ "tool": tool }).to_string(),
                plugin_name: None,
                proto_error_code: None,
            });
            return r;
        }
        let args = data.get("arguments").and_then(|v| v.as_str()).unwrap_or("").to_string();
        if let Some(redacted) = redact_ssn(&args) {
            data["arguments"] = Value::String(redacted);
            let mut r = allow();
            r.modified_payload = Some(HookPayload::Custom(CustomPayload {
                payload_type: c.payload_type,
                payload_data: data.to_string().into_bytes(),
            }));
            r.metadata = Some(r#"{"wasm_redacted": true}"#.into());
            return r;
        }
        allow()
    }
}

#[used]
#[link_section = "cpex:world-version"]
static WORLD_VERSION: [u8; 5] = *b"1.0.0";

export!(DenyList);
