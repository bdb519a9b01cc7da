//! Textflix: the movie-review app of the study, serving a model trained by this library.
//!
//! cargo run --release --example textflix-app -- --model runs/minilm-500 [--port 8080]
//!
//! A web page and a JSON API on 127.0.0.1: POST a review to get its sentiment, probability,
//! predicted stars and the words that drove the prediction (gradient × input); GET the movies
//! of the corpus (IMDB test reviews grouped by movie, or a CSV of `movie,text` rows) with their
//! share of positive reviews, average predicted stars and their most positive and most
//! negative reviews. Reviews users add persist in SQLite and survive a restart.

mod model;
mod store;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use burn::prelude::Device;
use clap::Parser;
use model::{AppPipeline, Model, StarScale, positive_probabilities};
use store::{NewReview, Store};
use tiny_http::{Header, Method, Request, Response, Server};
use transfer_nlp::pipeline::data::imdb::{Imdb, ImdbParts};
use transfer_nlp::pipeline::explain::{IntegratedGradientsConfig, Method as Explainer};
use transfer_nlp::pipeline::runtime::device::parse_device;

#[derive(Parser)]
#[command(about = "Textflix: movie reviews analysed by a pipeline trained with transfer-nlp")]
struct Args {
    /// A pipeline directory written by `transfer train` (for example `--arch bert --train-size 500`).
    #[arg(long)]
    model: PathBuf,
    /// The SQLite database of reviews (created if missing).
    #[arg(long, default_value = "textflix.sqlite")]
    db: PathBuf,
    /// 0 picks a free port; the address is printed.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// IMDB test reviews in the corpus: the most reviewed movies, all their reviews, up to this many.
    #[arg(long, default_value_t = 1000)]
    corpus_size: usize,
    /// A CSV of `movie,text` rows to use as the corpus instead of IMDB's test reviews.
    #[arg(long)]
    corpus: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Requests answered by one forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 16)]
    threads: usize,
    /// How the highlighted words are scored: integrated-gradients, occlusion or
    /// gradient-x-input (docs/results/explanations.md compares them).
    #[arg(long, default_value = "integrated-gradients")]
    explain: Explainer,
    /// Integrated gradients' points on the path.
    #[arg(long, default_value_t = 20)]
    ig_steps: usize,
}

/// A corpus review: movie, text and its star rating when known.
type CorpusRow = (String, String, Option<u8>);

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    transfer_nlp::pipeline::runtime::allocator::keep_freed_memory();
    let args = Args::parse();
    let device: Device = parse_device(&args.device)?;
    let pipeline = AppPipeline::load(&args.model, &device)?;
    let store = Arc::new(Store::open(&args.db)?);
    if store.count("imdb")? == 0 && store.count("csv")? == 0 {
        fill_corpus(&args, &pipeline, &store)?;
    }
    let stars = StarScale::fit(&store.rated()?);
    store.rescale(stars.intercept, stars.slope)?;
    let method = match args.explain {
        Explainer::IntegratedGradients(config) => {
            Explainer::IntegratedGradients(IntegratedGradientsConfig {
                steps: args.ig_steps,
                batch_size: args.ig_steps,
                ..config
            })
        }
        method => method,
    };
    println!("explaining with {method}");
    let model = Model::start(pipeline, stars, args.batch_size, method);
    let server = Arc::new(
        Server::http(("127.0.0.1", args.port)).map_err(|e| format!("cannot listen: {e}"))?,
    );
    println!("textflix listening on http://{}", server.server_addr());
    let workers: Vec<_> = (0..args.threads.max(1))
        .map(|_| {
            let (server, store, model) = (server.clone(), store.clone(), model.clone());
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(request, &store, &model);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

/// Predicts the corpus once and stores it (later starts reuse the database).
fn fill_corpus(
    args: &Args,
    pipeline: &AppPipeline,
    store: &Store,
) -> Result<(), Box<dyn std::error::Error>> {
    let (source, rows): (&str, Vec<CorpusRow>) = match &args.corpus {
        Some(csv) => ("csv", read_csv(csv)?),
        None => {
            let imdb = Imdb::load(
                Imdb::default_path()?,
                ImdbParts {
                    train: false,
                    test: true,
                    unsup: false,
                },
            )?;
            let mut by_movie: std::collections::BTreeMap<
                String,
                Vec<&transfer_nlp::pipeline::data::imdb::Review>,
            > = Default::default();
            for r in &imdb.test {
                if let Some(m) = &r.movie {
                    by_movie.entry(m.clone()).or_default().push(r);
                }
            }
            let mut movies: Vec<_> = by_movie.into_iter().collect();
            movies.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
            let mut rows = Vec::new();
            for (movie, reviews) in movies {
                if rows.len() + reviews.len() > args.corpus_size {
                    break;
                }
                rows.extend(
                    reviews
                        .into_iter()
                        .map(|r| (movie.clone(), r.text.clone(), Some(r.stars))),
                );
            }
            ("imdb", rows)
        }
    };
    eprintln!(
        "predicting {} corpus reviews (once; they are kept in {})",
        rows.len(),
        args.db.display()
    );
    let stars = StarScale {
        intercept: 1.0,
        slope: 9.0,
    };
    let bar = transfer_nlp::pipeline::runtime::progress::bar(rows.len() as u64, true, "corpus");
    for chunk in rows.chunks(64) {
        let texts: Vec<String> = chunk.iter().map(|r| r.1.clone()).collect();
        let probabilities = positive_probabilities(pipeline, &texts)?;
        let reviews: Vec<NewReview> = chunk
            .iter()
            .zip(probabilities)
            .map(|((movie, text, rating), probability)| NewReview {
                movie,
                text,
                source,
                stars: *rating,
                probability,
                predicted_stars: stars.stars(probability),
            })
            .collect();
        store.insert_all(&reviews)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

fn read_csv(path: &PathBuf) -> Result<Vec<CorpusRow>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (movie, review) = line
            .split_once(',')
            .ok_or_else(|| format!("{}:{}: expected movie,text", path.display(), i + 1))?;
        let review = review.trim().trim_matches('"').replace("\"\"", "\"");
        if i == 0 && movie == "movie" {
            continue;
        }
        rows.push((movie.trim().to_string(), review, None));
    }
    Ok(rows)
}

fn json(status: u16, value: &serde_json::Value) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_data(value.to_string().into_bytes())
        .with_status_code(status)
        .with_header(Header::from_bytes("Content-Type", "application/json").expect("header"))
}

fn error(status: u16, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    json(status, &serde_json::json!({ "error": message }))
}

/// The review text of a JSON body `{"text": …}`, checked.
fn read_body(
    request: &mut Request,
) -> Result<serde_json::Value, Response<std::io::Cursor<Vec<u8>>>> {
    let mut bytes = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut bytes);
    if read.is_err() {
        return Err(error(400, "could not read the request body"));
    }
    if bytes.len() > MAX_BODY {
        return Err(error(
            413,
            &format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| error(400, "the body is not UTF-8"))?;
    serde_json::from_str(text).map_err(|e| error(400, &format!("the body is not JSON: {e}")))
}

fn review_text(body: &serde_json::Value) -> Result<String, Response<std::io::Cursor<Vec<u8>>>> {
    let text = body
        .get("text")
        .and_then(|t| t.as_str())
        .ok_or_else(|| error(400, "expected {\"text\": \"…\"}"))?;
    if text.trim().is_empty() {
        return Err(error(400, "the review is empty"));
    }
    Ok(text.to_string())
}

fn handle(mut request: Request, store: &Store, model: &Model) {
    let url = request.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    let response = match (request.method().clone(), path.as_str()) {
        (Method::Get, "/") => Response::from_string(include_str!("page.html")).with_header(
            Header::from_bytes("Content-Type", "text/html; charset=utf-8").expect("header"),
        ),
        (Method::Post, "/api/predict") => {
            match read_body(&mut request).and_then(|b| review_text(&b)) {
                Ok(text) => match model.analyse(text) {
                    Ok(analysis) => json(200, &serde_json::to_value(analysis).unwrap_or_default()),
                    Err(e) => error(500, &e),
                },
                Err(response) => response,
            }
        }
        (Method::Post, "/api/reviews") => add_review(&mut request, store, model),
        (Method::Get, "/api/movies") => match store.movies(None) {
            Ok(movies) => json(200, &serde_json::to_value(movies).unwrap_or_default()),
            Err(e) => error(500, &e.to_string()),
        },
        (Method::Get, p) if p.starts_with("/api/movies/") => {
            let movie = &p["/api/movies/".len()..];
            match store.movies(Some(movie)) {
                Ok(mut m) if !m.is_empty() => {
                    json(200, &serde_json::to_value(m.remove(0)).unwrap_or_default())
                }
                Ok(_) => error(404, &format!("unknown movie {movie:?}")),
                Err(e) => error(500, &e.to_string()),
            }
        }
        (_, p) if p.starts_with("/api/") || p == "/" => error(405, "method not allowed"),
        _ => error(404, &format!("no page {path}")),
    };
    let _ = request.respond(response);
}

fn add_review(
    request: &mut Request,
    store: &Store,
    model: &Model,
) -> Response<std::io::Cursor<Vec<u8>>> {
    let body = match read_body(request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let text = match review_text(&body) {
        Ok(text) => text,
        Err(response) => return response,
    };
    let Some(movie) = body.get("movie").and_then(|m| m.as_str()) else {
        return error(400, "expected {\"movie\": \"tt…\", \"text\": \"…\"}");
    };
    match store.has_movie(movie) {
        Ok(true) => {}
        Ok(false) => return error(404, &format!("unknown movie {movie:?}")),
        Err(e) => return error(500, &e.to_string()),
    }
    let analysis = match model.analyse(text.clone()) {
        Ok(a) => a,
        Err(e) => return error(500, &e),
    };
    let review = NewReview {
        movie,
        text: &text,
        source: "user",
        stars: None,
        probability: analysis.positive_probability,
        predicted_stars: analysis.predicted_stars,
    };
    match store.insert(&review) {
        Ok(id) => json(
            201,
            &serde_json::json!({ "id": id, "movie": movie, "analysis": analysis }),
        ),
        Err(e) => error(500, &e.to_string()),
    }
}
