//! Fuzz target: any body `wire::decode` accepts encodes back to a body that
//! decodes to the same envelope, and each message's `wire_len` is the exact
//! size of its encoding. Nothing may panic, whatever the input.
#![no_main]

use gossip::core::NodeId;
use gossip::wire::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lim = Limits::default();
    let Ok(env) = wire::decode(data, &lim) else { return };
    let body = wire::encode(&env.from, env.url.as_deref(), env.key.as_ref(), &env.messages);
    let again = wire::decode(&body, &lim)
        .unwrap_or_else(|e| panic!("re-encoded body refused: {e}\n{}", String::from_utf8_lossy(&body)));
    assert_eq!(again, env, "{}", String::from_utf8_lossy(&body));
    for m in &env.messages {
        let one = wire::encode(&env.from, None, None, std::slice::from_ref(m));
        assert_eq!(m.wire_len() + env.from.wire_len(), one.len(), "{}", String::from_utf8_lossy(&one));
    }
});
