//! Rust cpex-core 0.2.2 on the workloads of cpex-ts's `pnpm bench --only vs-rust`.
//!
//! Every plugin is a no-op whose handler is an `async fn` returning `allow()`; the hook is
//! `tool_pre_invoke` with a ~200-byte `ToolInvokePayload {tool_name, user, arguments}` and one
//! extensions object (a request extension). Each invoke is timed on its own with `Instant` on a
//! tokio current_thread runtime, after a warm-up. Output: one JSON object per line,
//! `{"workload", "p50_us", "p99_us", "mean_us", "n"}` — the TypeScript side prints the table.
//!
//! Usage: cpex-rust-bench [--quick] [--only WORKLOAD]

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use cpex_core::context::PluginContext;
use cpex_core::error::PluginError;
use cpex_core::extensions::request::RequestExtension;
use cpex_core::factory::{PluginFactory, PluginInstance};
use cpex_core::hooks::adapter::TypedHandlerAdapter;
use cpex_core::hooks::payload::Extensions;
use cpex_core::hooks::trait_def::{HookHandler, HookTypeDef, PluginResult};
use cpex_core::manager::PluginManager;
use cpex_core::plugin::{Plugin, PluginConfig};
use serde_json::{json, Value};

/// The payload shape of Rust's own examples; `arguments` is shared so a caller clone is cheap
/// even for the 1 MB workloads (the engine is measured, not the caller's deep copy).
#[derive(Debug, Clone)]
struct ToolInvokePayload {
    #[allow(dead_code)]
    tool_name: String,
    #[allow(dead_code)]
    user: String,
    #[allow(dead_code)]
    arguments: Arc<Value>,
}
cpex_core::impl_plugin_payload!(ToolInvokePayload);

struct ToolPreInvoke;
impl HookTypeDef for ToolPreInvoke {
    type Payload = ToolInvokePayload;
    type Result = PluginResult<ToolInvokePayload>;
    const NAME: &'static str = "tool_pre_invoke";
}

struct Noop {
    cfg: PluginConfig,
}

#[async_trait]
impl Plugin for Noop {
    fn config(&self) -> &PluginConfig {
        &self.cfg
    }
}

impl HookHandler<ToolPreInvoke> for Noop {
    async fn handle(
        &self,
        _payload: &ToolInvokePayload,
        _extensions: &Extensions,
        _ctx: &mut PluginContext,
    ) -> PluginResult<ToolInvokePayload> {
        PluginResult::allow()
    }
}

struct NoopFactory;
impl PluginFactory for NoopFactory {
    fn create(&self, config: &PluginConfig) -> Result<PluginInstance, Box<PluginError>> {
        let plugin = Arc::new(Noop { cfg: config.clone() });
        Ok(PluginInstance {
            plugin: plugin.clone(),
            handlers: vec![(
                "tool_pre_invoke",
                Arc::new(TypedHandlerAdapter::<ToolPreInvoke, _>::new(plugin)),
            )],
        })
    }
}

async fn manager(modes: &[&str]) -> PluginManager {
    let mut yaml = String::from("plugins:\n");
    if modes.is_empty() {
        yaml = String::from("plugins: []\n");
    }
    for (i, mode) in modes.iter().enumerate() {
        yaml.push_str(&format!(
            "  - name: p{i}\n    kind: bench/noop\n    hooks: [tool_pre_invoke]\n    mode: {mode}\n    priority: {}\n",
            10 + i
        ));
    }
    let cfg = cpex_core::config::parse_config(&yaml).expect("bench config parses");
    let mgr = PluginManager::default();
    mgr.register_factory("bench/noop", Box::new(NoopFactory));
    mgr.load_config(cfg).expect("bench config loads");
    mgr.initialize().await.expect("bench plugins initialize");
    mgr
}

fn small_payload() -> ToolInvokePayload {
    ToolInvokePayload {
        tool_name: "calc".into(),
        user: "alice@example.com".into(),
        arguments: Arc::new(json!({
            "x": 1, "y": 2,
            "note": "a short tool call payload of about two hundred bytes",
            "flags": [1, 2, 3]
        })),
    }
}

/// ~`bytes` of JSON in one flat object of 100-character strings.
fn flat_payload(bytes: usize) -> ToolInvokePayload {
    let mut map = serde_json::Map::new();
    let mut size = 0;
    let mut i = 0;
    while size < bytes {
        let v = format!("{:0>100}", i);
        size += v.len() + 12;
        map.insert(format!("k{i}"), Value::String(v));
        i += 1;
    }
    ToolInvokePayload { tool_name: "upload".into(), user: "alice".into(), arguments: Arc::new(Value::Object(map)) }
}

/// ~`bytes` of JSON as rows of nested records (the same shape as the TypeScript bench).
fn nested_payload(bytes: usize) -> ToolInvokePayload {
    let mut rows = Vec::new();
    let mut size = 0;
    let mut i: u64 = 0;
    while size < bytes {
        let row = json!({
            "id": i, "title": format!("result number {i}"), "url": format!("https://example.com/doc/{i}"),
            "tags": ["a", "b", "c"], "score": i as f64 / 7.0, "meta": {"owner": "u", "depth": {"x": i}}
        });
        size += row.to_string().len() + 1;
        rows.push(row);
        i += 1;
    }
    ToolInvokePayload {
        tool_name: "search".into(),
        user: "alice".into(),
        arguments: Arc::new(json!({"query": "x", "results": rows})),
    }
}

fn extensions(req: &Arc<RequestExtension>) -> Extensions {
    Extensions { request: Some(req.clone()), ..Default::default() }
}

fn report(workload: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let q = |p: f64| ns[((p * ns.len() as f64) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0;
    println!(
        "{}",
        json!({"workload": workload, "p50_us": q(0.5), "p99_us": q(0.99), "mean_us": mean, "n": ns.len()})
    );
}

async fn serial(workload: &str, modes: &[&str], payload: ToolInvokePayload, warmup: usize, n: usize) {
    let mgr = manager(modes).await;
    let req = Arc::new(RequestExtension {
        request_id: Some("r-1".into()),
        environment: Some("prod".into()),
        ..Default::default()
    });
    for _ in 0..warmup {
        let (r, bg) = mgr.invoke::<ToolPreInvoke>(payload.clone(), extensions(&req), None).await;
        assert!(r.continue_processing);
        drop(bg);
    }
    let mut ns = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (r, bg) = mgr.invoke::<ToolPreInvoke>(payload.clone(), extensions(&req), None).await;
        ns.push(t.elapsed().as_nanos() as u64);
        assert!(r.continue_processing);
        drop(bg);
    }
    report(workload, ns);
    mgr.shutdown().await;
}

/// 100 invokes polled together on the one thread (no tokio::spawn), timed per batch.
async fn concurrent(workload: &str, batches: usize) {
    let mgr = manager(&["sequential"; 5]).await;
    let req = Arc::new(RequestExtension { request_id: Some("r-1".into()), ..Default::default() });
    let payload = small_payload();
    let mut ns = Vec::with_capacity(batches);
    for round in 0..(batches + batches / 5) {
        let t = Instant::now();
        let futs = (0..100).map(|_| mgr.invoke::<ToolPreInvoke>(payload.clone(), extensions(&req), None));
        let results = futures::future::join_all(futs).await;
        let el = t.elapsed().as_nanos() as u64;
        assert!(results.iter().all(|(r, _)| r.continue_processing));
        if round >= batches / 5 {
            ns.push(el);
        }
    }
    report(workload, ns);
    mgr.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let (warm, n, big_n, batches) = if quick { (2_000, 5_000, 20, 50) } else { (20_000, 100_000, 300, 2_000) };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let want = |w: &str| only.as_deref().is_none_or(|o| o == w);
    rt.block_on(async {
        if want("0 plugins") {
            serial("0 plugins", &[], small_payload(), warm, n).await;
        }
        if want("1 sequential") {
            serial("1 sequential", &["sequential"], small_payload(), warm, n).await;
        }
        if want("5 sequential") {
            serial("5 sequential", &["sequential"; 5], small_payload(), warm, n).await;
        }
        if want("20 sequential") {
            serial("20 sequential", &["sequential"; 20], small_payload(), warm, n / 4).await;
        }
        if want("5 mixed") {
            let modes = ["sequential", "transform", "audit", "concurrent", "fire_and_forget"];
            serial("5 mixed", &modes, small_payload(), warm, n).await;
        }
        if want("1 MB flat, 5 sequential") {
            serial("1 MB flat, 5 sequential", &["sequential"; 5], flat_payload(1_000_000), 20, big_n).await;
        }
        if want("1 MB nested, 5 sequential") {
            serial("1 MB nested, 5 sequential", &["sequential"; 5], nested_payload(1_000_000), 20, big_n).await;
        }
        if want("100 concurrent invokes") {
            concurrent("100 concurrent invokes", batches).await;
        }
    });
}
