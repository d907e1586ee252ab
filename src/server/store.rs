//! What a node keeps across restarts (`--data-dir DIR`): its incarnation
//! number (epoch) and the seed of its signing key, in `DIR/node.json`:
//!
//! ```json
//! {"epoch": 1763700000, "key_seed": "<64 hex digits>"}
//! ```
//!
//! At every start [`NodeStore::open`] moves the epoch to
//! `max(stored + 1, now)` (wall-clock seconds, clamped to `u32`) and writes it
//! back before the node serves: a restart always runs in a newer epoch, even
//! twice in one second or with a clock that went backwards. The write is
//! atomic (a temporary file, fsync, rename, fsync of the directory), so a
//! crash leaves either the old file or the new one. A file that cannot be
//! read or parsed is an error, never silently replaced: the key seed in it
//! is the node's identity.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file in the data directory.
pub const FILE: &str = "node.json";
/// The temporary file a new version is written to before the rename.
const TMP: &str = "node.json.tmp";

/// What a node keeps across restarts, as [`NodeStore::open`] left it on disk.
#[derive(Clone, PartialEq, Eq)]
pub struct Persisted {
    /// The epoch of this incarnation, already written back.
    pub epoch: u32,
    /// 32 random bytes made at the first start: the seed of the node's key.
    pub key_seed: [u8; 32],
    /// The file they are kept in (`DIR/node.json`).
    pub path: PathBuf,
}

impl fmt::Debug for Persisted {
    // the key seed is a secret: never in logs or panic messages
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persisted")
            .field("epoch", &self.epoch)
            .field("key_seed", &"..")
            .field("path", &self.path)
            .finish()
    }
}

/// Why the data directory could not be used.
#[derive(Debug)]
pub enum StoreError {
    /// Reading, creating or writing failed.
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file exists but is not what this module writes.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The OS has no entropy source for a new key seed.
    Entropy(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { action, path, source } => write!(f, "{action} {}: {source}", path.display()),
            StoreError::Corrupt { path, why } => write!(
                f,
                "{} is corrupt ({why}); it holds the node's key seed, so it is never overwritten: fix or remove it",
                path.display()
            ),
            StoreError::Entropy(e) => write!(f, "no OS randomness for a new key seed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The data directory of a node.
#[derive(Clone, Copy, Debug)]
pub struct NodeStore;

impl NodeStore {
    /// Open (or create) `dir/node.json`, start a new incarnation at wall-clock
    /// second `now_secs` and write it back. The first start creates `dir`
    /// and a random key seed; the epoch is then `now_secs`. Later starts keep
    /// the seed and take `max(stored + 1, now_secs)`, clamped to `u32::MAX`.
    pub fn open(dir: &Path, now_secs: u64) -> Result<Persisted, StoreError> {
        let path = dir.join(FILE);
        let (stored, mut doc, key_seed) = match std::fs::read(&path) {
            Ok(bytes) => {
                let (epoch, doc, seed) = parse(&bytes, &path)?;
                (Some(epoch), doc, seed)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_dir(dir)?;
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| StoreError::Entropy(e.to_string()))?;
                (None, serde_json::Map::new(), seed)
            }
            Err(source) => return Err(StoreError::Io { action: "cannot read", path, source }),
        };
        let epoch = next_epoch(stored, now_secs);
        // fields written by later versions are kept as they are
        doc.insert("epoch".into(), epoch.into());
        doc.insert("key_seed".into(), hex(&key_seed).into());
        let mut text = serde_json::Value::Object(doc).to_string();
        text.push('\n');
        write_atomic(dir, &path, text.as_bytes())?;
        Ok(Persisted { epoch, key_seed, path })
    }
}

/// The epoch of the next incarnation: newer than the stored one, and at
/// least the wall clock, so that nodes without a data directory compare
/// sensibly with it.
fn next_epoch(stored: Option<u32>, now_secs: u64) -> u32 {
    let after = stored.map_or(0, |e| e as u64 + 1);
    after.max(now_secs).min(u32::MAX as u64) as u32
}

type Doc = serde_json::Map<String, serde_json::Value>;

/// The stored epoch, the whole document and the key seed of `path`'s
/// `bytes`, or why the file is corrupt.
fn parse(bytes: &[u8], path: &Path) -> Result<(u32, Doc, [u8; 32]), StoreError> {
    let corrupt = |why: String| StoreError::Corrupt { path: path.to_path_buf(), why };
    let doc: Doc = serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not a JSON object: {e}")))?;
    let epoch = match doc.get("epoch") {
        None => return Err(corrupt("no epoch".into())),
        Some(v) => v
            .as_u64()
            .and_then(|e| u32::try_from(e).ok())
            .ok_or_else(|| corrupt("epoch must be an integer from 0 to 2^32-1".into()))?,
    };
    let seed = doc.get("key_seed").and_then(|v| v.as_str()).ok_or_else(|| corrupt("no key_seed string".into()))?;
    let key_seed = unhex(seed).ok_or_else(|| corrupt("key_seed must be 64 hex digits".into()))?;
    Ok((epoch, doc, key_seed))
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|source| StoreError::Io { action: "cannot create", path: dir.to_path_buf(), source })
}

/// Replace `path` (in `dir`) by `bytes` atomically: write a temporary file
/// (readable by its owner only), fsync it, rename it over `path`, fsync `dir`
/// so that the rename itself is durable.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = dir.join(TMP);
    fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
        move |source| StoreError::Io { action, path: path.to_path_buf(), source }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(io("cannot create", &tmp))?;
    f.write_all(bytes).map_err(io("cannot write", &tmp))?;
    f.sync_all().map_err(io("cannot sync", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io("cannot replace", path))?;
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("cannot sync", dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory path under the system's temporary one (not created),
    /// removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("gossip-store-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Scratch(dir)
        }

        fn file(&self) -> PathBuf {
            self.0.join(FILE)
        }

        fn entries(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn on_disk(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_first_start_creates_the_directory_a_random_seed_and_takes_the_clock_as_epoch() {
        let d = Scratch::new("fresh");
        let nested = d.0.join("a/b");
        let p = NodeStore::open(&nested, 1_763_700_000).unwrap();
        assert_eq!(p.epoch, 1_763_700_000);
        assert_eq!(p.path, nested.join(FILE));
        assert_ne!(p.key_seed, [0u8; 32]);
        let j = on_disk(&p.path);
        assert_eq!(j["epoch"], 1_763_700_000u64);
        assert_eq!(j["key_seed"].as_str().unwrap(), hex(&p.key_seed));
        assert_eq!(j["key_seed"].as_str().unwrap().len(), 64);
        let other = Scratch::new("fresh-other");
        assert_ne!(NodeStore::open(&other.0, 1).unwrap().key_seed, p.key_seed, "each node its own seed");
        assert!(!format!("{p:?}").contains(&hex(&p.key_seed)), "the seed stays out of Debug output");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&p.path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn every_restart_runs_in_a_newer_epoch_with_the_same_seed() {
        let d = Scratch::new("restart");
        let first = NodeStore::open(&d.0, 500).unwrap();
        // three restarts within the same second
        for expect in [501, 502, 503] {
            let p = NodeStore::open(&d.0, 500).unwrap();
            assert_eq!(p.epoch, expect);
            assert_eq!(p.key_seed, first.key_seed);
            assert_eq!(on_disk(&p.path)["epoch"], expect, "written back");
        }
        // the clock moved on: it wins
        assert_eq!(NodeStore::open(&d.0, 9_000).unwrap().epoch, 9_000);
    }

    #[test]
    fn a_clock_behind_the_stored_epoch_still_moves_forward() {
        let d = Scratch::new("behind");
        std::fs::create_dir_all(&d.0).unwrap();
        let seed = "ab".repeat(32);
        std::fs::write(d.file(), format!(r#"{{"epoch": 2000000000, "key_seed": "{seed}"}}"#)).unwrap();
        let p = NodeStore::open(&d.0, 10).unwrap();
        assert_eq!(p.epoch, 2_000_000_001);
        assert_eq!(p.key_seed, [0xab; 32]);
    }

    #[test]
    fn epochs_are_clamped_to_u32() {
        assert_eq!(next_epoch(None, u64::MAX), u32::MAX);
        assert_eq!(next_epoch(Some(u32::MAX), 0), u32::MAX);
        assert_eq!(next_epoch(Some(u32::MAX - 1), 0), u32::MAX);
        assert_eq!(next_epoch(Some(7), 3), 8);
        assert_eq!(next_epoch(None, 3), 3);
    }

    #[test]
    fn fields_written_by_later_versions_survive_a_restart() {
        let d = Scratch::new("extra");
        std::fs::create_dir_all(&d.0).unwrap();
        let seed = "0f".repeat(32);
        std::fs::write(d.file(), format!(r#"{{"epoch":1,"key_seed":"{seed}","public_key":"xyz"}}"#)).unwrap();
        NodeStore::open(&d.0, 5).unwrap();
        let j = on_disk(&d.file());
        assert_eq!((j["epoch"].as_u64(), j["public_key"].as_str()), (Some(5), Some("xyz")));
    }

    #[test]
    fn a_corrupt_file_is_an_error_and_is_left_untouched() {
        let d = Scratch::new("corrupt");
        std::fs::create_dir_all(&d.0).unwrap();
        let seed = "ab".repeat(32);
        for (content, needle) in [
            (String::new(), "not a JSON object"),
            ("{\"epoch\": 3, \"key_se".into(), "not a JSON object"),
            ("[1, 2]".into(), "not a JSON object"),
            (format!(r#"{{"key_seed":"{seed}"}}"#), "no epoch"),
            (format!(r#"{{"epoch":"3","key_seed":"{seed}"}}"#), "epoch must be"),
            (format!(r#"{{"epoch":-1,"key_seed":"{seed}"}}"#), "epoch must be"),
            (format!(r#"{{"epoch":4294967296,"key_seed":"{seed}"}}"#), "epoch must be"),
            (format!(r#"{{"epoch":1.5,"key_seed":"{seed}"}}"#), "epoch must be"),
            (r#"{"epoch":3}"#.into(), "no key_seed"),
            (r#"{"epoch":3,"key_seed":"abcd"}"#.into(), "64 hex digits"),
            (format!(r#"{{"epoch":3,"key_seed":"{}"}}"#, "zz".repeat(32)), "64 hex digits"),
            (format!(r#"{{"epoch":3,"key_seed":"{}"}}"#, "é".repeat(32)), "64 hex digits"),
        ] {
            std::fs::write(d.file(), &content).unwrap();
            let e = NodeStore::open(&d.0, 100).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, StoreError::Corrupt { .. }), "{content:?}: {msg}");
            assert!(msg.contains(needle) && msg.contains(FILE) && !msg.contains('\n'), "{content:?}: {msg}");
            assert_eq!(std::fs::read_to_string(d.file()).unwrap(), content, "never overwritten");
            assert_eq!(d.entries(), vec![FILE.to_string()], "no temporary file left");
        }
    }

    #[test]
    fn an_unreadable_file_or_directory_is_an_error() {
        let d = Scratch::new("unreadable");
        std::fs::create_dir_all(d.file()).unwrap(); // node.json is a directory
        let e = NodeStore::open(&d.0, 1).unwrap_err();
        assert!(matches!(e, StoreError::Io { action: "cannot read", .. }), "{e}");
        let d = Scratch::new("not-a-dir");
        std::fs::write(&d.0, b"a file where the directory should be").unwrap();
        let e = NodeStore::open(&d.0, 1).unwrap_err();
        assert!(e.to_string().contains(&*d.0.to_string_lossy()), "{e}");
        std::fs::remove_file(&d.0).unwrap();
    }

    #[test]
    fn the_atomic_write_leaves_only_the_file_even_after_an_interrupted_one() {
        let d = Scratch::new("atomic");
        NodeStore::open(&d.0, 1).unwrap();
        assert_eq!(d.entries(), vec![FILE.to_string()]);
        // a crash between writing the temporary file and the rename
        std::fs::write(d.0.join(TMP), b"half a fi").unwrap();
        let p = NodeStore::open(&d.0, 1).unwrap();
        assert_eq!(p.epoch, 2);
        assert_eq!(d.entries(), vec![FILE.to_string()]);
        assert_eq!(on_disk(&p.path)["epoch"], 2);
    }
}
