//! Benchmark (prints figures, asserts no times): the memory the send path needs to forward a
//! 60 MiB uploaded attachment to a Graph upload session. Run with `make bench-send-memory`.
//!
//! The simulator keeps every byte it receives, so measuring beside it would count its copy too.
//! Here the upload session is a sink that reads each PUT and drops it, and the process's peak RSS
//! (VmHWM, reset just before) is compared with its RSS before the forwarding starts: the
//! difference is what the forwarding path (S3 stream -> 3,200 KiB chunks -> PUTs) holds at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use m365_connector::app::Connector;
use m365_connector::domain::ConnectionId;
use m365_connector::graph::GraphPolicy;
use m365_connector::sending::uploads::stream_to_graph;
use m365_connector::store::sends::UploadRecord;

use crate::helpers::{stack, unique};

const SIZE: usize = 60 * 1024 * 1024;
const CHUNK: usize = 10 * 320 * 1024;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// An upload-session stand-in that counts what it receives and keeps nothing.
async fn sink(received: Arc<AtomicU64>, puts: Arc<AtomicU64>) -> String {
    use axum::body::Body;
    use futures::StreamExt;
    let app = axum::Router::new().route(
        "/upload",
        axum::routing::put(move |body: Body| {
            let received = received.clone();
            let puts = puts.clone();
            async move {
                let mut stream = body.into_data_stream();
                while let Some(Ok(bytes)) = stream.next().await {
                    received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                puts.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/upload")
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_send_path_peak_memory_for_a_60_mib_attachment() {
    let stack = stack().await;
    let connector = Connector::new(stack.config.clone(), &stack.aws);
    let bucket = stack
        .config
        .uploads_bucket
        .clone()
        .expect("UPLOADS_BUCKET (run through make)");
    let key = format!("upload-{}", unique("bench"));
    {
        // The test's own copy of the file is built and dropped before anything is measured.
        let content: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        connector
            .s3()
            .expect("every client in tests")
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(content.into())
            .send()
            .await
            .unwrap();
    }
    let received = Arc::new(AtomicU64::new(0));
    let puts = Arc::new(AtomicU64::new(0));
    let url = sink(received.clone(), puts.clone()).await;
    let record = UploadRecord {
        upload_id: key.clone(),
        connection_id: ConnectionId::new_random(),
        s3_key: key,
        name: "sixty.bin".into(),
        content_type: "application/octet-stream".into(),
        size: SIZE as u64,
        created_at: Utc::now(),
        expires_at: Utc::now(),
    };

    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = status_kib("VmRSS:");
    let started = std::time::Instant::now();
    stream_to_graph(&connector, &record, &url, CHUNK, &GraphPolicy::sending())
        .await
        .unwrap();
    let took = started.elapsed();
    let peak = status_kib("VmHWM:");

    assert_eq!(
        received.load(Ordering::Relaxed),
        SIZE as u64,
        "every byte forwarded"
    );
    println!(
        "forwarded {} MiB in {} PUTs of {} KiB in {took:?} ({:.0} MB/s)",
        SIZE / 1024 / 1024,
        puts.load(Ordering::Relaxed),
        CHUNK / 1024,
        SIZE as f64 / 1e6 / took.as_secs_f64()
    );
    println!(
        "process RSS before {} MiB, peak during {} MiB: the forwarding path held at most {:.1} MiB (VmHWM reset: {reset})",
        rss_before / 1024,
        peak / 1024,
        peak.saturating_sub(rss_before) as f64 / 1024.0
    );
}
