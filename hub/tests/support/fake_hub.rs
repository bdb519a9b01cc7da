//! A fake Hugging Face Hub on 127.0.0.1, enough of the real one's HTTP API for our client and
//! for Python's `huggingface_hub`: `GET /api/models/ORG/NAME/revision/REV`, the paged
//! `GET /api/models/ORG/NAME/tree/REV?recursive=true`, and `GET|HEAD /ORG/NAME/resolve/REV/FILE`
//! (git files served with their blob id as `ETag`; LFS files redirected to a CDN on another
//! host name, `localhost`, with `X-Linked-Etag` / `X-Linked-Size`). Tests can cut the next
//! download of a file short, corrupt or withhold a file, and gate a repository behind a token.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Files larger than this, and every `.safetensors`, are LFS files (served from the CDN).
const LFS_FROM: usize = 10_000;
/// Tree listing entries per page.
const PAGE: usize = 4;

pub struct FakeHub {
    /// The Hub's base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Clone)]
pub struct Seen {
    /// `hub` or `cdn`.
    pub host: &'static str,
    pub method: String,
    pub target: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
}

struct File {
    path: String,
    bytes: Arc<Vec<u8>>,
    oid: String,
    sha256: Option<String>,
}

struct Repo {
    commit: String,
    refs: Vec<String>,
    files: Vec<File>,
    token: Option<String>,
}

#[derive(Default)]
struct State {
    repos: HashMap<String, Repo>,
    cdn: String,
    hub: String,
    seen: Vec<Seen>,
    cut: HashMap<String, usize>,
    corrupt: HashSet<String>,
    withheld: HashSet<String>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `git hash-object` prints for a file with these bytes.
pub fn git_blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl FakeHub {
    pub fn start() -> Self {
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", hub.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            cdn: format!("http://localhost:{}", cdn.local_addr().unwrap().port()),
            hub: url.clone(),
            ..State::default()
        }));
        for (listener, host) in [(hub, "hub"), (cdn, "cdn")] {
            let state = state.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = state.clone();
                    std::thread::spawn(move || serve(stream, host, &state));
                }
            });
        }
        Self { url, state }
    }

    /// Publishes a repository at a new commit with these files, `main` pointing at it; with
    /// `token`, downloads need `Authorization: Bearer TOKEN` (a gated model). Returns the commit.
    pub fn publish(&self, id: &str, files: Vec<(String, Vec<u8>)>, token: Option<&str>) -> String {
        let mut names: Vec<String> = files
            .iter()
            .map(|(p, b)| format!("{p}:{}", git_blob_id(b)))
            .collect();
        names.sort();
        let commit = git_blob_id(format!("{id}\n{}", names.join("\n")).as_bytes());
        let files = files
            .into_iter()
            .map(|(path, bytes)| {
                let lfs = bytes.len() > LFS_FROM || path.ends_with(".safetensors");
                let sha = lfs.then(|| sha256(&bytes));
                // As on the Hub: an LFS file's git blob is its pointer file.
                let blob = match &sha {
                    Some(sha) => git_blob_id(
                        format!(
                            "version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {}\n",
                            bytes.len()
                        )
                        .as_bytes(),
                    ),
                    None => git_blob_id(&bytes),
                };
                File {
                    oid: blob,
                    sha256: sha,
                    path,
                    bytes: Arc::new(bytes),
                }
            })
            .collect();
        let repo = Repo {
            commit: commit.clone(),
            refs: vec!["main".into()],
            files,
            token: token.map(str::to_string),
        };
        self.state.lock().unwrap().repos.insert(id.into(), repo);
        commit
    }

    /// Publishes every file under `dir` (relative paths, `/`-separated).
    pub fn publish_dir(&self, id: &str, dir: &Path, token: Option<&str>) -> String {
        self.publish(id, read_tree(dir, dir), token)
    }

    /// The next download of `path` sends `bytes` bytes of it and then drops the connection.
    pub fn cut_next(&self, path: &str, bytes: usize) {
        self.state.lock().unwrap().cut.insert(path.into(), bytes);
    }

    /// `path` is served with its first byte changed.
    pub fn corrupt(&self, path: &str) {
        self.state.lock().unwrap().corrupt.insert(path.into());
    }

    /// `path` is listed but answers 404.
    pub fn withhold(&self, path: &str) {
        self.state.lock().unwrap().withheld.insert(path.into());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn clear_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

pub fn read_tree(root: &Path, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            files.extend(read_tree(root, &path));
        } else {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push((name, std::fs::read(&path).unwrap()));
        }
    }
    files
}

struct Request {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Arc<Vec<u8>>,
    from: usize,
    /// Send only this many body bytes, then drop the connection.
    cut: Option<usize>,
    corrupt: bool,
}

impl Reply {
    fn new(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Arc::new(body),
            from: 0,
            cut: None,
            corrupt: false,
        }
    }

    fn json(value: serde_json::Value) -> Self {
        Self::new(200, value.to_string().into_bytes()).header("Content-Type", "application/json")
    }

    fn error(status: u16, code: &str) -> Self {
        Self::new(status, format!("{{\"error\":\"{code}\"}}").into_bytes())
            .header("X-Error-Code", code)
    }

    fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.into(), value.to_string()));
        self
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    Some(Request {
        method,
        target,
        headers,
    })
}

fn serve(mut stream: TcpStream, host: &'static str, state: &Mutex<State>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let reply = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen {
            host,
            method: request.method.clone(),
            target: request.target.clone(),
            range: request.headers.get("range").cloned(),
            authorization: request.headers.get("authorization").cloned(),
        });
        route(&request, host, &mut state)
    };
    let head = request.method == "HEAD";
    let mut body: Vec<u8> = reply.body[reply.from.min(reply.body.len())..].to_vec();
    if reply.corrupt && !body.is_empty() {
        body[0] ^= 0xff;
    }
    let mut text = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    if stream.write_all(text.as_bytes()).is_err() || head {
        return;
    }
    let send = reply.cut.unwrap_or(body.len()).min(body.len());
    let _ = stream.write_all(&body[..send]);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn route(request: &Request, host: &str, state: &mut State) -> Reply {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    if host == "cdn" {
        return cdn(request, &segments, state);
    }
    if segments.first().map(String::as_str) == Some("api")
        && segments.get(1).map(String::as_str) == Some("models")
    {
        return api(&segments[2..], query, state);
    }
    if segments.len() >= 5 && segments[2] == "resolve" {
        let id = format!("{}/{}", segments[0], segments[1]);
        return resolve(request, &id, &segments[3], &segments[4..].join("/"), state);
    }
    Reply::error(404, "RouteNotFound")
}

fn find<'a>(state: &'a State, id: &str, revision: &str) -> Option<&'a Repo> {
    state
        .repos
        .get(id)
        .filter(|r| r.commit == revision || r.refs.iter().any(|r| r == revision))
}

fn api(segments: &[String], query: &str, state: &State) -> Reply {
    if segments.len() < 4 {
        return Reply::error(404, "RouteNotFound");
    }
    let id = format!("{}/{}", segments[0], segments[1]);
    let Some(repo) = find(state, &id, &segments[3]) else {
        return Reply::error(404, "RevisionNotFound");
    };
    match segments[2].as_str() {
        "revision" => Reply::json(serde_json::json!({
            "id": id, "modelId": id, "sha": repo.commit, "private": false,
            "gated": if repo.token.is_some() { serde_json::json!("manual") } else { serde_json::json!(false) },
            "siblings": repo.files.iter().map(|f| serde_json::json!({ "rfilename": f.path })).collect::<Vec<_>>(),
        })),
        "tree" => {
            let cursor: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let mut entries: Vec<serde_json::Value> = Vec::new();
            let mut dirs: Vec<String> = Vec::new();
            for file in &repo.files {
                if let Some((dir, _)) = file.path.rsplit_once('/')
                    && !dirs.contains(&dir.to_string())
                {
                    dirs.push(dir.into());
                    entries.push(serde_json::json!({ "type": "directory", "oid": git_blob_id(dir.as_bytes()), "size": 0, "path": dir }));
                }
                let mut entry = serde_json::json!({ "type": "file", "oid": file.oid, "size": file.bytes.len(), "path": file.path });
                if let Some(sha) = &file.sha256 {
                    entry["lfs"] = serde_json::json!({ "oid": sha, "size": file.bytes.len(), "pointerSize": 134 });
                }
                entries.push(entry);
            }
            let page: Vec<_> = entries.iter().skip(cursor).take(PAGE).cloned().collect();
            let mut reply = Reply::json(serde_json::Value::Array(page));
            if cursor + PAGE < entries.len() {
                let next = format!(
                    "<{}/api/models/{id}/tree/{}?recursive=true&cursor={}>; rel=\"next\"",
                    state.hub,
                    repo.commit,
                    cursor + PAGE
                );
                reply = reply.header("Link", next);
            }
            reply
        }
        _ => Reply::error(404, "RouteNotFound"),
    }
}

fn range_from(request: &Request) -> usize {
    request
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
        .unwrap_or(0)
}

/// Serves `file`'s bytes from the `Range` asked for, applying a pending cut or corruption.
fn content(request: &Request, file: &File, state: &mut State) -> Reply {
    let from = range_from(request);
    let mut reply = Reply::new(if from > 0 { 206 } else { 200 }, Vec::new());
    if from >= file.bytes.len() && from > 0 {
        return Reply::new(416, Vec::new());
    }
    reply.body = file.bytes.clone();
    reply.from = from;
    reply.corrupt = state.corrupt.contains(&file.path);
    if request.method == "GET" {
        reply.cut = state.cut.remove(&file.path);
    }
    if from > 0 {
        reply = reply.header(
            "Content-Range",
            format!("bytes {from}-{}/{}", file.bytes.len() - 1, file.bytes.len()),
        );
    }
    reply.header("Accept-Ranges", "bytes")
}

fn resolve(request: &Request, id: &str, revision: &str, path: &str, state: &mut State) -> Reply {
    let Some(repo) = find(state, id, revision) else {
        return Reply::error(404, "RepoNotFound");
    };
    if let Some(token) = &repo.token
        && request.headers.get("authorization") != Some(&format!("Bearer {token}"))
    {
        return Reply::error(401, "GatedRepo");
    }
    let Some(file) = repo.files.iter().find(|f| f.path == path) else {
        return Reply::error(404, "EntryNotFound");
    };
    if state.withheld.contains(path) {
        return Reply::error(404, "EntryNotFound");
    }
    let commit = repo.commit.clone();
    match &file.sha256 {
        Some(sha) => Reply::new(302, Vec::new())
            .header("Location", format!("{}/blobs/{sha}?file={path}", state.cdn))
            .header("X-Repo-Commit", &commit)
            .header("X-Linked-Etag", format!("\"{sha}\""))
            .header("X-Linked-Size", file.bytes.len())
            .header("ETag", format!("\"{}\"", file.oid)),
        None => {
            let oid = file.oid.clone();
            let file = File {
                path: file.path.clone(),
                bytes: file.bytes.clone(),
                oid: oid.clone(),
                sha256: None,
            };
            content(request, &file, state)
                .header("X-Repo-Commit", commit)
                .header("ETag", format!("\"{oid}\""))
        }
    }
}

fn cdn(request: &Request, segments: &[String], state: &mut State) -> Reply {
    let sha = segments.get(1).cloned().unwrap_or_default();
    let file = state
        .repos
        .values()
        .flat_map(|r| &r.files)
        .find(|f| f.sha256.as_deref() == Some(sha.as_str()))
        .map(|f| File {
            path: f.path.clone(),
            bytes: f.bytes.clone(),
            oid: f.oid.clone(),
            sha256: f.sha256.clone(),
        });
    match file {
        Some(file) => content(request, &file, state).header("ETag", format!("\"{sha}\"")),
        None => Reply::error(404, "NoSuchKey"),
    }
}
