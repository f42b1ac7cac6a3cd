//! Deterministic, Graph-looking identifiers (no randomness, so tests are reproducible).

/// 64-bit FNV-1a over several byte strings, separated so ("ab","c") != ("a","bc").
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// SplitMix64 stream seeded from `seed`: `n` pseudo-random bytes.
pub(crate) fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_be_bytes());
    }
    out.truncate(n);
    out
}

/// Base64 with Outlook's URL-safe alphabet (`-` and `_`, `=` padding kept, as in real item ids).
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (for change keys, which Graph shows with `+` and `/`).
pub(crate) fn base64_std(data: &[u8]) -> String {
    base64(data).replace('-', "+").replace('_', "/")
}

pub(crate) fn hex_upper(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

/// An event id: `AAMkA...` like Exchange's, unique per (mailbox, sequence number).
pub(crate) fn event_id(owner: &str, seq: u64) -> String {
    let owner_l = owner.to_ascii_lowercase();
    let mut raw = vec![0x00, 0x03, 0x24, 0x00];
    raw.extend(bytes(hash(&[owner_l.as_bytes()]), 16));
    raw.extend(seq.to_be_bytes());
    raw.extend(bytes(hash(&[owner_l.as_bytes(), &seq.to_be_bytes()]), 40));
    base64(&raw)
}

/// An iCalendar UID in Exchange's format (the fixed Outlook GUID prefix, then per-item bytes).
pub(crate) fn ical_uid(owner: &str, seq: u64) -> String {
    let seed = hash(&[
        owner.to_ascii_lowercase().as_bytes(),
        &seq.to_be_bytes(),
        b"uid",
    ]);
    format!(
        "040000008200E00074C5B7101A82E00800000000{}000000000000000010000000{}",
        hex_upper(&bytes(seed, 8)),
        hex_upper(&bytes(seed ^ 0x5555, 16))
    )
}

/// A change key for (id, version).
pub(crate) fn change_key(id: &str, version: u64) -> String {
    base64_std(&bytes(hash(&[id.as_bytes(), &version.to_be_bytes()]), 20))
}

/// Minimal percent-encoding for an id inside a query string (`=`, `+`, `/`).
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' => out.push(c),
            _ => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
        assert_eq!(base64_std(&[0xfb, 0xff]), "+/8=");
        assert_eq!(base64(&[0xfb, 0xff]), "-_8=");
    }

    #[test]
    fn ids_are_distinct_and_stable() {
        let a = event_id("alice@contoso.example", 1);
        assert!(a.starts_with("AAMkA"), "{a}");
        assert_eq!(a, event_id("ALICE@contoso.example", 1));
        assert_ne!(a, event_id("alice@contoso.example", 2));
        assert_ne!(a, event_id("bob@contoso.example", 1));
        assert_eq!(query_escape("ab=="), "ab%3D%3D");
        let uid = ical_uid("alice@contoso.example", 1);
        assert!(uid.starts_with("040000008200E00074C5B7101A82E008"));
        assert_eq!(uid.len(), 112, "{uid}");
    }
}
