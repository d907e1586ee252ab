//! The student's node as a child process: the `--cmd` template
//! (`{port}`, `{bootstrap}`, `{bootstrap_url}`), started through `sh -c`
//! in a process group of its own (so `cd dir && python3 node.py ...` works
//! and nothing it starts outlives it) with its output in a log file, and a
//! guard that kills the whole group and reaps the shell when dropped (at the
//! end, on an error, on Ctrl-C or SIGTERM, in a panic).

use std::fmt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Why the node's command cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    /// The template lacks a placeholder the harness needs.
    Missing(&'static str),
    /// The template has a `{...}` the harness does not know.
    Unknown(String),
    /// The command is empty.
    Empty,
    /// The shell (or the log file) could not be started.
    Spawn(String),
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Missing(p) => write!(
                f,
                "--cmd must contain {p}: the harness chooses the node's port and its bootstrap peer, \
                 e.g. --cmd 'python3 node.py -p {{port}} -b {{bootstrap}}'"
            ),
            LaunchError::Unknown(p) => {
                write!(f, "--cmd: unknown placeholder {p} (known: {{port}}, {{bootstrap}}, {{bootstrap_url}})")
            }
            LaunchError::Empty => f.write_str("--cmd is empty"),
            LaunchError::Spawn(e) => write!(f, "cannot start the command: {e}"),
        }
    }
}

impl std::error::Error for LaunchError {}

/// A checked `--cmd` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

impl Template {
    /// Check `cmd`: not empty, `{port}` and `{bootstrap}` (or
    /// `{bootstrap_url}`) present, no other placeholder.
    pub fn parse(cmd: &str) -> Result<Template, LaunchError> {
        if cmd.trim().is_empty() {
            return Err(LaunchError::Empty);
        }
        let mut rest = cmd;
        while let Some(i) = rest.find('{') {
            let tail = &rest[i..];
            let end = tail.find('}').map_or(tail.len(), |j| j + 1);
            let p = &tail[..end];
            if !matches!(p, "{port}" | "{bootstrap}" | "{bootstrap_url}") {
                return Err(LaunchError::Unknown(p.to_owned()));
            }
            rest = &tail[end..];
        }
        if !cmd.contains("{port}") {
            return Err(LaunchError::Missing("{port}"));
        }
        if !cmd.contains("{bootstrap}") && !cmd.contains("{bootstrap_url}") {
            return Err(LaunchError::Missing("{bootstrap}"));
        }
        Ok(Template(cmd.to_owned()))
    }

    /// The command line for a node on `port` bootstrapping from `bootstrap`.
    pub fn render(&self, port: u16, bootstrap: u16) -> String {
        self.0
            .replace("{port}", &port.to_string())
            .replace("{bootstrap_url}", &format!("http://127.0.0.1:{bootstrap}"))
            .replace("{bootstrap}", &bootstrap.to_string())
    }
}

/// A running child, killed and reaped when dropped.
pub struct Launched {
    child: Child,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
    /// The command line it runs.
    pub line: String,
}

impl Launched {
    /// Start `line` with `sh -c LINE` in a new process group, its output
    /// to a fresh log file.
    pub fn start(line: String) -> Result<Launched, LaunchError> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!("gossip-test-node-{}-{n}.log", std::process::id()));
        let out = std::fs::File::create(&log).map_err(|e| LaunchError::Spawn(format!("{}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| LaunchError::Spawn(e.to_string()))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(&line).stdin(Stdio::null()).stdout(out).stderr(err);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().map_err(|e| LaunchError::Spawn(format!("sh: {e}")))?;
        Ok(Launched { child, log, line })
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `n` lines of its output.
    pub fn tail(&self, n: usize) -> String {
        let text = std::fs::read(&self.log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        // the whole group: the shell and whatever it started
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_port_and_bootstrap_and_know_their_placeholders() {
        let t = Template::parse("python3 node.py -p {port} -b {bootstrap}").unwrap();
        assert_eq!(t.render(7001, 7000), "python3 node.py -p 7001 -b 7000");
        let t = Template::parse("node n.js --port={port} --join {bootstrap_url}").unwrap();
        assert_eq!(t.render(1, 2), "node n.js --port=1 --join http://127.0.0.1:2");
        assert_eq!(Template::parse("python3 node.py -b {bootstrap}"), Err(LaunchError::Missing("{port}")));
        assert_eq!(Template::parse("python3 node.py -p {port}"), Err(LaunchError::Missing("{bootstrap}")));
        assert_eq!(Template::parse("x {port} {bootstrap} {host}"), Err(LaunchError::Unknown("{host}".into())));
        assert_eq!(Template::parse("  "), Err(LaunchError::Empty));
    }

    /// Whether a live (not zombie) process is left in process group `pgid`:
    /// `/proc/PID/stat` is `pid (comm) state ppid pgrp ...`.
    fn group_alive(pgid: u32) -> bool {
        let Ok(dir) = std::fs::read_dir("/proc") else { return false };
        dir.flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let Some((_, rest)) = stat.rsplit_once(')') else { return false };
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.len() > 3 && f[0] != "Z" && f[2] == pgid.to_string()
        })
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_dropped_child_is_killed_with_everything_it_started() {
        let mut c = Launched::start("cd / && sleep 30 & sleep 31; echo never".into()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(c.exited().is_none());
        let pid = c.child.id();
        assert!(group_alive(pid));
        drop(c);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the shell was reaped");
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!group_alive(pid), "no process of its group is left");
    }
}
