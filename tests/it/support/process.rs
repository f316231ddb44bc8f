//! Child processes and scratch space for test servers.
//!
//! Owns the rules every server the tests start must follow:
//! - children are spawned from one long-lived thread with
//!   `PR_SET_PDEATHSIG = SIGKILL` (the signal fires when the *spawning thread*
//!   exits, so spawning from a test thread would kill the server when that test
//!   ends), so nothing outlives the test process;
//! - scratch directories live under `$TMPDIR/binlog-cdc-it/<kind>-<pid>-…`;
//!   directories of dead test processes are swept on first use;
//! - shared (never dropped) servers register an exit hook that kills them and
//!   removes their directory when the process exits normally.

use std::fs::{self, File};
use std::io;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use super::wait::poll_blocking;

/// A free TCP port on 127.0.0.1 (the kernel's pick; a server started right
/// after will almost always get it — callers retry a start that fails).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// Root of every scratch directory the tests make.
pub fn scratch_root() -> PathBuf {
    std::env::temp_dir().join("binlog-cdc-it")
}

/// A fresh directory `<scratch_root>/<kind>-<pid>-XXXX`, removed when dropped.
pub fn scratch_dir(kind: &str) -> tempfile::TempDir {
    static SWEPT: OnceLock<()> = OnceLock::new();
    let root = scratch_root();
    fs::create_dir_all(&root).expect("create scratch root");
    SWEPT.get_or_init(|| sweep_stale(&root));
    tempfile::Builder::new()
        .prefix(&format!("{kind}-{}-", std::process::id()))
        .tempdir_in(&root)
        .expect("create scratch dir")
}

/// Removes directories (`<kind>-<pid>-<random>`) of test processes that no
/// longer run.
fn sweep_stale(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.rsplit('-').nth(1).and_then(|p| p.parse::<libc::pid_t>().ok());
        // kill(pid, 0) fails with ESRCH only when no such process exists.
        let dead = pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH));
        if dead {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` so that it is SIGKILLed when the test process dies.
pub fn spawn(mut cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1); // the test process died before we armed the signal
            }
            Ok(())
        });
    }
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("it-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    tx.lock().unwrap_or_else(|e| e.into_inner()).send((cmd, reply_tx)).expect("spawner alive");
    reply_rx.recv().expect("spawner replied")
}

/// Runs `cmd` to completion with stdout+stderr appended to `log`; Err carries
/// the log's tail when it fails or outlives `deadline`.
pub fn run(mut cmd: Command, log: &Path, deadline: Duration) -> Result<(), String> {
    let out = File::options().create(true).append(true).open(log).map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
    let what = format!("{cmd:?}");
    let mut child = spawn(cmd).map_err(|e| format!("spawn {what}: {e}"))?;
    match poll_blocking(deadline, || child.try_wait().ok().flatten()) {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("{what} failed ({s}):\n{}", tail(log, 40))),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{what} still running after {deadline:?}:\n{}", tail(log, 40)))
        }
    }
}

/// The last `lines` lines of a text file (for error messages).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A long-running server process: SIGKILLed and reaped on drop or `kill`.
pub struct Daemon {
    child: Mutex<Option<Child>>,
}

impl Daemon {
    /// Spawns `cmd` with stdin closed and stdout+stderr going to `log`.
    pub fn spawn(mut cmd: Command, log: &Path) -> io::Result<Daemon> {
        let out = File::options().create(true).append(true).open(log)?;
        cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        Ok(Daemon { child: Mutex::new(Some(spawn(cmd)?)) })
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut g = self.child.lock().unwrap_or_else(|e| e.into_inner());
        g.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// The process id, until killed.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|c| c.id())
    }

    /// SIGKILL and reap; idempotent.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

type ExitHook = Box<dyn FnOnce() + Send>;
static EXIT_HOOKS: Mutex<Vec<ExitHook>> = Mutex::new(Vec::new());

/// Runs `hook` when the process exits through `exit` (libtest's normal end,
/// pass or fail). Used for shared servers, which statics never drop.
pub fn at_exit(hook: impl FnOnce() + Send + 'static) {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| unsafe {
        libc::atexit(run_exit_hooks);
    });
    EXIT_HOOKS.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(hook));
}

extern "C" fn run_exit_hooks() {
    let hooks = std::mem::take(&mut *EXIT_HOOKS.lock().unwrap_or_else(|e| e.into_inner()));
    for hook in hooks.into_iter().rev() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook));
    }
}

/// Exit hook for shared servers: SIGKILL and reap `pid`, remove `dir`.
pub fn kill_and_remove(pid: Option<u32>, dir: Option<PathBuf>) {
    if let Some(pid) = pid {
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
            libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
    }
    if let Some(dir) = dir {
        let _ = fs::remove_dir_all(dir);
    }
}
