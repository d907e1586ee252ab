//! The browser lab's bindings (wasm32 only): one coarse handle, [`Lab`].
//!
//! Rust owns the run; JavaScript owns the frame loop. Once a frame the page
//! calls [`Lab::advance`] with a target time and an event budget (so a big
//! run never blocks the tab), then reads what it draws in a few calls that
//! return flat typed arrays ([`Lab::status`], [`Lab::flights`],
//! [`Lab::groups`]) or one small object ([`Lab::metrics`]). Nothing keeps a
//! per-node JavaScript object alive across frames. Errors come back as
//! `Err(JsValue)` holding a message a person can read. The codes in those
//! arrays, and the places in a flight's record, are the discriminants of
//! the enums below ([`Status`], [`Kind`], [`Flight`]), which JavaScript
//! imports by name.
//!
//! A run is gossip among full nodes (the course app; the only kind real
//! nodes can join), SWIM members (`membership: "swim"`), or an overlay
//! (HyParView or a static topology) with Plumtree or flooding: [`Lab::kind`]
//! says which. SWIM runs add what a member holds about the others
//! ([`Lab::member_view`], [`Seen`] codes) and how many members suspect each
//! node ([`Lab::suspects`]); overlay runs add their links, Plumtree's eager
//! ones being the tree ([`Lab::links`], [`Link`] places).
//!
//! A single rumor past 20,000 nodes runs on the compact population
//! ([`crate::sim::live::runs_compact`], as `gossip sim` would): its kind is
//! still `gossip` (its chart, counters, seek and report are a gossip run's),
//! [`Lab::engine`] says `compact`, and what it does not keep (views, who
//! told whom, messages in flight, the trace) is refused with a message
//! saying so rather than returned empty.

use wasm_bindgen::prelude::*;

use crate::core::membership::swim::State;
use crate::fetch::{self, Inbox};
use crate::mixed::{Bridge, BridgeOptions};
use crate::sim::compact::CompactPopulation;
use crate::sim::live::{runs_compact, Live, NodeKind};
use crate::sim::overlay::OverlayPopulation;
use crate::sim::params::{ParamError, SimParams};
use crate::sim::swim::SwimPopulation;
use crate::sim::{parse_fault, table, FaultError, Report};

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

/// `x` as a JS value: its JSON text (serde_json, as `gossip sim --json`
/// writes it) parsed by the browser. One serializer for every type keeps
/// the package small.
fn to_js<T: serde::Serialize>(x: &T) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&serde_json::to_string(x).map_err(js_err)?)
}

/// `(name, value)` pairs serialized as one object, in their order.
struct Pairs(Vec<(&'static str, String)>);

impl serde::Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Parameters from a JS object of `name: value` (numbers, strings or
/// booleans; `faults` may be an array) on top of the defaults, a `preset`
/// first ([`SimParams::from_pairs`]). The outer error: not an object.
fn read_params(params: &JsValue) -> Result<Result<SimParams, ParamError>, JsValue> {
    if params.is_undefined() || params.is_null() {
        return Ok(Ok(SimParams::default()));
    }
    let obj: js_sys::Object = params.clone().dyn_into().map_err(|_| js_err("parameters must be an object"))?;
    let pairs: Vec<(String, String)> = js_sys::Object::entries(&obj)
        .iter()
        .map(|entry| {
            let pair: js_sys::Array = entry.unchecked_into();
            let value = pair.get(1);
            let text = if js_sys::Array::is_array(&value) {
                let items: js_sys::Array = value.unchecked_into();
                items.iter().map(|v| text_of(&v)).collect::<Vec<_>>().join(",")
            } else {
                text_of(&value)
            };
            (pair.get(0).as_string().unwrap_or_default(), text)
        })
        .collect();
    Ok(SimParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// Parameters read and checked into a configuration.
fn configured(params: &JsValue) -> Result<Result<(SimParams, crate::sim::SimConfig), ParamError>, JsValue> {
    let given = given_names(params);
    Ok(read_params(params)?.and_then(|mut p| {
        p.drop_unread_timing(); // (the rounds model does not read it: the page hides it)
        let c = p.to_config()?;
        // a value the run does not read is refused, not ignored, by the
        // rules gossip sim refuses it with (less those of the form's own fields)
        crate::sim::table::refuse_unread_run::<true>(given.iter().map(String::as_str), &c, str::to_owned)?;
        runs_compact(&c)?;
        Ok((p, c))
    }))
}

/// The names of the parameters `params` gives (none for `undefined`).
fn given_names(params: &JsValue) -> Vec<String> {
    match params.dyn_ref::<js_sys::Object>() {
        Some(obj) => js_sys::Object::keys(obj).iter().filter_map(|k| k.as_string()).collect(),
        None => Vec::new(),
    }
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

/// A node's code in [`Lab::status`]: `Down`, or `Current` plus how many
/// origins' latest update it lacks (`Current + 2`: two behind).
#[wasm_bindgen]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Down, or a real node that does not answer.
    Down = 0,
    /// Up, holding every origin's latest update.
    Current = 1,
}

/// A node's code in [`Lab::kinds`].
#[wasm_bindgen]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Simulated in this page.
    Virtual = 0,
    /// A real node, over HTTP.
    Native = 1,
    /// Another page's virtual node.
    RemoteVirtual = 2,
    /// A virtual node that talks to real nodes.
    Gateway = 3,
}

/// The places of a message's numbers in [`Lab::flights`]' flat array, and
/// how many a message has (`Len`).
#[wasm_bindgen]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flight {
    /// The sender's index.
    From = 0,
    /// The receiver's index.
    To = 1,
    /// When it was sent, virtual ms.
    Sent = 2,
    /// When it arrives, virtual ms; -1: lost or cut by a partition.
    Arrives = 3,
    /// 1 if it carries updates, else 0.
    Updates = 4,
    /// Numbers per message (not a place).
    Len = 5,
}

/// What a SWIM member holds about a node, in [`Lab::member_view`].
#[wasm_bindgen]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Alive (the member itself, too).
    Alive = 0,
    /// Suspected.
    Suspect = 1,
    /// Declared failed.
    Dead = 2,
    /// Not a member it knows.
    Unknown = 3,
}

/// The places of a link's numbers in [`Lab::links`]' flat array, and how
/// many a link has (`Len`).
#[wasm_bindgen]
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The node whose link it is.
    From = 0,
    /// Its neighbour.
    To = 1,
    /// 1 if the neighbour is an eager Plumtree peer (a tree link), 0 if lazy.
    Eager = 2,
    /// Numbers per link (not a place).
    Len = 3,
}

/// The run a [`Lab`] drives.
enum Run {
    /// Full gossip nodes.
    Gossip(Live),
    /// SWIM members.
    Swim(Live<SwimPopulation>),
    /// Overlay nodes.
    Overlay(Live<OverlayPopulation>),
    /// One rumor on the compact population (big networks).
    Compact(Live<CompactPopulation>),
}

/// What a compact run does not keep, for the messages that refuse it.
const COMPACT_KEEPS: &str = "this run is on the compact engine (a single rumor past 20,000 nodes), which keeps only whether each node knows the rumor";

/// `$e` with `$l` bound to the run's [`Live`], whatever its population.
macro_rules! each {
    ($run:expr, $l:ident => $e:expr) => {
        match $run {
            Run::Gossip($l) => $e,
            Run::Swim($l) => $e,
            Run::Overlay($l) => $e,
            Run::Compact($l) => $e,
        }
    };
}

/// A node of a SWIM or overlay run as `snapshot()` lists it.
#[derive(serde::Serialize)]
struct Basic {
    id: u32,
    up: bool,
}

/// One node as `snapshot()` lists it.
#[derive(serde::Serialize)]
struct SnapNode {
    #[serde(flatten)]
    node: crate::sim::live::NodeView,
    name: Option<String>,
    gateway: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<crate::mixed::Reach>,
}

/// A run of the gossip simulator in the page.
#[wasm_bindgen]
pub struct Lab {
    run: Run,
    params: SimParams,
    /// The join to real nodes, from the first `connect` on.
    bridge: Option<Bridge>,
    inbox: Inbox,
}

/// Bridge options from a JS object: `gateways`, `max_rps`, `exchange_ms`,
/// `timeout_ms`, `allow_unsigned` (others keep their defaults).
fn read_bridge_options(o: &JsValue) -> Result<BridgeOptions, JsValue> {
    let mut opts = BridgeOptions::default();
    if o.is_undefined() || o.is_null() {
        return Ok(opts);
    }
    let num = |k: &str| -> Result<Option<f64>, JsValue> {
        let v = js_sys::Reflect::get(o, &JsValue::from_str(k)).map_err(|_| js_err("options must be an object"))?;
        if v.is_undefined() || v.is_null() || v.as_string().is_some_and(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let f = v.as_f64().or_else(|| v.as_string().and_then(|s| s.trim().parse().ok()));
        match f {
            Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f)),
            _ => Err(js_err(format!("{k} must be a non-negative number, got {}", text_of(&v)))),
        }
    };
    if let Some(g) = num("gateways")? {
        opts.gateways = g.min(u32::MAX as f64) as u32;
    }
    if let Some(r) = num("max_rps")? {
        opts.max_rps = r;
    }
    if let Some(ms) = num("exchange_ms")? {
        opts.exchange_ms = ms as u64;
    }
    if let Some(ms) = num("timeout_ms")? {
        opts.timeout_ms = ms as u64;
    }
    let unsigned = js_sys::Reflect::get(o, &JsValue::from_str("allow_unsigned")).unwrap_or(JsValue::UNDEFINED);
    if !unsigned.is_undefined() && !unsigned.is_null() {
        opts.allow_unsigned = match (unsigned.as_bool(), unsigned.as_string().as_deref().map(str::trim)) {
            (Some(b), _) => b,
            (None, Some("true" | "1")) => true,
            (None, Some("false" | "0" | "")) => false,
            _ => return Err(js_err(format!("allow_unsigned must be true or false, got {}", text_of(&unsigned)))),
        };
    }
    opts.validate().map_err(js_err)?;
    Ok(opts)
}

impl Lab {
    /// The gossip run, which real nodes can join; an error naming the run otherwise.
    fn gossip(&mut self) -> Result<&mut Live, JsValue> {
        match &mut self.run {
            Run::Gossip(l) => Ok(l),
            Run::Compact(_) => Err(js_err(format!("real nodes join runs of full nodes only; {COMPACT_KEEPS}"))),
            other => Err(js_err(format!(
                "real nodes join gossip runs only; this run is the {} membership",
                each!(other, l => l.config().membership.name())
            ))),
        }
    }

    fn snap_node(&self, i: u32) -> Option<SnapNode> {
        let Run::Gossip(live) = &self.run else { return None };
        let node = live.node(i)?;
        let b = self.bridge.as_ref();
        let native = b.and_then(|b| b.native_at(i));
        Some(SnapNode {
            name: b.map(|b| b.name_of(i).to_string()),
            gateway: self.connected() && b.is_some_and(|b| b.gateways().contains(&i)),
            url: native.as_ref().map(|n| n.url.clone()),
            rtt_ms: native.as_ref().and_then(|n| n.rtt_ms),
            status: native.map(|n| n.status),
            node,
        })
    }
}

impl Lab {
    /// The configuration of a run that spreads rumors (full or compact).
    fn gossip_config(&self) -> Option<crate::sim::SimConfig> {
        match &self.run {
            Run::Gossip(l) => Some(l.config()),
            Run::Compact(l) => Some(l.config()),
            _ => None,
        }
    }

    fn stop(&self) -> Option<crate::sim::StopReason> {
        each!(&self.run, l => l.stopped())
    }

    fn report_now(&self) -> Report {
        each!(&self.run, l => l.report())
    }
}

#[wasm_bindgen]
impl Lab {
    /// Start a run from `params` (`gossip sim`'s flag names in snake_case:
    /// `nodes`, `seed`, `model`, `protocol`, `fanout`, `ttl`, `interval_ms`,
    /// `latency_ms`, `jitter_ms`, `loss`, `scenario`, `faults`, ..., the
    /// parameter table's names) or a `preset` and the values that override
    /// it; missing ones take `gossip sim`'s defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(params: JsValue) -> Result<Lab, JsValue> {
        let (params, cfg) = configured(&params)?.map_err(js_err)?;
        let run = match cfg.membership {
            crate::sim::MembershipMode::Swim => Run::Swim(Live::start(&cfg).map_err(js_err)?),
            m if m.is_overlay() => Run::Overlay(Live::start(&cfg).map_err(js_err)?),
            _ if runs_compact(&cfg).map_err(js_err)? => Run::Compact(Live::start(&cfg).map_err(js_err)?),
            _ => Run::Gossip(Live::new(&cfg).map_err(js_err)?),
        };
        Ok(Lab { run, params, bridge: None, inbox: Default::default() })
    }

    /// Check `params` without starting a run: `undefined` if they are valid,
    /// else the message.
    pub fn check(params: JsValue) -> Option<String> {
        match configured(&params) {
            Err(e) => e.as_string(),
            Ok(r) => r.err().map(|e| e.to_string()),
        }
    }

    /// Check `params` without starting a run: `undefined` if they are
    /// valid, else `{ param, message }`, `param` naming the parameter at
    /// fault as the table does (`null` if `params` is not even an object).
    pub fn check_param(params: JsValue) -> JsValue {
        let (param, message) = match configured(&params) {
            Ok(Ok(_)) => return JsValue::UNDEFINED,
            Ok(Err(e)) => (JsValue::from_str(&e.param), JsValue::from_str(&e.to_string())),
            Err(e) => (JsValue::NULL, e),
        };
        let o = js_sys::Object::new();
        for (k, v) in [("param", param), ("message", message)] {
            js_sys::Reflect::set(&o, &JsValue::from_str(k), &v).expect("an object takes properties");
        }
        o.into()
    }

    /// The parameter names `new` accepts (the table's, and `preset`).
    pub fn names() -> Vec<String> {
        table::names().into_iter().map(str::to_owned).collect()
    }

    /// The parameter table, the protocol registry and the presets, as JSON
    /// text the page builds its form from (see [`table::table_json`]).
    pub fn table() -> String {
        table::table_json()
    }

    /// The mean-field curve of one update for this run's parameters
    /// (`core::protocols::mean_field`), flat: `age_ms, fraction` per point
    /// up to `max_age_ms`; empty for a protocol without a rule.
    pub fn theory_curve(&self, max_age_ms: f64) -> Vec<f64> {
        let Some(cfg) = self.gossip_config() else { return Vec::new() };
        let p = cfg.mean_field();
        crate::core::protocols::mean_field(&p, max_age_ms)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(t, f)| [t, f])
            .collect()
    }

    /// The name of [`Lab::theory_curve`]'s curve: `mean-field push-pull +
    /// eager push, n=50`.
    pub fn theory_name(&self) -> String {
        self.gossip_config().map(|c| c.mean_field().name()).unwrap_or_default()
    }

    /// The engine that holds the nodes: `compact` (one rumor, big
    /// networks: no per-node views, senders or messages) or `full`.
    pub fn engine(&self) -> String {
        if matches!(self.run, Run::Compact(_)) { "compact" } else { "full" }.into()
    }

    /// What this run is: `gossip` (full nodes, or one rumor on the compact
    /// engine: see [`Lab::engine`]), `swim` or `overlay`.
    pub fn kind(&self) -> String {
        match self.run {
            Run::Gossip(_) | Run::Compact(_) => "gossip",
            Run::Swim(_) => "swim",
            Run::Overlay(_) => "overlay",
        }
        .into()
    }

    /// SWIM runs: what member `i` holds about every node, one [`Seen`]
    /// code per node in index order (empty for other runs or no `i`).
    pub fn member_view(&self, i: u32) -> Vec<u8> {
        let Run::Swim(live) = &self.run else { return Vec::new() };
        let code = |s: Option<State>| match s {
            Some(State::Alive) => Seen::Alive,
            Some(State::Suspect) => Seen::Suspect,
            Some(State::Dead) => Seen::Dead,
            None => Seen::Unknown,
        } as u8;
        live.member_view(i).map_or_else(Vec::new, |v| v.map(code).collect())
    }

    /// SWIM runs: how many live members suspect each node, in index order
    /// (empty for other runs).
    pub fn suspects(&self) -> Vec<u32> {
        let mut out = Vec::new();
        if let Run::Swim(live) = &self.run {
            live.held(State::Suspect, &mut out);
        }
        out
    }

    /// Overlay runs: every link between live nodes, flat, [`Link::Len`]
    /// numbers a link at its [`Link`] places (empty for other runs).
    pub fn links(&self) -> Vec<u32> {
        let mut out = Vec::new();
        if let Run::Overlay(live) = &self.run {
            live.links(&mut out);
        }
        out
    }

    /// Advance virtual time to `target_ms` (or the end of the run), doing at
    /// most about `budget` events. Returns whether it got there.
    pub fn advance(&mut self, target_ms: f64, budget: f64) -> bool {
        let target = if target_ms.is_finite() { target_ms.max(0.0) as u64 } else { u64::MAX };
        let budget = if budget.is_finite() { budget.max(1.0) as u64 } else { u64::MAX };
        each!(&mut self.run, l => l.advance(target, budget))
    }

    /// Virtual time, ms.
    pub fn now(&self) -> f64 {
        each!(&self.run, l => l.now()) as f64
    }

    /// Why the run ended (`converged`, `quiescent`, `time-limit`,
    /// `livelock-guard`), or `undefined` while it runs.
    pub fn stopped(&self) -> Option<String> {
        let reason = serde_json::to_string(&self.stop()?).ok()?;
        Some(reason.trim_matches('"').to_owned())
    }

    /// Nodes ever created.
    pub fn len(&self) -> u32 {
        each!(&self.run, l => l.len())
    }

    /// Whether there are none (never).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every live node holds every origin's latest update.
    pub fn converged(&self) -> bool {
        each!(&self.run, l => l.converged())
    }

    /// One [`Status`] code per node: `Down`, or `Current` plus how many
    /// origins' latest update it lacks.
    pub fn status(&self) -> Vec<u32> {
        let mut out = Vec::new();
        each!(&self.run, l => l.lacking_codes(Status::Down as u32, Status::Current as u32, &mut out));
        out
    }

    /// Each node's partition group (all 0 when the network is whole).
    pub fn groups(&self) -> Vec<u16> {
        let mut v = Vec::with_capacity(self.len() as usize);
        each!(&self.run, l => l.groups(&mut v));
        v
    }

    /// Messages sent since the last call, flat: [`Flight::Len`] numbers a
    /// message, each at its [`Flight`] place, oldest first; the latest
    /// 20,000 when more were sent (those in flight now among them).
    pub fn flights(&mut self) -> Vec<f64> {
        let (flights, _skipped) = each!(&mut self.run, l => l.drain_flights());
        let mut out = vec![0.0; flights.len() * Flight::Len as usize];
        for (f, m) in flights.into_iter().zip(out.chunks_exact_mut(Flight::Len as usize)) {
            m[Flight::From as usize] = f.from as f64;
            m[Flight::To as usize] = f.to as f64;
            m[Flight::Sent as usize] = f.sent as f64;
            m[Flight::Arrives as usize] = f.arrives.map_or(-1.0, |a| a as f64);
            m[Flight::Updates as usize] = f64::from(u8::from(f.updates));
        }
        out
    }

    /// The counters of the run so far (the keys of `gossip sim --json`,
    /// without the coverage samples and the configuration).
    pub fn metrics(&self) -> Result<JsValue, JsValue> {
        let mut r: Report = self.report_now();
        r.coverage = Vec::new();
        let v = to_js(&r)?;
        for key in ["config", "coverage"] {
            js_sys::Reflect::delete_property(v.unchecked_ref::<js_sys::Object>(), &JsValue::from_str(key))?;
        }
        Ok(v)
    }

    /// The whole report, as `gossip sim --json` prints it for
    /// [`Lab::scenario`] (final once the run has ended).
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.report_now())
    }

    /// The report as JSON text, byte for byte what `gossip sim --json` prints.
    pub fn report_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.report_now()).map_err(js_err)
    }

    /// The updates of the spread log from index `from` on, flat: `origin,
    /// epoch, counter, created_ms` per update (see [`crate::sim::spread_log`]).
    pub fn spread_updates(&self, from: u32) -> Vec<f64> {
        let log = each!(&self.run, l => l.spread_log());
        let all = log.updates();
        all[(from as usize).min(all.len())..]
            .iter()
            .flat_map(|u| [f64::from(u.origin), f64::from(u.version.epoch), u.version.counter as f64, u.created as f64])
            .collect()
    }

    /// The points of the spread log from index `from` on, flat: `update
    /// (index), age_ms, fraction` per point, sampled in virtual time.
    pub fn spread_points(&self, from: u32) -> Vec<f64> {
        let log = each!(&self.run, l => l.spread_log());
        let all = log.points();
        all[(from as usize).min(all.len())..]
            .iter()
            .flat_map(|p| [f64::from(p.update), p.age_ms as f64, p.fraction])
            .collect()
    }

    /// The counters at fixed steps of virtual time from row `from` on,
    /// flat, `sim::live::ROW_COLUMNS` (12 numbers) a row (see
    /// [`Live::rows`]; an empty latency is NaN).
    pub fn metric_rows(&self, from: u32) -> Vec<f64> {
        let rows = each!(&self.run, l => l.rows());
        rows[(from as usize).min(rows.len())..].iter().flatten().copied().collect()
    }

    /// Virtual time between two of [`Lab::metric_rows`], ms.
    pub fn metric_step(&self) -> f64 {
        each!(&self.run, l => l.row_step()) as f64
    }

    /// The spread log's sampling step, ms of virtual time.
    pub fn spread_resolution(&self) -> f64 {
        each!(&self.run, l => l.spread_log().resolution()) as f64
    }

    /// Go to virtual time `ms` exactly (back: rebuild the scenario and
    /// replay). Refused while real nodes take part.
    pub fn seek(&mut self, ms: f64) -> Result<f64, JsValue> {
        if !ms.is_finite() || ms < 0.0 {
            return Err(js_err(format!("seek takes a time in ms, 0 or more; got {ms}")));
        }
        if self.connected() {
            return Err(js_err(crate::sim::live::SeekError::Remote.to_string()));
        }
        each!(&mut self.run, l => l.seek(ms as u64)).map_err(|e| js_err(e.to_string()))?;
        Ok(self.now())
    }

    /// Node `i` as `snapshot()` lists it.
    pub fn node(&self, i: u32) -> Result<JsValue, JsValue> {
        let none = || js_err(format!("there is no node {i}"));
        match &self.run {
            Run::Gossip(_) => to_js(&self.snap_node(i).ok_or_else(none)?),
            Run::Compact(l) if i < l.len() => to_js(&Basic { id: i, up: l.is_up(i) }),
            _ => self.detail(i),
        }
    }

    /// Everything about node `i`: favorite, version, peers and its view
    /// (a native node's as its last `GET /state` said), plus its `kind`,
    /// `name` and, for a native node, `native` (URL, round-trip time,
    /// status, last error).
    pub fn detail(&self, i: u32) -> Result<JsValue, JsValue> {
        #[derive(serde::Serialize)]
        struct Detail {
            #[serde(flatten)]
            d: crate::sim::live::NodeDetail,
            name: Option<String>,
            gateway: bool,
            native: Option<crate::mixed::NativeView>,
            /// The origins in its view whose updates came unsigned from real nodes.
            unverified: Vec<u32>,
        }
        let none = || js_err(format!("there is no node {i}"));
        let live = match &self.run {
            Run::Gossip(live) => live,
            Run::Swim(live) => return to_js(&live.member_detail(i).ok_or_else(none)?),
            Run::Overlay(live) => return to_js(&live.overlay_detail(i).ok_or_else(none)?),
            Run::Compact(_) => {
                return Err(js_err(format!("no details of node {i}: {COMPACT_KEEPS} (status() has that)")))
            }
        };
        let d = live.detail(i).ok_or_else(none)?;
        let b = self.bridge.as_ref();
        let unverified =
            b.map_or_else(Vec::new, |b| d.view.iter().map(|r| r.origin).filter(|&o| b.is_unverified(o)).collect());
        to_js(&Detail {
            d,
            unverified,
            name: b.map(|b| b.name_of(i).to_string()),
            gateway: self.connected() && b.is_some_and(|b| b.gateways().contains(&i)),
            native: b.and_then(|b| b.native_at(i)),
        })
    }

    /// `{ time_ms, converged, stop_reason, connected, nodes: [{ id, kind,
    /// name, up, movie, version, epoch, up_to_date, stale, gateway, url,
    /// rtt_ms, status }] }`: every node, virtual and native (`kind`);
    /// `name` is its identity on the wire (virtual nodes: once the page has
    /// connected), native nodes add their `url`, last round-trip time and
    /// `status` (`connecting`, `reachable`, `unreachable`).
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        #[derive(serde::Serialize)]
        struct Snapshot {
            time_ms: u64,
            converged: bool,
            stop_reason: Option<crate::sim::StopReason>,
            connected: bool,
            nodes: Nodes,
        }
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum Nodes {
            Gossip(Vec<SnapNode>),
            Other(Vec<Basic>),
        }
        let nodes = match &self.run {
            Run::Gossip(_) => Nodes::Gossip((0..self.len()).filter_map(|i| self.snap_node(i)).collect()),
            run => Nodes::Other(each!(run, l => (0..l.len()).map(|i| Basic { id: i, up: l.is_up(i) }).collect())),
        };
        to_js(&Snapshot {
            time_ms: each!(&self.run, l => l.now()),
            converged: self.converged(),
            stop_reason: self.stop(),
            connected: self.connected(),
            nodes,
        })
    }

    /// Connect the page to the real node at `url` (`http://host:port`): it
    /// and the nodes it lists as peers join this run, which from then on
    /// runs open-ended at wall-clock speed. `options`: `{ gateways,
    /// max_rps, exchange_ms, timeout_ms, allow_unsigned }` (how many virtual
    /// nodes talk to real ones, the page's request rate limit, each
    /// gateway's exchange period, the request timeout, and whether updates
    /// without an Ed25519 seal are taken from real nodes for origins never
    /// seen signed, default true as native nodes do (shown as unverified);
    /// applied while disconnected).
    pub fn connect(&mut self, url: &str, options: JsValue) -> Result<(), JsValue> {
        let opts = read_bridge_options(&options)?;
        let virtual_nodes = self.params.nodes.min(self.gossip()?.len());
        let bridge = match &mut self.bridge {
            Some(b) => {
                if !b.is_connected() && options.is_object() {
                    b.set_options(opts, virtual_nodes).map_err(js_err)?;
                }
                b
            }
            None => {
                // the tab's identity survives reloads; the UUID key and the RNG are new each load
                let (tag, secret) = fetch::page_identity();
                let [_, k1, k2] = fetch::entropy();
                self.bridge.insert(Bridge::new(opts, virtual_nodes, [tag, k1, k2], secret).map_err(js_err)?)
            }
        };
        let Run::Gossip(live) = &mut self.run else { return Err(js_err("real nodes join gossip runs only")) };
        bridge.connect(url, live, fetch::now_ms()).map_err(js_err)?;
        self.pump();
        Ok(())
    }

    /// Stop talking to real nodes: one click. Their nodes stay drawn, as
    /// not answering; the run gets its time limit back.
    pub fn disconnect(&mut self) {
        if let (Some(b), Run::Gossip(live)) = (&mut self.bridge, &mut self.run) {
            b.disconnect(live);
        }
        self.inbox.borrow_mut().clear();
    }

    /// Whether real nodes take part.
    pub fn connected(&self) -> bool {
        self.bridge.as_ref().is_some_and(|b| b.is_connected())
    }

    /// Once a frame while connected: apply the answers that came back and
    /// send what is due (within the rate limit).
    pub fn pump(&mut self) {
        let (Some(b), Run::Gossip(live)) = (&mut self.bridge, &mut self.run) else { return };
        let now = fetch::now_ms();
        for (id, at, outcome) in self.inbox.borrow_mut().drain(..) {
            b.handle_response(id, at, outcome);
        }
        b.pump(live, now);
        let max_body = b.options().max_body_bytes;
        while let Some(req) = b.poll_request() {
            fetch::send(req, max_body, self.inbox.clone());
        }
    }

    /// One [`Kind`] code per node: a virtual node, a gateway (a virtual
    /// node that talks to real nodes), a real node, or a virtual node of
    /// another page (seen through the real nodes).
    pub fn kinds(&self) -> Vec<u8> {
        let gateways = self.bridge.as_ref().map_or(&[][..], |b| b.gateways());
        let Run::Gossip(live) = &self.run else { return vec![Kind::Virtual as u8; self.len() as usize] };
        (0..live.len())
            .map(|i| match live.kind(i) {
                NodeKind::Virtual if self.connected() && gateways.contains(&i) => Kind::Gateway,
                NodeKind::Virtual => Kind::Virtual,
                NodeKind::Native => Kind::Native,
                NodeKind::RemoteVirtual => Kind::RemoteVirtual,
            } as u8)
            .collect()
    }

    /// The real nodes: `[{ url, name, slot, status, rtt_ms, rtt_avg_ms,
    /// movie, version, epoch, failures, last_error, requests, key }]`
    /// (`key`: its Ed25519 public key, base64url, once it answered).
    pub fn natives(&self) -> Result<JsValue, JsValue> {
        to_js(&self.bridge.as_ref().map(|b| b.natives()).unwrap_or_default())
    }

    /// The requests the page made to real nodes, and how they went.
    pub fn bridge_stats(&self) -> Result<JsValue, JsValue> {
        to_js(&self.bridge.as_ref().map(|b| b.stats()).unwrap_or_default())
    }

    /// Messages about real nodes to show once each: `[{ level, text }]`.
    pub fn notices(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.bridge.as_mut().map(|b| b.drain_notices()).unwrap_or_default())
    }

    /// Apply a fault now: `crash:3`, `restart:3`, `restart-fresh:3`,
    /// `partition:2`, `heal`, `join:5`, `leave:7`, `loss:0.3`, `drop:3>7`
    /// (the messages from 3 to 7 in flight, events model). Returns the
    /// virtual time it applies at (just after now).
    pub fn fault(&mut self, spec: &str) -> Result<f64, JsValue> {
        let f = parse_fault(&format!("0:{}", spec.trim()))
            .map_err(|e| js_err(FaultError { text: spec.trim().into(), ..e }))?;
        each!(&mut self.run, l => l.add_fault(f.fault)).map(|t| t as f64).map_err(js_err)
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
        p.faults = each!(&self.run, l => l.config()).faults.iter().map(crate::sim::faults::format_fault).collect();
        to_js(&Pairs(p.to_pairs()))
    }

    /// Every delivery of `epoch.counter` of `origin`'s update (a broadcast's
    /// key, version 0.1, in overlay runs) so far, in time order, flat: 5
    /// numbers a delivery, `from, to, t_ms, hop, duplicate` (hop -1:
    /// unknown; duplicate 1: the receiver already held it). An error if the
    /// run keeps none for it (never made, a SWIM run, or dropped past the
    /// cap of kept deliveries).
    pub fn dissemination(&self, origin: u32, epoch: u32, counter: f64) -> Result<Vec<f64>, JsValue> {
        let version = crate::core::Version::new(epoch, counter.max(0.0) as u64);
        let edges = each!(&self.run, l => l.dissemination(origin, version).map(<[_]>::to_vec));
        let edges = edges.ok_or_else(|| {
            if matches!(self.run, Run::Compact(_)) {
                return js_err(format!("who told whom is not recorded: {COMPACT_KEEPS}"));
            }
            js_err("no deliveries are kept for this update: it was not made, or its record was dropped to keep memory bounded")
        })?;
        let hop = |h: u16| if h == crate::sim::population::Told::UNKNOWN_HOP { -1.0 } else { f64::from(h) };
        Ok(edges
            .iter()
            .flat_map(|e| [e.from as f64, e.to as f64, e.t as f64, hop(e.hop), f64::from(u8::from(e.duplicate))])
            .collect())
    }

    /// The messages from `from` to `to` in flight now, flat, by arrival:
    /// per message `arrives, kind, bytes, k`, then `origin, epoch, counter,
    /// ttl` for each of its `k` updates. `kind`: 1 push, 2 feedback, 3
    /// digest, 4 delta (0: not described). Empty in the rounds model
    /// and in SWIM and overlay runs (typed numbers rather than objects: the
    /// package stays small).
    pub fn in_flight(&self, from: u32, to: u32) -> Vec<f64> {
        let mut out = Vec::new();
        // only gossip runs' messages are described (the page inspects no others)
        let Run::Gossip(live) = &self.run else { return out };
        for m in live.in_flight(from, to) {
            let kind = ["message", "push", "feedback", "digest", "delta"].iter().position(|&k| k == m.carries.kind);
            let c = &m.carries;
            out.extend([m.arrives as f64, kind.unwrap_or(0) as f64, c.bytes as f64, c.updates.len() as f64]);
            for u in &c.updates {
                out.extend([u.origin as f64, u.epoch as f64, u.counter as f64, u.ttl as f64]);
            }
        }
        out
    }

    /// The event trace (what every node originated and learned, and when),
    /// plus the scenario and the faults, as JSON text.
    pub fn trace_json(&self) -> Result<String, JsValue> {
        let Run::Gossip(live) = &self.run else {
            if matches!(self.run, Run::Compact(_)) {
                return Err(js_err(format!("no event trace: {COMPACT_KEEPS}")));
            }
            return Err(js_err("the event trace records gossip runs (what nodes learned); this run spreads no rumor"));
        };
        let (events, dropped) = live.trace();
        #[derive(serde::Serialize)]
        struct Trace<'a> {
            config: crate::sim::SimConfig,
            events: &'a [crate::sim::population::TraceEntry],
            events_dropped: u64,
        }
        serde_json::to_string(&Trace { config: live.config(), events: &events, events_dropped: dropped })
            .map_err(js_err)
    }
}
