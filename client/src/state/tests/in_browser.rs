//! Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).

use natter_shared::{Nick, RoomName};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// In the browser, names are normalised and lower-cased by the page's
/// JavaScript: it must agree with the `unicode-normalization` crate and
/// Rust's `to_lowercase`, which the server compares names with, or the
/// client would not recognise the room the server put it in. The keys
/// below are the server's.
#[wasm_bindgen_test]
fn names_fold_to_lower_case_as_the_server_folds_them() {
    for (name, key) in [
        ("Lobby", "lobby"),
        ("ÉCOLE-Ça", "école-ça"),
        ("ΟΔΟΣ", "οδος"),
        ("ΣΑΣ_Σ", "σας_σ"),
        ("İstanbul", "i\u{307}stanbul"),
        ("ǅungla", "d\u{17E}ungla"),
        ("ＡＢＣ", "abc"),
        ("STRAẞE", "straße"),
        ("ᏣᎳᎩ", "ꮳꮃꭹ"),
        ("Ⰰⰱ", "ⰰⰱ"),
        ("𐐀𐐨", "𐐨𐐨"),
        ("张伟", "张伟"),
        ("Zoe\u{308}", "zoë"),
        ("ℌﬁ", "hfi"),
        ("①", "1"),
    ] {
        let room = RoomName::try_from(name.to_owned()).unwrap();
        assert_eq!(room.key(), key, "{name}");
        let nick = Nick::try_from(name.to_owned()).unwrap();
        assert_eq!(nick.key(), key, "{name}");
    }
    assert_eq!(
        RoomName::try_from("LOBBY".to_owned()).unwrap().key(),
        "lobby"
    );
}
