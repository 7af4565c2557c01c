//! [`ProgressLine`]: while a statement runs, one line on stderr redrawn in
//! place: a COPY's rows, files complete and bytes written, or a long scan's
//! objects, bytes read and rate. Drawn only when stderr is a terminal, so
//! piped or redirected output never holds it; erased when it ends.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use s3sql_planner::{CopyMonitor, CopyProgress, ScanMonitor, ScanProgress, Session, human_bytes};

/// How often the line is redrawn.
const EVERY: Duration = Duration::from_millis(200);

/// A scan shorter than this shows no line (a quick query does not flash
/// one).
const LONG_SCAN: Duration = Duration::from_millis(500);

/// Erases the line the cursor is on (carriage return, erase to the end).
const ERASE: &str = "\r\x1b[K";

/// The line while a statement runs; erased when stopped or dropped.
pub struct ProgressLine {
    /// Dropped to stop the drawer: it wakes at once, not after its wait.
    stop: Option<Sender<()>>,
    drawer: Option<JoinHandle<()>>,
}

/// What the line shows: the session's COPY, else its scans.
#[derive(Clone)]
struct Monitors {
    copy: CopyMonitor,
    scan: ScanMonitor,
}

impl ProgressLine {
    /// Draws the progress of `session`'s statement while it runs, when
    /// stderr is a terminal; otherwise does nothing.
    pub fn start(session: &Session) -> Self {
        let monitors = Monitors {
            copy: session.copy_monitor().clone(),
            scan: session.scan_monitor().clone(),
        };
        Self::start_if(monitors, std::io::stderr().is_terminal())
    }

    fn start_if(monitors: Monitors, terminal: bool) -> Self {
        let (stop, stopped) = channel();
        let drawer = terminal.then(|| std::thread::spawn(move || draw_until(&monitors, &stopped)));
        Self {
            stop: Some(stop),
            drawer,
        }
    }

    /// Erases the line and draws it no more (before results are printed
    /// on the same terminal).
    pub fn stop(&mut self) {
        self.stop.take();
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Redraws the line every [`EVERY`] while a COPY runs, or a scan has run
/// for [`LONG_SCAN`], until `stopped` says the statement ended (at once,
/// not after the wait); erases it at the end.
fn draw_until(monitors: &Monitors, stopped: &Receiver<()>) {
    let started = Instant::now();
    let mut drawn = false;
    let mut stderr = std::io::stderr();
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        let text = if monitors.copy.is_running() {
            line(monitors.copy.progress())
        } else {
            let progress = monitors.scan.progress();
            let elapsed = started.elapsed();
            if progress.objects == 0 || elapsed < LONG_SCAN {
                continue;
            }
            scan_line(progress, elapsed)
        };
        let _ = write!(stderr, "{ERASE}{text}");
        let _ = stderr.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(stderr, "{ERASE}");
        let _ = stderr.flush();
    }
}

/// `COPY: 1,234,567 rows, 3 files, 12.5 MiB written` (local files), or
/// `..., 20.0 MiB encoded, 12.5 MiB uploaded` (S3: uploaded counts what
/// S3 acknowledged, encoded what is on its way too).
fn line(progress: CopyProgress) -> String {
    let bytes = if progress.uploading {
        format!(
            "{} encoded, {} uploaded",
            human_bytes(progress.encoded),
            human_bytes(progress.bytes)
        )
    } else {
        format!("{} written", human_bytes(progress.bytes))
    };
    format!(
        "COPY: {} rows, {} file{}, {bytes}",
        grouped(progress.rows),
        progress.files,
        if progress.files == 1 { "" } else { "s" },
    )
}

/// `scan: 1,000 objects (75.0 MiB), 12.5 MiB read, 3.1 MiB/s`.
fn scan_line(progress: ScanProgress, elapsed: Duration) -> String {
    let rate = progress.bytes_read as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "scan: {} object{} ({}), {} read, {}/s",
        grouped(progress.objects),
        if progress.objects == 1 { "" } else { "s" },
        human_bytes(progress.object_bytes),
        human_bytes(progress.bytes_read),
        human_bytes(rate as u64)
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
        progress.uploading = true;
        progress.encoded = 20_971_520;
        assert_eq!(
            line(progress),
            "COPY: 1,234,567 rows, 1 file, 20.0 MiB encoded, 512 bytes uploaded"
        );
    }

    #[test]
    fn a_scan_line_names_objects_bytes_and_rate() {
        let mut progress = ScanProgress::default();
        progress.objects = 1_000;
        progress.object_bytes = 78_643_200;
        progress.bytes_read = 13_107_200;
        assert_eq!(
            scan_line(progress, Duration::from_secs(4)),
            "scan: 1,000 objects (75.0 MiB), 12.5 MiB read, 3.1 MiB/s"
        );
        progress.objects = 1;
        assert!(scan_line(progress, Duration::ZERO).starts_with("scan: 1 object ("));
    }

    #[test]
    fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
        let monitors = Monitors {
            copy: CopyMonitor::default(),
            scan: ScanMonitor::default(),
        };
        let line = ProgressLine::start_if(monitors, false);
        assert!(line.drawer.is_none());
    }
}
