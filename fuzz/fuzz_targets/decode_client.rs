//! Arbitrary bytes, as a text frame when they are valid UTF-8, through
//! `decode_client`: it must never panic, and whatever it accepts must encode
//! to JSON that decodes to the same message and encodes the same way again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use natter_shared::decode_client;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(msg) = decode_client(frame) {
        let json = msg.to_json();
        let again = decode_client(&json).unwrap_or_else(|err| {
            panic!("{frame:?} decoded, but its encoding {json} did not: {err}")
        });
        assert_eq!(again, msg, "{frame:?} changed through {json}");
        assert_eq!(
            again.to_json(),
            json,
            "the encoding of {frame:?} is not stable"
        );
    }
});
