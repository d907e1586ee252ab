//! The catalog of `gossip test-node`'s steps: each one's name, what it
//! checks, the `PROTOCOL.md` section a student should read when it fails,
//! and whether it is required. The runner ([`super::runner`]) fills in a
//! [`Outcome`] per step; the report ([`super::report`]) prints them. Kept
//! apart so that the names and hints a test (or a student's CI) relies on
//! live in one table.

use std::time::Duration;

/// One step of the conformance test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Short machine name (`--json`'s `name`), e.g. `dedup`.
    pub name: &'static str,
    /// What it checks, in one line.
    pub title: &'static str,
    /// The heading of the `PROTOCOL.md` section to read when it fails.
    pub section: &'static str,
    /// What to do about a failure, in one sentence.
    pub advice: &'static str,
}

impl Step {
    /// The hint printed with a failure: the section to read and the advice.
    pub fn hint(&self) -> String {
        format!("read PROTOCOL.md, section \"{}\": {}", self.section, self.advice)
    }
}

macro_rules! steps {
    ($($id:ident = $name:literal, $title:literal, $section:literal, $advice:literal;)*) => {
        $(
            #[doc = $title]
            pub const $id: Step = Step { name: $name, title: $title, section: $section, advice: $advice };
        )*
        /// Every step, in the order they run.
        pub const ALL: &[Step] = &[$($id),*];
    };
}

steps! {
    STARTS = "starts", "the node starts and listens on its port", "Nodes, identities, URLs",
        "the command must start a node that listens on 127.0.0.1 at the port given as {port} and keeps running";
    PEERS = "peers", "GET /peers/ answers a JSON array of base URLs", "Endpoints",
        "answer GET /peers/ (and /peers) with 200 and a JSON array of strings such as \"http://127.0.0.1:7000\"";
    JOINS = "joins", "a node started with -b asks its bootstrap peer for its peers and its view", "Joining: bootstrap",
        "at start, GET the bootstrap peer's /peers/ and POST it an empty digest ({\"digest\": {}, \"pull_only\": true})";
    OWN_UPDATE = "own-update", "its own favorite goes out as an update, version 1 first", "Updates (the course's message)",
        "send your favorite as {uuid, origin, epoch, version, ttl, payload}; the first favorite is version 1 (0 means \"nothing known\" in digests), +1 for each new one";
    FORWARDS = "forwards", "a fresh pushed update is forwarded at once to other peers", "Eager push: a new favorite at once",
        "when a pushed update is news, POST it on at once (in \"updates\") to fanout random peers other than its sender and its origin";
    DEDUP = "dedup", "a replayed UUID changes nothing and is not forwarded again", "Deduplication",
        "remember the UUIDs of pushed updates and drop an update already seen or not newer than your view: never forward it again";
    TTL = "ttl", "forwards carry ttl - 1, and an update that arrives with ttl 0 is kept but not forwarded", "TTL",
        "forward a fresh update with ttl - 1, and do not forward one that arrived with ttl 0 (still apply it)";
    ORDER = "order", "an older version arriving late does not replace a newer one", "Version ordering",
        "compare (epoch, version) pairs and replace a view entry only with a strictly newer one";
    SEALS = "seals", "forwarded updates keep their key and sig unchanged", "Seals: origin authenticity",
        "keep the key and sig fields of every update you learn and send them on unchanged (even if you do not check them)";
    WELL_FORMED = "well-formed", "every message it sends is a well-formed envelope", "`POST /gossip/`: one exchange",
        "send {\"from\": your id, \"url\": your base URL, ...} with updates whose uuid, origin, version, ttl and payload have the types and ranges of the table";
    BOOTSTRAP_THEIRS = "bootstrap-theirs", "reference nodes bootstrapping from it learn its favorite", "Joining: bootstrap",
        "answer GET /peers/ with the peers that answer, add the url of every request to your peers, and answer a digest with a delta";
    CONVERGE = "converge", "it and the reference nodes converge (everyone holds everyone's newest favorite)", "The default exchange: push-pull (Scuttlebutt)",
        "every interval, send your digest to fanout random peers, apply the delta in the answer and send what its want asks for";
    RESAMPLE = "resample", "after a reference node picks a new favorite, everyone converges again", "Version ordering",
        "a newer (epoch, version) of an origin replaces the old entry everywhere: apply deltas and pushes by version";
    PARTITION = "partition", "cut off from the others (and given a peer that never answers), it keeps running, and converges once the partition heals", "Peers that stop answering",
        "give every request a timeout; an exchange that fails marks the peer suspect, but keep trying suspect peers now and then, and keep answering";
    BOOTSTRAP_OURS = "bootstrap-ours", "restarted with a reference node as bootstrap, it learns every favorite", "Joining: bootstrap",
        "at start, POST the bootstrap peer an empty digest and apply the delta in its answer: that is the whole view";
    RESTART = "restart", "a restarted node's new favorite wins, although its version counts from 1 again", "Restarts: epochs",
        "start every incarnation in a new epoch (wall-clock seconds at start) and send it in every update of your own";
    MALFORMED = "malformed", "malformed input does not kill it", "Errors",
        "catch every error while reading a request: answer 400 with a JSON body, and keep serving";
    REJECTS = "rejects", "malformed input gets a 4xx answer", "Errors",
        "answer a body that is not a valid envelope with a 400 (not 200, not 500), e.g. {\"error\": \"...\", \"reason\": \"invalid_field\"}";
}

/// What became of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It passed.
    Pass,
    /// It failed.
    Fail,
    /// It did not run (it does not apply, or an earlier failure prevents it).
    Skip,
}

impl Status {
    /// `pass`, `fail` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One step's outcome.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Which step.
    pub step: Step,
    /// Whether the overall verdict depends on it.
    pub required: bool,
    /// Pass, fail or skip.
    pub status: Status,
    /// How long it took.
    pub duration: Duration,
    /// What was observed (why it failed, or what it measured).
    pub detail: String,
}

impl Outcome {
    /// Whether this outcome makes the whole test fail.
    pub fn fails_the_test(&self) -> bool {
        self.required && self.status == Status::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_names_a_section_heading_of_the_protocol() {
        let protocol = include_str!("../../PROTOCOL.md");
        let headings: Vec<&str> =
            protocol.lines().filter(|l| l.starts_with('#')).map(|l| l.trim_start_matches('#').trim()).collect();
        for s in ALL {
            assert!(
                headings.contains(&s.section),
                "step {}: no heading {:?} in PROTOCOL.md (headings: {headings:?})",
                s.name,
                s.section
            );
            assert!(s.hint().contains(s.section) && s.hint().contains(s.advice));
        }
    }

    #[test]
    fn step_names_are_unique_lowercase_words() {
        for (i, s) in ALL.iter().enumerate() {
            assert!(s.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", s.name);
            assert!(ALL[..i].iter().all(|o| o.name != s.name), "{} twice", s.name);
        }
    }
}
