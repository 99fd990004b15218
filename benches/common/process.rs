//! A server process started by a benchmark: pinned to a core, its address read from its log,
//! its CPU time and memory read from /proc, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A server process, pinned to core 0, with the address it printed.
pub struct Process {
    pub child: Child,
    pub addr: String,
    /// Runs under valgrind's callgrind, with its instruction counting switched on row by row
    /// (only the load generator has such a mode).
    #[allow(dead_code)]
    pub callgrind: bool,
}

impl Process {
    pub fn start(mut command: Command, marker: &str) -> Process {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().expect("server exited").expect("read");
            if let Some(rest) = line.split(marker).nth(1) {
                break rest.split_whitespace().next().unwrap_or_default().to_string();
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Process { child, addr, callgrind: false }
    }

    /// User + system CPU seconds so far, from /proc.
    #[allow(dead_code)]
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_ticks(11..13) / 100.0
    }

    /// System CPU seconds so far (the kernel's work for the process), from /proc.
    #[allow(dead_code)]
    pub fn system_seconds(&self) -> f64 {
        self.cpu_ticks(12..13) / 100.0
    }

    /// The sum of `fields` of /proc/<pid>/stat counted after the command's name (11: utime, 12: stime).
    fn cpu_ticks(&self, fields: std::ops::Range<usize>) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let all: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
        all.get(fields).map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()).unwrap_or(0.0)
    }

    /// Peak resident set, MiB.
    #[allow(dead_code)]
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_mib("VmHWM:")
    }

    /// The resident set now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib = status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok());
        kib.unwrap_or(0.0) / 1024.0
    }
}

/// The instructions a process under callgrind executes: `callgrind_control` switches counting on
/// and zeroes it before a row, and reads the threads' totals after it. Instruction counts do not
/// drift with the machine's speed as wall-clock rows do, so they show a change of a few percent.
#[allow(dead_code)]
pub mod callgrind {
    use std::process::Command;

    fn control(pid: u32, args: &[&str]) -> String {
        let out = Command::new("callgrind_control").args(args).arg(pid.to_string()).output().expect("callgrind_control");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Counting on, from zero.
    pub fn zero(pid: u32) {
        control(pid, &["--instr=on"]);
        control(pid, &["--zero"]);
    }

    /// Instructions executed since `zero`, over every thread (`Th N  count` lines).
    pub fn instructions(pid: u32) -> u64 {
        let out = control(pid, &["-e", "Ir"]);
        out.lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                (words.next() == Some("Th")).then(|| words.nth(1)?.replace(',', "").parse::<u64>().ok())?
            })
            .sum()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program` run on `core` when `taskset` is there.
pub fn pinned(program: &std::path::Path, core: &str) -> Command {
    if Command::new("taskset").arg("--version").output().is_ok() {
        let mut c = Command::new("taskset");
        c.args(["-c", core]).arg(program);
        c
    } else {
        Command::new(program)
    }
}
