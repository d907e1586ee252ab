//! The page's transport for the [`Bridge`](crate::mixed::Bridge) (wasm32
//! only): each request becomes a `fetch` in its own task
//! (`wasm_bindgen_futures::spawn_local`), cancelled through an
//! `AbortController` when a `gloo-timers` timeout fires; its outcome lands
//! in an [`Inbox`] that the [`Lab`](crate::wasm::Lab) hands to the bridge
//! at the next frame. Nothing is logged to the console: failures become the
//! bridge's notices.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, Request, RequestInit, RequestMode, Response};

use crate::mixed::{FetchError, HttpRequest, Outcome};

/// Completed requests: `(id, wall-clock ms, outcome)`.
pub type Inbox = Rc<RefCell<Vec<(u64, f64, Outcome)>>>;

/// Wall-clock time for the bridge, ms: `performance.now()` (monotonic).
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

/// Random bytes from `crypto.getRandomValues` (falling back to
/// `Math.random`, which is enough to tell two pages apart but makes the
/// page's signing keys guessable; every current browser has `crypto`).
pub fn random_bytes(bytes: &mut [u8]) {
    let got = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(bytes).is_ok());
    if !got {
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}

/// Random words for the bridge's tag, UUID key and RNG.
pub fn entropy() -> [u64; 3] {
    let mut bytes = [0u8; 24];
    random_bytes(&mut bytes);
    let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    [word(0), word(1), word(2)]
}

/// A fresh per-page secret: the virtual nodes' signing keys derive from it.
pub fn secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    random_bytes(&mut s);
    s
}

/// Where a tab keeps its identity across reloads (`sessionStorage`).
const IDENTITY_KEY: &str = "gossip.page-identity.v1";

/// The page's identity: the word its tag derives from and the secret its
/// virtual nodes' keys derive from, as hex in `sessionStorage`, so that a
/// reload keeps the tab's identities (and keys: native nodes have them
/// bound) instead of adding new ones to every view. One tab, one identity; a
/// new tab starts with an empty `sessionStorage`, so a new one. Where
/// `sessionStorage` is missing or refuses (a sandboxed frame, storage
/// disabled), a fresh identity per load, as before.
pub fn page_identity() -> (u64, [u8; 32]) {
    let storage =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("sessionStorage")).ok().filter(|s| s.is_object());
    let call = |method: &str, args: &[&str]| -> Option<JsValue> {
        let st = storage.as_ref()?;
        let f: js_sys::Function = js_sys::Reflect::get(st, &JsValue::from_str(method)).ok()?.dyn_into().ok()?;
        let args: Vec<JsValue> = args.iter().map(|a| JsValue::from_str(a)).collect();
        match args.as_slice() {
            [a] => f.call1(st, a).ok(),
            [a, b] => f.call2(st, a, b).ok(),
            _ => None,
        }
    };
    if let Some(saved) = call("getItem", &[IDENTITY_KEY]).and_then(|v| v.as_string()) {
        if let Some(id) = decode_identity(&saved) {
            return id;
        }
    }
    let mut tag = [0u8; 8];
    random_bytes(&mut tag);
    let id = (u64::from_le_bytes(tag), secret());
    let _ = call("setItem", &[IDENTITY_KEY, &encode_identity(id)]);
    id
}

/// An identity as `sessionStorage` keeps it: 80 hex digits (tag word, little-endian, then secret).
fn encode_identity((tag, secret): (u64, [u8; 32])) -> String {
    tag.to_le_bytes().iter().chain(secret.iter()).map(|b| format!("{b:02x}")).collect()
}

/// The identity kept as [`encode_identity`] writes it; `None` if it is not that.
fn decode_identity(s: &str) -> Option<(u64, [u8; 32])> {
    if s.len() != 80 || !s.is_ascii() {
        return None;
    }
    let bytes: Vec<u8> = (0..40).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect::<Option<_>>()?;
    let tag = u64::from_le_bytes(bytes[..8].try_into().ok()?);
    Some((tag, bytes[8..].try_into().ok()?))
}

/// Perform `req` in the background; its outcome goes to `inbox`.
pub fn send(req: HttpRequest, max_body: usize, inbox: Inbox) {
    spawn_local(async move {
        let outcome = perform(&req, max_body).await;
        inbox.borrow_mut().push((req.id, now_ms(), outcome));
    });
}

/// What a failed `fetch` says, for a person. Browsers report refused
/// connections, DNS failures and CORS refusals alike, as a `TypeError`.
fn describe(e: &JsValue) -> FetchError {
    let msg = js_sys::Reflect::get(e, &JsValue::from_str("message")).ok().and_then(|m| m.as_string());
    FetchError::Network(match msg {
        Some(m) if m.contains("fetch") => "network error: no connection, or refused by CORS".into(),
        Some(m) => m,
        None => "network error".into(),
    })
}

async fn perform(req: &HttpRequest, max_body: usize) -> Outcome {
    let ctrl = AbortController::new().map_err(|e| describe(&e))?;
    let init = RequestInit::new();
    init.set_method(req.method);
    init.set_mode(RequestMode::Cors);
    init.set_signal(Some(&ctrl.signal()));
    if let Some(body) = &req.body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(&req.url, &init).map_err(|e| describe(&e))?;
    if req.body.is_some() {
        request.headers().set("Content-Type", "application/json").map_err(|e| describe(&e))?;
    }
    let window = web_sys::window().ok_or("no window: the lab runs in a page")?;
    let timed_out = Rc::new(RefCell::new(false));
    // dropping the timer cancels it; it covers the body as well as the head
    let timer = {
        let (ctrl, flag) = (ctrl.clone(), timed_out.clone());
        Timeout::new(req.timeout_ms.min(u32::MAX as u64) as u32, move || {
            *flag.borrow_mut() = true;
            ctrl.abort();
        })
    };
    let result = async {
        let resp: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|e| describe(&e))?
            .dyn_into()
            .map_err(|_| FetchError::from("fetch did not give a Response"))?;
        let status = resp.status();
        let declared = resp.headers().get("Content-Length").ok().flatten().and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > max_body) {
            ctrl.abort();
            return Err(FetchError::TooLarge { declared: declared.unwrap_or(0), limit: max_body });
        }
        let text = JsFuture::from(resp.text().map_err(|e| describe(&e))?).await.map_err(|e| describe(&e))?;
        Ok((status, text.as_string().unwrap_or_default()))
    }
    .await;
    drop(timer);
    if *timed_out.borrow() {
        return Err(FetchError::Timeout(req.timeout_ms));
    }
    result
}
