//! Load on the Textflix app: many concurrent clients POST reviews to `/api/predict`; prints
//! errors and the p50 / p99 latency as JSON (and writes the same object to `--json FILE` when
//! given, for `scripts/results/textflix_app.py`).
//!
//! cargo run --release --example load_test -- --url http://127.0.0.1:8080 [--clients 200] [--requests 5] [--json FILE]

use std::time::{Duration, Instant};

#[derive(clap::Parser)]
struct Args {
    /// The app's address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Requests per client, one after another.
    #[arg(long, default_value_t = 5)]
    requests: usize,
    /// Also write the summary to this file (JSON).
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

const REVIEWS: [&str; 6] = [
    "A wonderful film with a moving story and superb acting.",
    "Dull, predictable and far too long. I walked out.",
    "The cast tries hard but the script lets everyone down.",
    "One of the best thrillers of the decade; tense from start to finish.",
    "Not bad at all, though the ending felt rushed.",
    "Awful dialogue, wooden acting, and the plot makes no sense.",
];

fn main() {
    let args = <Args as clap::Parser>::parse();
    let url = format!("{}/api/predict", args.url);
    let (clients, requests) = (args.clients, args.requests);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let url = url.clone();
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(300))
                    .build();
                let mut out = Vec::with_capacity(requests);
                for r in 0..requests {
                    let body = serde_json::json!({ "text": REVIEWS[(c + r) % REVIEWS.len()] });
                    let t = Instant::now();
                    let ok = match agent.post(&url).send_json(body) {
                        Ok(response) => response
                            .into_json::<serde_json::Value>()
                            .map(|v| v.get("sentiment").is_some())
                            .unwrap_or(false),
                        Err(_) => false,
                    };
                    out.push((ok, t.elapsed()));
                }
                out
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in threads {
        for (ok, latency) in t.join().expect("client thread") {
            if ok {
                latencies.push(latency.as_secs_f64() * 1000.0);
            } else {
                errors += 1;
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let seconds = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "clients": clients,
        "requests": clients * requests,
        "errors": errors,
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
        "max_ms": latencies.last(),
        "seconds": seconds,
        "requests_per_second": (clients * requests) as f64 / seconds,
    });
    println!("{summary}");
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&summary).expect("JSON") + "\n";
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    if errors > 0 {
        std::process::exit(1);
    }
}
