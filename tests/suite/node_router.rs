//! The native node's HTTP API in process: requests go straight into the
//! router with `tower::ServiceExt::oneshot`, no sockets.
#![cfg(not(target_arch = "wasm32"))] // the native node

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gossip::core::{Config, Message, Policy, Signer, Update, Uuid, Version};
use gossip::server::lab::{lab_app, LabConfig};
use gossip::server::state::StateView;
use gossip::server::{app, NodeOptions, NodeState};
use gossip::wire;
use tower::ServiceExt;

const ME: &str = "http://127.0.0.1:7000";

/// A node at `url` in epoch 5 whose favorite is `movie`, never re-sampled,
/// accepting unsigned course-style updates (the bodies these tests write by
/// hand); the signature checks have tests of their own.
fn node_at(url: &str, movie: &str, seed: u64) -> Arc<NodeState> {
    let opts = NodeOptions {
        core: Config { resample_ms: None, auth: Policy::Welcome, ..Config::default() },
        movie: Some(movie.into()),
        epoch: Some(5),
        seed: Some(seed),
        ..NodeOptions::default()
    };
    NodeState::new(opts, url)
}

fn node() -> Arc<NodeState> {
    node_at(ME, "Alien", 1)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.expect("the router never fails");
    let status = resp.status();
    let headers = resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec();
    (status, headers, body)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path).header(header::CONTENT_TYPE, "application/json").body(body.into()).unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

async fn state_of(app: &Router) -> StateView {
    let (s, _, body) = send(app, get("/state")).await;
    assert_eq!(s, StatusCode::OK);
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn both_slash_forms_of_every_endpoint_are_served() {
    let app = app(node());
    for path in ["/peers", "/peers/", "/state", "/state/", "/metrics", "/"] {
        assert_eq!(send(&app, get(path)).await.0, StatusCode::OK, "{path}");
    }
    for path in ["/gossip", "/gossip/"] {
        let (s, _, body) = send(&app, post(path, r#"{"from":"b"}"#)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
    }
}

/// A page's CORS preflight for `POST /gossip/` with a JSON body, from
/// `origin`, asking for Private Network Access if `private_network`.
fn preflight(origin: &str, private_network: bool) -> Request<Body> {
    let mut r = Request::builder()
        .method(Method::OPTIONS)
        .uri("/gossip/")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type");
    if private_network {
        r = r.header("access-control-request-private-network", "true");
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn cors_lets_any_origin_fetch_including_the_preflight() {
    let app = app(node());
    let (s, h, _) = send(&app, preflight("http://example.org", false)).await;
    assert!(s.is_success(), "{s}");
    let has = |k: &str, v: &str| h.iter().any(|(hk, hv)| hk == k && hv.to_ascii_lowercase().contains(v));
    assert!(has("access-control-allow-origin", "*"), "{h:?}");
    assert!(has("access-control-allow-methods", "post"), "{h:?}");
    assert!(has("access-control-allow-headers", "content-type"), "{h:?}");
    for path in ["/peers/", "/state"] {
        let req = Request::get(path).header(header::ORIGIN, "http://example.org").body(Body::empty()).unwrap();
        let (_, h, _) = send(&app, req).await;
        assert!(h.iter().any(|(k, v)| k == "access-control-allow-origin" && v == "*"), "{path}: {h:?}");
    }
}

#[tokio::test]
async fn a_private_network_preflight_is_allowed_for_pages_on_other_origins() {
    let app = app(node());
    let (s, h, _) = send(&app, preflight("https://lab.example.org", true)).await;
    assert!(s.is_success(), "{s}");
    assert!(h.iter().any(|(k, v)| k == "access-control-allow-private-network" && v == "true"), "{h:?}");
    assert!(h.iter().any(|(k, v)| k == "access-control-allow-origin" && v == "*"), "{h:?}");
    assert!(h.iter().any(|(k, v)| k == "access-control-allow-methods" && v.contains("POST")), "{h:?}");
    let (_, h, _) = send(&app, preflight("https://lab.example.org", false)).await;
    assert!(!h.iter().any(|(k, _)| k == "access-control-allow-private-network"), "only when asked: {h:?}");
}

#[tokio::test]
async fn an_exchange_answers_with_what_the_sender_lacks_and_learns_what_it_sent() {
    let app = app(node());
    let body = r#"{
        "from": "browser-1",
        "updates": [{"uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "origin": "browser-1",
                     "epoch": 0, "version": 2, "ttl": 6, "payload": "Heat"}],
        "digest": {"browser-1": [0, 2], "http://127.0.0.1:7009": [3, 4]}
    }"#;
    let (s, _, out) = send(&app, post("/gossip/", body)).await;
    assert_eq!(s, StatusCode::OK);
    let env = wire::decode(&out, &wire::Limits::default()).unwrap();
    assert_eq!(&*env.from, ME);
    let [Message::Delta { updates, request }] = &env.messages[..] else { panic!("{:?}", env.messages) };
    assert_eq!(updates.len(), 1, "the sender lacks only this node's own favorite");
    assert_eq!((&*updates[0].origin, updates[0].payload.as_str()), (ME, "Alien"));
    assert_eq!(updates[0].version, Version::new(5, 1));
    assert_eq!(request.len(), 1, "this node wants the origin only the sender knows");
    assert_eq!(&*request.pairs()[0].0, "http://127.0.0.1:7009");

    let st = state_of(&app).await;
    assert_eq!(st.view["browser-1"].movie, "Heat", "the sender's own update was learned");
    assert_eq!(st.view["browser-1"].version, 2);
    assert_eq!(st.view["browser-1"].uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert!(st.peers.is_empty(), "a sender without a URL is never dialed, so never listed");
}

#[tokio::test]
async fn a_sender_with_a_url_becomes_a_listed_peer() {
    let app = app(node());
    let body = r#"{"from":"http://127.0.0.1:7001","url":"http://127.0.0.1:7001/","digest":{}}"#;
    let (s, _, out) = send(&app, post("/gossip", body)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&out).contains("Alien"), "an empty digest gets the whole view");
    let (_, _, peers) = send(&app, get("/peers/")).await;
    assert_eq!(json(&peers), serde_json::json!(["http://127.0.0.1:7001"]));
}

#[tokio::test]
async fn a_node_restarted_in_the_same_epoch_still_wins_with_its_new_favorite() {
    // a peer remembers R's first incarnation: epoch 5, version 1, "Old"
    let peer = app(node());
    let r = "http://127.0.0.1:7002";
    let old = format!(
        r#"{{"from":"{r}","url":"{r}","updates":[{{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"{r}",
            "epoch":5,"version":1,"ttl":0,"payload":"Old"}}]}}"#
    );
    assert_eq!(send(&peer, post("/gossip/", old)).await.0, StatusCode::OK);
    // R restarts within the same second: the same epoch, counting from 1 again
    let restarted = node_at(r, "New", 2);
    // its bootstrap step asks for everything; the answer holds its old self
    let ask = format!(r#"{{"from":"{r}","url":"{r}","digest":{{}},"pull_only":true}}"#);
    let (_, _, answer) = send(&peer, post("/gossip/", ask)).await;
    let env = wire::decode(&answer, &wire::Limits::default()).unwrap();
    let follow_up = restarted.exchange_answered(&Arc::from(ME), env.from, env.key, env.messages);
    assert_eq!(restarted.state_json().version, 2, "announced above the old incarnation");
    assert!(follow_up.is_empty() || follow_up.iter().all(|(to, _)| &**to == ME));
    // its next exchange with the peer carries the new favorite, which wins
    let digest = Message::Digest { digest: restarted.digest(), push_pull: true };
    let push = restarted.state_json();
    assert_eq!(push.movie.as_deref(), Some("New"));
    let body = wire::encode(r, Some(r), None, &[digest]);
    let (_, _, answer) = send(&peer, post("/gossip/", body)).await;
    let env = wire::decode(&answer, &wire::Limits::default()).unwrap();
    let sends = restarted.exchange_answered(&Arc::from(ME), env.from, env.key, env.messages);
    let [(to, msgs)] = &sends[..] else { panic!("one follow-up delta to the peer: {sends:?}") };
    assert_eq!(&**to, ME);
    assert_eq!(send(&peer, post("/gossip/", wire::encode(r, Some(r), None, msgs))).await.0, StatusCode::OK);
    let seen = state_of(&peer).await.view[r].clone();
    assert_eq!((seen.movie.as_str(), seen.epoch, seen.version), ("New", 5, 2));
}

/// Whether `u` is a UUID in canonical form: `8-4-4-4-12` lowercase hex.
fn is_canonical_uuid(u: &str) -> bool {
    let groups: Vec<&str> = u.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[tokio::test]
async fn state_shows_the_favorite_version_and_view_in_the_documented_shape() {
    let app = app(node());
    // an update whose UUID arrives as 32 uppercase hex digits
    let body = r#"{"from":"b","updates":[{"uuid":"0F8FAD5BD9CB469FA16570867728950E","origin":"b","version":1,"ttl":2,"payload":"Up"}]}"#;
    assert_eq!(send(&app, post("/gossip/", body)).await.0, StatusCode::OK);
    let (_, h, body) = send(&app, get("/state")).await;
    assert!(h.iter().any(|(k, v)| k == "content-type" && v.starts_with("application/json")));
    let j = json(&body);
    assert_eq!(j["id"], ME);
    assert_eq!(j["movie"], "Alien");
    assert_eq!(j["version"], 1);
    assert_eq!(j["epoch"], 5);
    assert_eq!(j["view"][ME]["movie"], "Alien");
    assert_eq!(j["view"][ME]["version"], 1);
    let own = j["view"][ME]["uuid"].as_str().unwrap_or_else(|| panic!("a uuid in {j}"));
    assert!(is_canonical_uuid(own), "{own}");
    assert_eq!(j["view"]["b"]["uuid"], "0f8fad5b-d9cb-469f-a165-70867728950e", "the update's UUID, canonical");
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with(r#"{"id":"#), "id first: {text}");
    let entry = text.split(r#""b":"#).nth(1).unwrap_or("");
    let documented =
        r#"{"movie":"Up","version":1,"epoch":0,"uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","ttl":2,"learned_ms":"#;
    assert!(entry.starts_with(documented), "the documented field order: {entry}");
}

#[tokio::test]
async fn rejections_have_a_status_a_json_body_and_a_counter() {
    let st = node();
    let app = app(st.clone());
    // a body over the limit without a Content-Length header (the process
    // test sends a real chunked one)
    let unsized_body = Body::from(vec![b' '; 1_100_000]);
    let cases = vec![
        (post("/gossip/", "{oops"), StatusCode::BAD_REQUEST, "malformed_json"),
        (post("/gossip/", r#"{"from":1}"#), StatusCode::BAD_REQUEST, "invalid_field"),
        (post("/gossip/", format!(r#"{{"from":"{ME}"}}"#)), StatusCode::BAD_REQUEST, "invalid_field"),
        (post("/gossip/", &b"{\"from\":\"\xff\"}"[..]), StatusCode::BAD_REQUEST, "invalid_utf8"),
        (
            Request::post("/gossip/").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (post("/gossip/", unsized_body), StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        (
            Request::post("/gossip/")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "2000000")
                .body(Body::from("{}"))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (get("/nowhere"), StatusCode::NOT_FOUND, "not_found"),
        (get("/gossip/"), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    ];
    for (req, status, reason) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (s, h, body) = send(&app, req).await;
        assert_eq!(s, status, "{what}: {}", String::from_utf8_lossy(&body));
        assert!(h.iter().any(|(k, v)| k == "content-type" && v == "application/json"), "{what}");
        let j = json(&body);
        assert_eq!(j["reason"], reason, "{what}");
        assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (_, _, metrics) = send(&app, get("/metrics")).await;
    let text = String::from_utf8(metrics).unwrap();
    for (reason, n) in
        [("malformed_json", 1), ("invalid_field", 2), ("too_large", 2), ("not_found", 1), ("unsupported_media_type", 1)]
    {
        assert!(text.contains(&format!("gossip_rejected_requests_total{{reason=\"{reason}\"}} {n}\n")), "{text}");
    }
    assert_eq!(st.metrics.rejected(gossip::server::error::Reason::InvalidUtf8), 1);
}

#[tokio::test]
async fn metrics_count_exchanges_messages_bytes_and_gauges() {
    let app = app(node());
    let body = r#"{"from":"b","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":2,"payload":"Up"}]}"#;
    send(&app, post("/gossip/", body)).await;
    send(&app, post("/gossip/", body)).await;
    let (_, h, metrics) = send(&app, get("/metrics")).await;
    assert!(h.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/plain")));
    let text = String::from_utf8(metrics).unwrap();
    for line in [
        "gossip_exchanges_total{direction=\"in\",result=\"ok\"} 2\n",
        "gossip_messages_total{direction=\"in\"} 2\n",
        format!("gossip_bytes_total{{direction=\"in\"}} {}\n", 2 * body.len()).as_str(),
        "gossip_updates_received_total{outcome=\"fresh\"} 1\n",
        "gossip_updates_received_total{outcome=\"duplicate\"} 1\n",
        "gossip_view_origins 2\n",
        "gossip_seen_cache_size 2\n",
        "gossip_peers{state=\"alive\"} 0\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn the_index_page_shows_the_view_live() {
    let (s, h, body) = send(&app(node()), get("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/html")));
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("fetch(\"state\"") && page.contains("setInterval"), "polls /state");
}

/// A directory of its own under the system's temporary one, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("gossip-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }

    fn write(&self, path: &str, bytes: &[u8]) {
        let file = self.0.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

#[tokio::test]
async fn the_lab_site_serves_its_files_with_their_types_and_tells_the_page_where_the_nodes_are() {
    let www = TempDir::new("lab-site");
    www.write("index.html", b"<!doctype html><title>lab</title>");
    www.write("app.js", b"export const x = 1;");
    let wasm = b"\0asm\x01\0\0\0";
    www.write("pkg/gossip_bg.wasm", wasm);
    let urls =
        vec!["http://127.0.0.1:7000".to_string(), "http://127.0.0.1:7001".into(), "http://127.0.0.1:7002".into()];
    let lab = lab_app(www.0.clone(), LabConfig::new(urls));

    let (s, h, body) = send(&lab, get("/lab-config.json")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("application/json"), "{h:?}");
    assert_eq!(header(&h, "cache-control"), "no-store", "{h:?}");
    assert_eq!(
        json(&body),
        serde_json::json!({"connect": "http://127.0.0.1:7000",
                           "nodes": ["http://127.0.0.1:7000", "http://127.0.0.1:7001", "http://127.0.0.1:7002"]})
    );

    let (s, h, body) = send(&lab, get("/pkg/gossip_bg.wasm")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "application/wasm", "streaming compilation needs it: {h:?}");
    assert_eq!(body, wasm);
    let (s, h, _) = send(&lab, get("/app.js")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(header(&h, "content-type").contains("javascript"), "modules need a JavaScript type: {h:?}");
    let (s, h, body) = send(&lab, get("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("text/html"), "{h:?}");
    assert_eq!(body, b"<!doctype html><title>lab</title>");

    for missing in ["/nope.js", "/pkg/missing.wasm", "/../Cargo.toml"] {
        assert_eq!(send(&lab, get(missing)).await.0, StatusCode::NOT_FOUND, "{missing}");
    }
}

/// A node with the default policy: every update must be sealed by its origin.
/// A node that requires seals (`--require-signed`).
fn strict_node() -> Arc<NodeState> {
    strict_node_with(Policy::Required)
}

fn strict_node_with(auth: Policy) -> Arc<NodeState> {
    let opts = NodeOptions {
        core: Config { resample_ms: None, auth, ..Config::default() },
        movie: Some("Alien".into()),
        seed: Some(3),
        key_seed: gossip::server::state::KeySeed([3; 32]),
        ..NodeOptions::default()
    };
    NodeState::new(opts, ME)
}

/// A body from `origin` pushing its own update, sealed by `key`, then
/// changed by `tamper` (a forger's edit after signing).
fn sealed_push(
    key: &Signer,
    origin: &str,
    epoch: u32,
    version: u64,
    tamper: impl FnOnce(&mut Update<wire::Id>),
) -> Vec<u8> {
    let o: wire::Id = Arc::from(origin);
    let (uuid, v) = (
        Uuid::from_u128(0x1234_5678_9abc_4def_8000_0000_0000_0000 + ((epoch as u128) << 64) + version as u128),
        Version::new(epoch, version),
    );
    let seal = Some(key.seal(uuid, &o, v, "Heat"));
    let mut u = Update::new(uuid, o, v, 3, "Heat".into(), seal);
    tamper(&mut u);
    wire::encode(origin, None, Some(&key.public()), &[Message::Push(vec![u])])
}

fn metric(text: &str, sample: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{sample} in\n{text}"))
}

#[tokio::test]
async fn under_require_signed_unsigned_updates_are_refused_with_403_saying_why() {
    let app = app(strict_node());
    let body = r#"{"from":"b","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":2,"payload":"Up"}]}"#;
    let (s, _, out) = send(&app, post("/gossip/", body)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let err = json(&out);
    assert_eq!(err["reason"], "unauthenticated");
    assert!(err["error"].as_str().unwrap().contains("--require-signed"), "{err}");
    assert!(!err["error"].as_str().unwrap().contains("--allow-unsigned"), "{err}");
    assert!(!state_of(&app).await.view.contains_key("b"), "nothing unsigned was applied");
    let (_, _, m) = send(&app, get("/metrics")).await;
    let m = String::from_utf8(m).unwrap();
    assert_eq!(metric(&m, r#"gossip_updates_received_total{outcome="unsigned"}"#), 1);
    assert_eq!(metric(&m, r#"gossip_rejected_requests_total{reason="unauthenticated"}"#), 1);
}

#[tokio::test]
async fn sealed_updates_are_applied_and_state_shows_every_key() {
    let node = strict_node();
    let app = app(node.clone());
    let bob = Signer::from_seed([2; 32]);
    let (s, _, out) = send(&app, post("/gossip/", sealed_push(&bob, "b", 7, 1, |_| {}))).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let st = state_of(&app).await;
    assert_eq!(st.view["b"].movie, "Heat");
    assert_eq!(st.view["b"].key.as_deref(), Some(wire::key_text(&bob.public()).as_str()));
    assert_eq!(st.key, wire::key_text(&node.key));
    assert_eq!(st.key.len(), 43);
    assert_eq!(st.view[ME].key.as_deref(), Some(st.key.as_str()), "its own favorite is sealed with its own key");
    // the answer names the node's key, so a peer that dialed it can bind it
    let env = wire::decode(&out, &wire::Limits::default()).unwrap();
    assert_eq!(env.key, Some(node.key));
}

#[tokio::test]
async fn forged_and_wrongly_keyed_updates_are_refused_and_the_genuine_one_still_gets_in() {
    let app = app(strict_node());
    let (bob, mallory) = (Signer::from_seed([2; 32]), Signer::from_seed([4; 32]));
    let forged = sealed_push(&bob, "b", 7, 1, |u| u.edit(|r| r.payload = "Forged".into()));
    let (s, _, out) = send(&app, post("/gossip/", forged)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&out).contains("does not verify"));
    // the same UUID, genuinely signed: not taken for a duplicate
    assert_eq!(send(&app, post("/gossip/", sealed_push(&bob, "b", 7, 1, |_| {}))).await.0, StatusCode::OK);
    // mallory signs a newer version of b with her own key
    let (s, _, out) = send(&app, post("/gossip/", sealed_push(&mallory, "b", 8, 1, |_| {}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&out).contains("another key"));
    let st = state_of(&app).await;
    assert_eq!((st.view["b"].epoch, st.view["b"].movie.as_str()), (7, "Heat"));
}

#[tokio::test]
async fn an_epoch_far_in_the_future_is_refused() {
    let app = app(strict_node());
    let bob = Signer::from_seed([2; 32]);
    let far = gossip::server::state::wall_clock_epoch() + 3 * 86_400;
    let (s, _, out) = send(&app, post("/gossip/", sealed_push(&bob, "b", far, 1, |_| {}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&out).contains("future"));
    assert!(!state_of(&app).await.view.contains_key("b"));
}

#[tokio::test]
async fn faults_partition_the_node_only_with_the_flag_and_heal_with_an_empty_list() {
    let (s, _, body) = send(&app(node()), post("/faults", r#"{"drop":[]}"#)).await;
    assert_eq!((s, json(&body)["reason"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "no flag, no route");

    let gone = "http://127.0.0.1:9"; // the bootstrap peer, pinned
    let opts = NodeOptions {
        core: Config { resample_ms: None, ..Config::default() },
        movie: Some("Alien".into()),
        bootstrap: vec![gone.into()],
        allow_faults: true,
        // the simple detector: a failed exchange makes the peer suspect at
        // once (under SWIM, the default, its probes decide: tests/suite/node_swim.rs)
        swim: None,
        ..NodeOptions::default()
    };
    let st = NodeState::new(opts, ME);
    let app = app(st.clone());
    let (s, _, body) =
        send(&app, post("/faults/", r#"{"drop":["http://127.0.0.1:7003/","http://127.0.0.1:9"]}"#)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body), serde_json::json!({"drop": ["http://127.0.0.1:7003", gone]}));

    // exchanges from a dropped URL are refused, by url or by from
    let from_7003 = r#"{"from":"x","url":"http://127.0.0.1:7003","digest":{}}"#;
    for body in [from_7003, r#"{"from":"http://127.0.0.1:7003","digest":{}}"#] {
        let (s, h, out) = send(&app, post("/gossip/", body)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(h.iter().any(|(k, v)| k == "content-type" && v == "application/json"));
        assert_eq!(json(&out)["reason"], "partitioned");
    }
    let other = r#"{"from":"http://127.0.0.1:7004","url":"http://127.0.0.1:7004","digest":{}}"#;
    assert_eq!(send(&app, post("/gossip/", other)).await.0, StatusCode::OK, "others are not affected");

    // nothing is sent to a dropped URL: the exchange fails at once, the peer turns suspect
    let digest = Message::Digest { digest: Default::default(), push_pull: true };
    gossip::server::client::dispatch(&st, vec![(Arc::from(gone), vec![digest])]);
    for _ in 0..100 {
        if st.state_json().suspect.iter().any(|p| p == gone) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(st.state_json().suspect, vec![gone.to_string()]);
    let (_, _, m) = send(&app, get("/metrics")).await;
    let m = String::from_utf8(m).unwrap();
    assert!(!m.contains(&format!("peer=\"{gone}\"")), "never dialed:\n{m}");
    let failed = m.lines().find_map(|l| l.strip_prefix("gossip_exchanges_total{direction=\"out\",result=\"failed\"} "));
    assert!(failed.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n >= 1), "{m}");
    assert!(m.contains("gossip_rejected_requests_total{reason=\"partitioned\"} 2\n"), "{m}");

    // bad lists are refused and change nothing
    for (body, status, reason) in [
        (r#"{"drop":"http://127.0.0.1:7003"}"#, StatusCode::BAD_REQUEST, "invalid_field"),
        (r#"{"drop":["javascript:alert(1)"]}"#, StatusCode::BAD_REQUEST, "invalid_field"),
        (r#"{"drop":["http://127.0.0.1:7003/gossip/"]}"#, StatusCode::BAD_REQUEST, "invalid_field"),
        (r#"{"dorp":[]}"#, StatusCode::BAD_REQUEST, "invalid_field"),
        (r#"{"drop":["#, StatusCode::BAD_REQUEST, "malformed_json"),
    ] {
        let (s, _, out) = send(&app, post("/faults", body)).await;
        assert_eq!((s, json(&out)["reason"].as_str()), (status, Some(reason)), "{body}");
    }
    let text = Request::post("/faults").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{}")).unwrap();
    assert_eq!(send(&app, text).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(send(&app, post("/gossip/", from_7003)).await.0, StatusCode::SERVICE_UNAVAILABLE, "still dropped");

    // heal
    let (s, _, body) = send(&app, post("/faults", r#"{"drop":[]}"#)).await;
    assert_eq!((s, json(&body)), (StatusCode::OK, serde_json::json!({"drop": []})));
    assert_eq!(send(&app, post("/gossip/", from_7003)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_request_over_the_concurrency_limit_is_answered_503_at_once_with_retry_after() {
    let opts = NodeOptions { max_concurrent: 1, movie: Some("Alien".into()), ..NodeOptions::default() };
    let app = app(NodeState::new(opts, ME));
    // a body that never arrives keeps the only slot busy
    let stuck = Body::new(Never);
    let held = tokio::spawn({
        let app = app.clone();
        async move { send(&app, post("/gossip/", stuck)).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (s, h, body) = send(&app, get("/state")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(h.iter().any(|(k, v)| k == "retry-after" && v == "1"), "{h:?}");
    assert_eq!(json(&body)["reason"], "busy");
    held.abort();
    let _ = held.await;
    assert_eq!(send(&app, get("/state")).await.0, StatusCode::OK, "the slot is free again");
}

/// A request body that never sends anything.
struct Never;

impl hyper::body::Body for Never {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

const UNSIGNED_B: &str = r#"{"from":"b","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":2,"payload":"Up"}]}"#;

#[tokio::test]
async fn by_default_an_unsigned_course_node_is_welcome_and_shown_unverified() {
    let node = NodeState::new(
        NodeOptions {
            core: Config { resample_ms: None, ..Config::default() },
            movie: Some("Alien".into()),
            ..NodeOptions::default()
        },
        ME,
    );
    let app = app(node);
    let (s, _, out) = send(&app, post("/gossip/", UNSIGNED_B)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let st = state_of(&app).await;
    assert_eq!(st.seals, "welcome");
    assert_eq!((st.view["b"].movie.as_str(), st.view["b"].verified, st.view["b"].key.as_deref()), ("Up", false, None));
    assert!(st.view[ME].verified, "its own favorite is sealed");
    let (_, _, raw) = send(&app, get("/state")).await;
    assert_eq!(json(&raw)["view"]["b"]["verified"], false, "the JSON names the field");
}

#[tokio::test]
async fn an_origin_seen_signed_is_refused_unsigned_with_403_naming_the_true_cause_under_every_policy() {
    for policy in [Policy::Welcome, Policy::Required] {
        let app = app(strict_node_with(policy));
        let bob = Signer::from_seed([2; 32]);
        assert_eq!(send(&app, post("/gossip/", sealed_push(&bob, "b", 7, 1, |_| {}))).await.0, StatusCode::OK);
        // a relay that dropped key and sig from b's next update
        let stripped = r#"{"from":"http://127.0.0.1:7009","url":"http://127.0.0.1:7009","updates":[{"uuid":"1f8fad5bd9cb469fa16570867728950e","origin":"b","epoch":7,"version":2,"ttl":2,"payload":"Up"}]}"#;
        let (s, _, out) = send(&app, post("/gossip/", stripped)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{policy:?}");
        let err = json(&out)["error"].as_str().unwrap().to_string();
        assert!(err.contains("bound to a key") && err.contains("forward key and sig unchanged"), "{policy:?}: {err}");
        assert!(!err.contains("--allow-unsigned") && !err.contains("--require-signed"), "{policy:?}: {err}");
        let st = state_of(&app).await;
        assert_eq!((st.view["b"].version, st.view["b"].verified), (1, true), "{policy:?}");
        let (_, _, m) = send(&app, get("/metrics")).await;
        let m = String::from_utf8(m).unwrap();
        assert_eq!(metric(&m, r#"gossip_updates_received_total{outcome="bound_unsigned"}"#), 1, "{policy:?}");
        assert_eq!(metric(&m, r#"gossip_updates_received_total{outcome="unsigned"}"#), 0, "{policy:?}");
    }
}

#[tokio::test]
async fn refusals_are_logged_once_per_peer_and_reason_in_a_bounded_set() {
    let node = strict_node();
    let app = app(node.clone());
    for _ in 0..3 {
        assert_eq!(send(&app, post("/gossip/", UNSIGNED_B)).await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(node.refusals_logged(), 1, "three refusals of one kind from one peer: one line");
    let from_c = UNSIGNED_B.replace(r#""from":"b""#, r#""from":"c""#);
    assert_eq!(send(&app, post("/gossip/", from_c)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(node.refusals_logged(), 2, "another peer: another line");
    let bob = Signer::from_seed([2; 32]);
    let forged = sealed_push(&bob, "b", 7, 1, |u| u.edit(|r| r.payload = "Forged".into()));
    assert_eq!(send(&app, post("/gossip/", forged)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(node.refusals_logged(), 3, "another reason from the same peer: another line");
    // a peer that changes its name at every request cannot grow the set past its cap
    let r = gossip::core::Refusals { unsigned: 1, ..Default::default() };
    for i in 0..gossip::server::state::REFUSAL_LOG_CAP + 500 {
        node.log_refusals(&Arc::from(format!("peer-{i}")), &r);
    }
    assert!(node.refusals_logged() <= gossip::server::state::REFUSAL_LOG_CAP + 1, "{}", node.refusals_logged());
    assert_eq!(node.log_refusals(&Arc::from("yet-another"), &r), 0, "full: only counted");
}

#[tokio::test]
async fn peers_lists_only_peers_that_answered_or_called_and_never_a_trailing_slash_twin() {
    let node = node();
    let app = app(node.clone());
    assert_eq!(node.learn_peers(["http://127.0.0.1:7005/", "http://127.0.0.1:7006"]), 2);
    let (_, _, peers) = send(&app, get("/peers/")).await;
    assert_eq!(json(&peers), serde_json::json!([]), "heard of, never answered: not listed");
    assert!(state_of(&app).await.peers.is_empty(), "/state lists the same peers");
    // 7005 calls, with a trailing slash on its url and on its origin
    let body = r#"{"from":"http://127.0.0.1:7005/","url":"http://127.0.0.1:7005/","updates":[{"uuid":"2f8fad5bd9cb469fa16570867728950e","origin":"http://127.0.0.1:7005/","version":1,"ttl":2,"payload":"Up"}]}"#;
    assert_eq!(send(&app, post("/gossip/", body)).await.0, StatusCode::OK);
    let (_, _, peers) = send(&app, get("/peers/")).await;
    assert_eq!(json(&peers), serde_json::json!(["http://127.0.0.1:7005"]));
    let st = state_of(&app).await;
    assert_eq!(st.peers, vec!["http://127.0.0.1:7005".to_string()]);
}

/// A node that forgets origins silent for `ms`, never re-sampling its own favorite.
fn forgetful_node(ms: u64) -> Arc<NodeState> {
    let opts = NodeOptions {
        core: Config { resample_ms: None, ..Config::default() },
        movie: Some("Alien".into()),
        forget_after_ms: Some(ms),
        ..NodeOptions::default()
    };
    NodeState::new(opts, ME)
}

fn unsigned_of(origin: &str, version: u64, uuid: u128, movie: &str) -> String {
    let u = Uuid::from_u128(uuid);
    format!(
        r#"{{"from":"x","updates":[{{"uuid":"{u}","origin":"{origin}","version":{version},"ttl":2,"payload":"{movie}"}}]}}"#
    )
}

#[tokio::test]
async fn a_silent_origin_is_forgotten_and_its_old_version_does_not_come_back() {
    let node = forgetful_node(300);
    let app = app(node.clone());
    assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-a", 3, 1, "Up"))).await.0, StatusCode::OK);
    assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-b", 1, 2, "Ran"))).await.0, StatusCode::OK);
    assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-c", 2, 6, "Heat"))).await.0, StatusCode::OK);
    // browser-b keeps talking to us itself, browser-c's page re-announces
    // its update as it is; browser-a says nothing more
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(send(&app, post("/gossip/", r#"{"from":"browser-b"}"#)).await.0, StatusCode::OK);
        assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-c", 2, 6, "Heat"))).await.0, StatusCode::OK);
        node.tick();
    }
    let st = state_of(&app).await;
    assert!(!st.view.contains_key("browser-a"), "silent for longer than the grace period: forgotten");
    assert!(st.view.contains_key("browser-b"), "an origin that calls is not silent");
    assert!(st.view.contains_key("browser-c"), "an origin whose update is pushed again as held is not silent");
    assert!(st.view.contains_key(ME), "a node never forgets itself");
    let (_, _, m) = send(&app, get("/metrics")).await;
    assert_eq!(metric(&String::from_utf8(m).unwrap(), "gossip_origins_forgotten_total"), 1);
    // a peer that still holds the old version hands it back: it stays out (tombstone)
    assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-a", 3, 3, "Up"))).await.0, StatusCode::OK);
    let d = r#"{"from":"y","delta":[{"uuid":"4f8fad5bd9cb469fa16570867728950e","origin":"browser-a","version":2,"ttl":2,"payload":"Old"}]}"#;
    assert_eq!(send(&app, post("/gossip/", d)).await.0, StatusCode::OK);
    assert!(!state_of(&app).await.view.contains_key("browser-a"), "an old version does not bring a ghost back");
    // a digest listing it gets no request for it
    let (_, _, out) = send(&app, post("/gossip/", r#"{"from":"y","digest":{"browser-a":[0,3]}}"#)).await;
    assert!(!String::from_utf8_lossy(&out).contains("browser-a"), "{}", String::from_utf8_lossy(&out));
    // a newer version is news: the origin is back
    assert_eq!(send(&app, post("/gossip/", unsigned_of("browser-a", 4, 5, "Heat"))).await.0, StatusCode::OK);
    assert_eq!(state_of(&app).await.view["browser-a"].movie, "Heat");
}
