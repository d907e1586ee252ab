//! Why a simulation could not start: the simulator layer's error.
//!
//! A run is refused for one of few reasons, each kept typed so a caller can
//! act on it (the page marks the field a [`ParamError`] names; the command
//! line prints the message): a parameter is wrong, the overlay's topology
//! cannot be built for the node count, or a live run was asked to drive a
//! kind of node the configuration's membership does not run.

use std::fmt;

use super::table::ParamError;
use crate::core::membership::topology::TopologyError;

/// Why a run of a configuration could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// A parameter is refused (it names which, what it takes and what it got).
    Param(ParamError),
    /// The overlay's fixed topology cannot be built for this configuration.
    Topology(TopologyError),
    /// A live run of one kind of node was asked for a configuration whose
    /// membership runs another kind.
    Membership {
        /// The configuration's membership (`swim`, `hyparview`, ...).
        membership: &'static str,
        /// The nodes the live run drives (`full gossip nodes`, `SWIM members`, `overlay nodes`).
        runs: &'static str,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Param(e) => e.fmt(f),
            RunError::Topology(e) => e.fmt(f),
            RunError::Membership { membership, runs } => {
                write!(f, "the {membership} membership does not run {runs}")
            }
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Param(e) => Some(e),
            RunError::Topology(e) => Some(e),
            RunError::Membership { .. } => None,
        }
    }
}

impl From<ParamError> for RunError {
    fn from(e: ParamError) -> RunError {
        RunError::Param(e)
    }
}

impl From<TopologyError> for RunError {
    fn from(e: TopologyError) -> RunError {
        RunError::Topology(e)
    }
}
