//! Python's `huggingface_hub` (from PyPI), to write and read Hugging Face caches as Python
//! users have them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const VERSION: &str = "2.4.0";

/// A Python that imports `huggingface_hub`: `$TRANSFER_PYTHON` when set, else a venv with
/// huggingface_hub 2.4.0 under `$TRANSFER_MODELS` (default `~/.cache/transfer-models`), made
/// once with `python3 -m venv` and pip.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find_or_make).clone()
}

fn find_or_make() -> PathBuf {
    if let Some(python) = std::env::var_os("TRANSFER_PYTHON") {
        return python.into();
    }
    let models = std::env::var_os("TRANSFER_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/transfer-models")
        });
    let venv = models.join(format!("venv-huggingface-hub-{VERSION}"));
    let python = venv.join("bin/python");
    if imports_hub(&python) {
        return python;
    }
    // Made aside and renamed, so a half-made venv is never taken for one.
    let temp = models.join(format!("venv-making-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&models).unwrap();
    run(Command::new("python3").args(["-m", "venv"]).arg(&temp));
    run(Command::new(temp.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("huggingface_hub=={VERSION}"),
    ]));
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::rename(&temp, &venv).unwrap();
    assert!(
        imports_hub(&python),
        "{} cannot import huggingface_hub",
        python.display()
    );
    python
}

fn imports_hub(python: &Path) -> bool {
    python.is_file()
        && Command::new(python)
            .args(["-c", "import huggingface_hub"])
            .output()
            .is_ok_and(|o| o.status.success())
}

fn run(command: &mut Command) {
    let out = command.output().expect("run python");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `script` (its arguments after it) with huggingface_hub pointed at `endpoint` and
/// writing into `cache`; returns what it printed.
pub fn hub_python(endpoint: &str, cache: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .args(["-c", script])
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "huggingface_hub failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `huggingface_hub.snapshot_download(id)` from `endpoint` into `cache`: the snapshot path.
pub fn snapshot_download(endpoint: &str, cache: &Path, id: &str) -> PathBuf {
    let script = "import sys\nfrom huggingface_hub import snapshot_download\nprint(snapshot_download(sys.argv[1]))";
    PathBuf::from(hub_python(endpoint, cache, script, &[id]))
}
