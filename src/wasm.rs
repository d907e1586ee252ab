//! The browser lab's bindings (wasm32 only): one coarse handle, [`Lab`].
//!
//! Rust owns the run; JavaScript owns the frame loop. Once a frame the page
//! calls [`Lab::advance`] with a target time and an event budget (so a big
//! run never blocks the tab), then reads what it draws in a few calls that
//! return flat typed arrays ([`Lab::status`], [`Lab::flights`],
//! [`Lab::groups`]) or one small object ([`Lab::metrics`]). Nothing keeps a
//! per-node JavaScript object alive across frames. Errors come back as
//! `Err(JsValue)` holding a message a person can read.

use wasm_bindgen::prelude::*;

use crate::sim::live::Live;
use crate::sim::params::SimParams;
use crate::sim::{parse_fault, Report};

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

fn to_js<T: serde::Serialize>(x: &T) -> Result<JsValue, JsValue> {
    x.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

/// Read parameters from a JS object of `name: value` (numbers, strings or
/// booleans; `faults` may be an array) on top of `base`.
fn read_params(base: SimParams, params: &JsValue) -> Result<SimParams, JsValue> {
    let mut p = base;
    if params.is_undefined() || params.is_null() {
        return Ok(p);
    }
    let obj: js_sys::Object = params.clone().dyn_into().map_err(|_| js_err("parameters must be an object"))?;
    for entry in js_sys::Object::entries(&obj).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let value = pair.get(1);
        let text = if js_sys::Array::is_array(&value) {
            let items: js_sys::Array = value.unchecked_into();
            items.iter().map(|v| text_of(&v)).collect::<Vec<_>>().join(",")
        } else {
            text_of(&value)
        };
        p.set(&key, &text).map_err(js_err)?;
    }
    Ok(p)
}

/// A JS value as the text a URL or command line would carry: strings as
/// they are, whole numbers without a fraction, `null`/`undefined` empty.
fn text_of(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        s
    } else if let Some(f) = v.as_f64() {
        if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
            format!("{}", f as i64)
        } else {
            f.to_string()
        }
    } else if let Some(b) = v.as_bool() {
        b.to_string()
    } else if v.is_null() || v.is_undefined() {
        String::new()
    } else {
        js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default()
    }
}

/// A run of the gossip simulator in the page.
#[wasm_bindgen]
pub struct Lab {
    live: Live,
    params: SimParams,
}

#[wasm_bindgen]
impl Lab {
    /// Start a run from `params` (`gossip sim`'s flag names in snake_case:
    /// `nodes`, `seed`, `model`, `protocol`, `fanout`, `ttl`, `interval_ms`,
    /// `latency_ms`, `jitter_ms`, `loss`, `scenario`, `faults`, ...); missing
    /// ones take `gossip sim`'s defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(params: JsValue) -> Result<Lab, JsValue> {
        let params = read_params(SimParams::default(), &params)?;
        let cfg = params.to_config().map_err(js_err)?;
        let live = Live::new(&cfg).map_err(js_err)?;
        Ok(Lab { live, params })
    }

    /// Check `params` without starting a run: `undefined` if they are valid,
    /// else the message.
    pub fn check(params: JsValue) -> Option<String> {
        match read_params(SimParams::default(), &params) {
            Err(e) => e.as_string(),
            Ok(p) => p.to_config().err(),
        }
    }

    /// The parameter names `new` accepts.
    pub fn names() -> Vec<String> {
        crate::sim::params::NAMES.iter().map(|s| s.to_string()).collect()
    }

    /// Advance virtual time to `target_ms` (or the end of the run), doing at
    /// most about `budget` events. Returns whether it got there.
    pub fn advance(&mut self, target_ms: f64, budget: f64) -> bool {
        let target = if target_ms.is_finite() { target_ms.max(0.0) as u64 } else { u64::MAX };
        let budget = if budget.is_finite() { budget.max(1.0) as u64 } else { u64::MAX };
        self.live.advance(target, budget)
    }

    /// Virtual time, ms.
    pub fn now(&self) -> f64 {
        self.live.now() as f64
    }

    /// The run's time limit, ms.
    pub fn limit_ms(&self) -> f64 {
        self.live.limit_ms() as f64
    }

    /// Why the run ended (`converged`, `quiescent`, `time-limit`,
    /// `livelock-guard`), or `undefined` while it runs.
    pub fn stopped(&self) -> Option<String> {
        self.live.stopped().map(|r| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)))?
    }

    /// Nodes ever created.
    pub fn len(&self) -> u32 {
        self.live.len()
    }

    /// Whether there are none (never).
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Whether every live node holds every origin's latest update.
    pub fn converged(&self) -> bool {
        self.live.converged()
    }

    /// One code per node: 0 down, otherwise 1 + how many origins' latest
    /// update it lacks (1: up to date).
    pub fn status(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.live.len() as usize);
        self.live.status_codes(&mut v);
        v
    }

    /// Each node's partition group (all 0 when the network is whole).
    pub fn groups(&self) -> Vec<u16> {
        let mut v = Vec::with_capacity(self.live.len() as usize);
        self.live.groups(&mut v);
        v
    }

    /// Messages sent since the last call, flat: `from, to, sent_ms,
    /// arrives_ms (-1: dropped), carries_updates (0 or 1)` per message.
    pub fn flights(&mut self) -> Vec<f64> {
        let (flights, _skipped) = self.live.drain_flights();
        let mut out = Vec::with_capacity(flights.len() * 5);
        for f in flights {
            out.extend([
                f.from as f64,
                f.to as f64,
                f.sent as f64,
                f.arrives.map_or(-1.0, |a| a as f64),
                f64::from(u8::from(f.updates)),
            ]);
        }
        out
    }

    /// The counters of the run so far (the keys of `gossip sim --json`,
    /// without the coverage samples and the configuration).
    pub fn metrics(&self) -> Result<JsValue, JsValue> {
        let mut r: Report = self.live.report();
        r.coverage = Vec::new();
        let mut v = serde_json::to_value(&r).map_err(js_err)?;
        if let Some(o) = v.as_object_mut() {
            o.remove("config");
            o.remove("coverage");
        }
        to_js(&v)
    }

    /// The whole report, as `gossip sim --json` prints it for
    /// [`Lab::scenario`] (final once the run has ended).
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.live.report())
    }

    /// The report as JSON text, byte for byte what `gossip sim --json` prints.
    pub fn report_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.live.report()).map_err(js_err)
    }

    /// The spread of updates made since `since_ms` or still spreading:
    /// `[{ origin, epoch, counter, created, fraction, done }]`.
    pub fn spreads(&self, since_ms: f64) -> Result<JsValue, JsValue> {
        to_js(&self.live.spreads(since_ms.max(0.0) as u64))
    }

    /// Node `i` as `snapshot()` lists it.
    pub fn node(&self, i: u32) -> Result<JsValue, JsValue> {
        to_js(&self.live.node(i).ok_or_else(|| js_err(format!("there is no node {i}")))?)
    }

    /// Everything about node `i`: favorite, version, peers and its view.
    pub fn detail(&self, i: u32) -> Result<JsValue, JsValue> {
        to_js(&self.live.detail(i).ok_or_else(|| js_err(format!("there is no node {i}")))?)
    }

    /// `{ time_ms, converged, stop_reason, nodes: [{ id, up, movie, version,
    /// epoch, up_to_date, stale }] }`.
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        #[derive(serde::Serialize)]
        struct Snapshot {
            time_ms: u64,
            converged: bool,
            stop_reason: Option<crate::sim::StopReason>,
            nodes: Vec<crate::sim::live::NodeView>,
        }
        to_js(&Snapshot {
            time_ms: self.live.now(),
            converged: self.live.converged(),
            stop_reason: self.live.stopped(),
            nodes: (0..self.live.len()).filter_map(|i| self.live.node(i)).collect(),
        })
    }

    /// Apply a fault now: `crash:3`, `restart:3`, `restart-fresh:3`,
    /// `partition:2`, `heal`, `join:5`, `leave:7`, `loss:0.3`. Returns the
    /// virtual time it applies at (just after now).
    pub fn fault(&mut self, spec: &str) -> Result<f64, JsValue> {
        let f = parse_fault(&format!("0:{}", spec.trim())).map_err(|e| js_err(e.replacen("\"0:", "\"", 1)))?;
        self.live.add_fault(f.fault).map(|t| t as f64).map_err(js_err)
    }

    /// Every parameter of this run, defaults included (`faults` as listed
    /// when the run started).
    pub fn params(&self) -> Result<JsValue, JsValue> {
        to_js(&self.params)
    }

    /// The scenario so far as `name -> text` pairs (defaults left out), with
    /// every fault applied so far in `faults`: put it in a URL and the same
    /// run replays.
    pub fn scenario(&self) -> Result<JsValue, JsValue> {
        let mut p = self.params.clone();
        p.faults = self.live.config().faults.iter().map(crate::sim::faults::format_fault).collect();
        let map: serde_json::Map<String, serde_json::Value> =
            p.to_pairs().into_iter().map(|(k, v)| (k.to_owned(), serde_json::Value::String(v))).collect();
        to_js(&map)
    }

    /// The event trace (what every node originated and learned, and when),
    /// plus the scenario and the faults, as JSON text.
    pub fn trace_json(&self) -> Result<String, JsValue> {
        let (events, dropped) = self.live.trace();
        serde_json::to_string(&serde_json::json!({
            "config": self.live.config(),
            "events": events,
            "events_dropped": dropped,
        }))
        .map_err(js_err)
    }
}
