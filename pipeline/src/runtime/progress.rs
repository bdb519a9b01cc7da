use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};

/// How often a progress bar writes a line when stderr is not a terminal (a log file, CI).
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// A progress bar on stderr, or a hidden one when `show` is false. When stderr is not a
/// terminal the bar is written as a plain line every [`LOG_INTERVAL`] and once more when it
/// is dropped, so a long run's log still says how far it got.
///
/// ```
/// let bar = transfer_pipeline::runtime::progress::bar(3, false, "steps");
/// bar.inc(1);
/// assert_eq!(bar.position(), 1);
/// ```
pub fn bar(len: u64, show: bool, what: &str) -> ProgressBar {
    styled(
        len,
        show,
        what,
        "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta}) {msg}",
    )
}

/// A [`bar`] that counts bytes (`12.5 MiB/90.9 MiB`, with the rate), for downloads.
///
/// ```
/// let bar = transfer_pipeline::runtime::progress::bytes_bar(1 << 20, false, "model.safetensors");
/// bar.inc(1024);
/// assert_eq!(bar.position(), 1024);
/// ```
pub fn bytes_bar(len: u64, show: bool, what: &str) -> ProgressBar {
    styled(
        len,
        show,
        what,
        "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} (eta {eta})",
    )
}

fn styled(len: u64, show: bool, what: &str, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        let lines = LogLines::new(Box::new(std::io::stderr()), LOG_INTERVAL);
        ProgressBar::with_draw_target(
            Some(len),
            ProgressDrawTarget::term_like_with_hz(Box::new(lines), 1),
        )
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "eta",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&eta(state.elapsed(), state.pos(), state.len()));
                },
            )
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// Time left at the average pace so far. indicatif's own estimate weighs recent steps and,
/// after one step of a few long ones, has printed "584942417355y".
fn eta(elapsed: Duration, pos: u64, len: Option<u64>) -> String {
    let Some(len) = len.filter(|&len| pos > 0 && pos <= len) else {
        return "?".into();
    };
    let secs = (elapsed.as_secs_f64() * (len - pos) as f64 / pos as f64).round() as u64;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// A [`TermLike`] for logs: keeps the bar's latest line and writes it on its own line at most
/// once per interval, and the last one unwritten when dropped (the bar's final state).
struct LogLines {
    out: Mutex<LogState>,
    interval: Duration,
}

struct LogState {
    writer: Box<dyn Write + Send>,
    /// What the bar is drawing now (indicatif writes a line in pieces, then flushes).
    drawing: String,
    /// The latest complete line not yet written.
    pending: Option<String>,
    last_written: Option<Instant>,
}

impl LogLines {
    fn new(writer: Box<dyn Write + Send>, interval: Duration) -> Self {
        Self {
            out: Mutex::new(LogState {
                writer,
                drawing: String::new(),
                pending: None,
                last_written: None,
            }),
            interval,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LogState {
    fn write_pending(&mut self) -> std::io::Result<()> {
        if let Some(line) = self.pending.take() {
            writeln!(self.writer, "{line}")?;
            self.writer.flush()?;
            self.last_written = Some(Instant::now());
        }
        Ok(())
    }
}

impl std::fmt::Debug for LogLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLines")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl TermLike for LogLines {
    fn width(&self) -> u16 {
        160
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.state().drawing.push_str(s);
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        let mut state = self.state();
        let line = std::mem::take(&mut state.drawing).trim().to_string();
        if line.is_empty() {
            return Ok(());
        }
        state.pending = Some(line);
        if state
            .last_written
            .is_none_or(|at| at.elapsed() >= self.interval)
        {
            state.write_pending()?;
        }
        Ok(())
    }
}

impl Drop for LogLines {
    fn drop(&mut self) {
        let _ = self.state().write_pending();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect()
        }
    }

    /// A bar of `len` steps drawn through [`LogLines`] into the returned buffer.
    fn logged_bar(len: u64, interval: Duration, template: &str) -> (ProgressBar, Shared) {
        let out = Shared::default();
        let lines = LogLines::new(Box::new(out.clone()), interval);
        let bar = ProgressBar::with_draw_target(
            Some(len),
            ProgressDrawTarget::term_like(Box::new(lines)),
        );
        bar.set_style(ProgressStyle::with_template(template).unwrap());
        (bar, out)
    }

    #[test]
    fn a_log_gets_the_first_line_then_at_most_one_per_interval_and_the_last_at_the_end() {
        let (bar, out) = logged_bar(10, Duration::from_secs(3600), "{prefix} {pos}/{len}");
        bar.set_prefix("steps");
        for _ in 0..10 {
            bar.inc(1);
        }
        let early = out.lines();
        assert_eq!(early.len(), 1, "{early:?}");
        assert!(early[0].starts_with("steps "), "{early:?}");
        drop(bar);
        let lines = out.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1], "steps 10/10");
    }

    #[test]
    fn eta_is_the_average_pace_so_far() {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        assert_eq!(eta(minutes(32), 1, Some(2)), "32m 00s");
        assert_eq!(eta(Duration::from_secs(10), 4, Some(10)), "15s");
        assert_eq!(eta(minutes(90), 1, Some(3)), "3h 00m");
        assert_eq!(eta(minutes(5), 7, Some(7)), "0s");
        assert_eq!(eta(minutes(5), 0, Some(7)), "?");
        assert_eq!(eta(minutes(5), 3, None), "?");
    }

    #[test]
    fn with_no_interval_every_drawn_state_is_a_line_without_terminal_codes() {
        let (bar, out) = logged_bar(3, Duration::ZERO, "{pos}/{len} {msg}");
        bar.set_message("loss 0.5");
        bar.inc(3);
        drop(bar);
        let lines = out.lines();
        assert_eq!(lines.last().map(String::as_str), Some("3/3 loss 0.5"));
        assert!(
            lines
                .iter()
                .all(|l| !l.contains('\r') && !l.contains('\x1b'))
        );
    }
}
