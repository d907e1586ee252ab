//! The baseline of the `POST /gossip/` benchmark (BENCHMARKS.md): a bare
//! axum handler that parses a JSON body and echoes it, served exactly as the
//! node serves (hyper HTTP/1.1, one tokio thread), with nothing else: no
//! gossip, no validation, no limits, no CORS.
//!
//! ```sh
//! cargo run --release --example echo_server -- 127.0.0.1:7999
//! ```

use axum::routing::post;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

async fn echo(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(v)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7999".into());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let app = Router::new().route("/gossip/", post(echo));
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("echo server on http://{}", listener.local_addr()?);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new());
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
            tokio::spawn(conn);
        }
    })
}
