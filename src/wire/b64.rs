//! Unpadded base64url (RFC 4648, section 5): how keys and seals travel on
//! the wire. Only fixed-size values are ever encoded (a 32-byte key, a
//! 64-byte signature), so this is a few dozen lines rather than the
//! `base64` crate, whose general engine cost the browser package about
//! 3 KB gzipped; the crate stays a dev-dependency that the tests below
//! compare against.

/// The base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Characters that `n` bytes take, unpadded.
pub const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Write `bytes` into `out`, which must be exactly [`encoded_len`] long.
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), encoded_len(bytes.len()));
    let (mut acc, mut bits, mut k) = (0u32, 0u32, 0usize);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out[k] = ALPHABET[((acc >> bits) & 63) as usize];
            k += 1;
        }
    }
    if bits > 0 {
        out[k] = ALPHABET[((acc << (6 - bits)) & 63) as usize];
    }
}

/// `bytes` as text.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = vec![0u8; encoded_len(bytes.len())];
    encode_into(bytes, &mut out);
    // every byte written is from the ASCII alphabet
    out.into_iter().map(char::from).collect()
}

/// The value of one base64url character.
fn value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    }))
}

/// Exactly `N` bytes from their canonical text: the right length, only
/// alphabet characters (no padding), and the unused low bits of the last
/// character zero (so each value has one spelling, as the `base64` crate
/// requires by default).
pub fn decode_exact<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != encoded_len(N) {
        return None;
    }
    let mut out = [0u8; N];
    let (mut acc, mut bits, mut k) = (0u32, 0u32, 0usize);
    for &c in text {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out[k] = (acc >> bits) as u8;
            k += 1;
        }
        acc &= (1 << bits) - 1;
    }
    (acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as CRATE;
    use base64::Engine as _;

    #[test]
    fn rfc_4648_vectors_encode_as_the_standard_says() {
        let cases = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE")];
        for (plain, text) in cases {
            assert_eq!(encode(plain.as_bytes()), text);
        }
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_", "the url-safe alphabet");
    }

    #[test]
    fn keys_and_signatures_round_trip_and_agree_with_the_base64_crate() {
        let mut rng = crate::rng::Rng::new(7);
        for _ in 0..500 {
            let mut key = [0u8; 32];
            let mut sig = [0u8; 64];
            key.iter_mut().chain(sig.iter_mut()).for_each(|b| *b = rng.below(256) as u8);
            let (k, s) = (encode(&key), encode(&sig));
            assert_eq!((k.as_str(), s.as_str()), (CRATE.encode(key).as_str(), CRATE.encode(sig).as_str()));
            assert_eq!(decode_exact::<32>(k.as_bytes()), Some(key));
            assert_eq!(decode_exact::<64>(s.as_bytes()), Some(sig));
        }
    }

    #[test]
    fn a_text_the_base64_crate_refuses_is_refused_too() {
        let key = encode(&[9u8; 32]);
        let mut bad: Vec<Vec<u8>> = vec![
            key[..42].into(),                        // short
            format!("{key}A").into_bytes(),          // long
            format!("{}=", &key[..42]).into_bytes(), // padding
            format!("{}+", &key[..42]).into_bytes(), // the other alphabet
            format!("{}/", &key[..42]).into_bytes(), // the other alphabet
            format!("{} ", &key[..42]).into_bytes(), // space
        ];
        // the last character carries 2 unused bits: any of them set is not canonical
        for c in ["B", "C", "D", "F"] {
            bad.push(format!("{}{c}", &key[..42]).into_bytes());
        }
        for b in &bad {
            let mut out = [0u8; 32];
            let crate_ok = matches!(CRATE.decode_slice(b, &mut out), Ok(32));
            assert!(!crate_ok, "the crate accepts {:?}", String::from_utf8_lossy(b));
            assert_eq!(decode_exact::<32>(b), None, "{:?}", String::from_utf8_lossy(b));
        }
    }
}
