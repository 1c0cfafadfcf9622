//! The key that owns a name: look-alike names share it, so an account's
//! name cannot be imitated by another account (or, later, a guest).
//!
//! [`Nick::key`] already folds case, compatibility forms (full-width,
//! mathematical letters) and encodings; this adds UTS #39's confusable
//! skeleton, which maps letters of other scripts that look alike
//! (Cyrillic `А`, Greek `Α`) and digits such as `0` to one prototype.

use natter_shared::Nick;
use unicode_security::confusable_detection::skeleton;

/// The key of `nick` among accounts: the lower-cased confusable skeleton
/// of [`Nick::key`]. The skeleton may map a lower-case letter to an
/// upper-case prototype (`0` to `O`), hence the lower-casing after it.
pub(crate) fn name_key(nick: &Nick) -> String {
    skeleton(&nick.key()).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> String {
        name_key(&Nick::try_from(name.to_owned()).unwrap())
    }

    #[test]
    fn look_alike_names_share_a_key() {
        let ada = key("Ada");
        for twin in [
            "ada",
            "ADA",
            "\u{410}da",
            "\u{1D400}da",
            "Ａｄａ",
            "\u{391}da",
        ] {
            assert_eq!(key(twin), ada, "{twin}");
        }
        assert_eq!(key("b0b"), key("bob"));
        assert_eq!(key("Zoë"), key("Zoe\u{308}"));
        assert_ne!(key("Ada"), key("Adam"));
        assert_ne!(key("Ada"), key("Eda"));
        assert_ne!(key("张伟"), key("张三"));
    }
}
