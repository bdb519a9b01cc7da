use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr, or a hidden one when `show` is false. indicatif draws nothing
/// when stderr is not a terminal.
pub fn bar(len: u64, show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}
