//! [`ProgressLine`]: while a COPY runs, one line on stderr with its rows,
//! files complete and bytes written, redrawn in place. Drawn only when
//! stderr is a terminal, so piped or redirected output never holds it.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use s3sql_planner::{CopyMonitor, CopyProgress, human_bytes};

/// How often the line is redrawn.
const EVERY: Duration = Duration::from_millis(200);

/// Erases the line the cursor is on (carriage return, erase to the end).
const ERASE: &str = "\r\x1b[K";

/// The line while a statement runs; erased when dropped.
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl ProgressLine {
    /// Draws `monitor`'s COPY progress while it runs, when stderr is a
    /// terminal; otherwise does nothing.
    pub fn start(monitor: &CopyMonitor) -> Self {
        Self::start_if(monitor, std::io::stderr().is_terminal())
    }

    fn start_if(monitor: &CopyMonitor, terminal: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let drawer = terminal.then(|| {
            let monitor = monitor.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || draw_until(&monitor, &stop))
        });
        Self { stop, drawer }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

/// Redraws the line every [`EVERY`] while a COPY runs; erases it at the end.
fn draw_until(monitor: &CopyMonitor, stop: &AtomicBool) {
    let mut drawn = false;
    let mut stderr = std::io::stderr();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(EVERY);
        if monitor.is_running() {
            let _ = write!(stderr, "{ERASE}{}", line(monitor.progress()));
            let _ = stderr.flush();
            drawn = true;
        }
    }
    if drawn {
        let _ = write!(stderr, "{ERASE}");
        let _ = stderr.flush();
    }
}

/// `COPY: 1,234,567 rows, 3 files, 12.5 MiB written`.
fn line(progress: CopyProgress) -> String {
    format!(
        "COPY: {} rows, {} file{}, {} written",
        grouped(progress.rows),
        progress.files,
        if progress.files == 1 { "" } else { "s" },
        human_bytes(progress.bytes)
    )
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_rows_files_and_bytes() {
        let mut progress = CopyProgress::default();
        progress.rows = 1_234_567;
        progress.files = 3;
        progress.bytes = 13_107_200;
        assert_eq!(
            line(progress),
            "COPY: 1,234,567 rows, 3 files, 12.5 MiB written"
        );
        progress.files = 1;
        progress.bytes = 512;
        assert_eq!(
            line(progress),
            "COPY: 1,234,567 rows, 1 file, 512 bytes written"
        );
    }

    #[test]
    fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
        let line = ProgressLine::start_if(&CopyMonitor::default(), false);
        assert!(line.drawer.is_none());
    }
}
