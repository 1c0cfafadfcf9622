//! The Unicode knowledge names need: which characters draw as nothing or as
//! a blank, and the normal forms names are stored and compared in.
//!
//! The character classes are short explicit tables, and normalisation and
//! case mapping are done by the browser in the web client (the page's own
//! `String.prototype.normalize` and `toLowerCase`), so the client's
//! WebAssembly carries none of Unicode's tables. Natively the
//! `unicode-normalization` crate and the standard library do the same work.

/// Whether `c` has the Unicode property Default_Ignorable_Code_Point: a
/// character that is drawn as nothing when a font has no glyph for it
/// (zero-width spaces and joiners, bidirectional controls, variation
/// selectors, Hangul fillers, shorthand and musical format controls, tags).
///
/// The ranges are those of `DerivedCoreProperties.txt` in Unicode 14.0
/// (read from Perl 5.36's copy of the tables); no later version up to 16.0
/// is known to change them, but check the file again when Unicode adds
/// format characters. The test `default_ignorables_match_unicode` names
/// the ends of each range.
pub(crate) fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Whether `c` is invisible in a name: a default ignorable character, or
/// one of the interlinear annotation controls (U+FFF9 to U+FFFB), format
/// characters that are not default ignorable but hide or move the text
/// around them.
pub(crate) fn is_invisible(c: char) -> bool {
    is_default_ignorable(c) || matches!(c, '\u{FFF9}'..='\u{FFFB}')
}

/// Whether `c` is drawn as empty space but is not the ordinary space
/// (U+0020): Unicode's other white space characters (no-break, en, em,
/// thin, ideographic spaces and the like), and the Braille pattern blank
/// U+2800, which is a letter, not white space, yet shows nothing.
pub(crate) fn is_other_blank(c: char) -> bool {
    c == '\u{2800}' || (c != ' ' && c.is_whitespace())
}

/// `text` in Normalization Form C: composed characters where Unicode has
/// them, so `e` + U+0308 becomes `ë`.
pub(crate) fn nfc(text: &str) -> String {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        String::from(js_sys::JsString::from(text).normalize("NFC"))
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        use unicode_normalization::UnicodeNormalization as _;
        if unicode_normalization::is_nfc(text) {
            return text.to_owned();
        }
        text.nfc().collect()
    }
}

/// `text` in Normalization Form KC: also replaces compatibility characters
/// by what they stand for, so full-width `ａ` becomes `a` and `ﬁ` becomes
/// `fi`.
fn nfkc(text: &str) -> String {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        String::from(js_sys::JsString::from(text).normalize("NFKC"))
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        use unicode_normalization::UnicodeNormalization as _;
        text.nfkc().collect()
    }
}

/// `text` in lower case: Unicode's default mapping, as `str::to_lowercase`
/// does it. In the browser the page's own `String.prototype.toLowerCase`,
/// the same mapping, does it instead, so the web client carries no copy of
/// Unicode's case tables (15 KB of its WebAssembly).
fn lower_case(text: &str) -> String {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        text.to_lowercase()
    }
}

/// The form two names are compared in: `lower(NFKC(lower(NFKC(name))))`,
/// an approximation of Unicode's NFKC_Casefold built from what a browser
/// offers. It makes names that differ only in case (`Alice`, `ALICE`), in
/// composition (`Zoë`, `Zoe` + U+0308) or by compatibility forms (`ａｄｍｉｎ`,
/// `admin`) one name. The second round catches the few characters whose
/// lower case is itself a compatibility form, or whose compatibility form
/// has an upper-case letter (`ℌ` → `H`).
///
/// Unlike NFKC_Casefold it does not fold `ß` to `ss` nor drop default
/// ignorable characters: names cannot hold those, and `ß` is kept apart
/// from `ss`, as lower-casing always kept it.
pub(crate) fn name_key(name: &str) -> String {
    lower_case(&nfkc(&lower_case(&nfkc(name))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ignorables_match_unicode() {
        let ends = [
            0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180F, 0x200B, 0x200F,
            0x202A, 0x202E, 0x2060, 0x206F, 0x3164, 0xFE00, 0xFE0F, 0xFEFF, 0xFFA0, 0xFFF0, 0xFFF8,
            0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A, 0xE0000, 0xE0FFF,
        ];
        for code in ends {
            let c = char::from_u32(code).unwrap();
            assert!(is_default_ignorable(c), "U+{code:04X}");
        }
        let visible = [
            0x00AC, 0x00AE, 0x115E, 0x1161, 0x180A, 0x2010, 0x2800, 0xFE10, 0xFFF9, 0x1D172,
            0x1D17B, 0xE1000,
        ];
        for code in visible {
            let c = char::from_u32(code).unwrap();
            assert!(!is_default_ignorable(c), "U+{code:04X}");
        }
    }

    #[test]
    fn blanks_are_every_space_but_the_ordinary_one() {
        for c in [
            '\u{00A0}', '\u{2002}', '\u{2009}', '\u{202F}', '\u{3000}', '\u{2800}',
        ] {
            assert!(is_other_blank(c), "U+{:04X}", c as u32);
        }
        assert!(!is_other_blank(' '));
        assert!(!is_other_blank('a'));
    }

    #[test]
    fn keys_fold_case_composition_and_compatibility() {
        assert_eq!(name_key("ＡＤＭＩＮ"), "admin");
        assert_eq!(name_key("Zoe\u{0308}"), name_key("Zoë"));
        assert_eq!(name_key("ℌello"), "hello");
        assert_eq!(name_key("ﬁx"), "fix");
        assert_eq!(nfc("Zoe\u{0308}"), "Zoë");
        // The browser test `names_fold_to_lower_case_as_the_server_folds_them`
        // (client/src/state.rs) holds the web client to these same keys.
        for (name, key) in [
            ("ΣΑΣ_Σ", "σας_σ"),
            ("İstanbul", "i\u{307}stanbul"),
            ("ǅungla", "d\u{17E}ungla"),
            ("STRAẞE", "straße"),
            ("ᏣᎳᎩ", "ꮳꮃꭹ"),
            ("𐐀𐐨", "𐐨𐐨"),
            ("ℌﬁ", "hfi"),
            ("①", "1"),
        ] {
            assert_eq!(name_key(name), key, "{name}");
        }
        assert_eq!(nfc("Zoë"), "Zoë");
    }
}
