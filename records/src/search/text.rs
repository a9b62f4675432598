//! Text as the search sees it: accent-folded lower-case words, their prefixes and inner
//! fragments, phone digits in every form people type, and highlighting. Shared by both adapters and by the highlighter, so
//! what is indexed and what is asked are normalised the same way.

use unicode_normalization::UnicodeNormalization;

/// Prefixes longer than this are not indexed: a query token longer than it is cut to it and
/// still matches (exactness then ranks the hits).
pub const MAX_PREFIX: usize = 20;

/// Typo tolerance (fuzzy distance 1) starts at this many characters.
pub const TYPO_MIN_CHARS: usize = 5;

/// A fragment inside a word is found from this many characters ("pon" finds Dupont); a shorter
/// token matches the start of words only (one or two letters occur inside almost every name).
pub const MIN_FRAGMENT: usize = 3;

/// Inner fragments are taken from this many first characters of a word: an e-mail address or a
/// code longer than it is still found by its start.
const MAX_FRAGMENT_SOURCE: usize = 32;

/// How a query token matches the words of a client (SRC-02, SRC-03, SRC-05).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum MatchMode {
    /// Anywhere in a word or a number from [`MIN_FRAGMENT`] characters ("pont" finds Dupont,
    /// "5678" finds 06 12 34 56 78), at the start for shorter tokens; one typo from
    /// [`TYPO_MIN_CHARS`].
    #[default]
    Contains,
    /// At the start of a word or a number («Début»); one typo from [`TYPO_MIN_CHARS`].
    Prefix,
    /// Whole words and whole numbers only, without typos («Validation»).
    Exact,
}

/// How a query matches: its mode, and whether phone digits match French numbers only (the seed's
/// «FR>»: a number entered in international format that is not French is then not found).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Matching {
    pub mode: MatchMode,
    pub french_phones: bool,
}

/// Lower-case, accents removed (`É` → `e`, `ß` → `ss`, `œ` → `oe`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The folded words of `text`: runs of letters and digits (`jean.dupont@x.fr` → jean, dupont, x, fr).
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Every prefix of `word` from one character up to [`MAX_PREFIX`] (edge n-grams).
pub fn prefixes(word: &str) -> impl Iterator<Item = &str> {
    word.char_indices()
        .skip(1)
        .map(|(i, _)| i)
        .chain(std::iter::once(word.len()))
        .take(MAX_PREFIX)
        .map(|end| &word[..end])
}

/// Every inner fragment of `word` (not starting at its first character: those are its
/// [`prefixes`]) of [`MIN_FRAGMENT`] to [`MAX_PREFIX`] characters, from its first
/// `MAX_FRAGMENT_SOURCE` characters. Each fragment once per word.
pub fn infixes(word: &str) -> Vec<&str> {
    let bounds: Vec<usize> =
        word.char_indices().map(|(i, _)| i).chain(std::iter::once(word.len())).take(MAX_FRAGMENT_SOURCE + 1).collect();
    let mut out = Vec::new();
    for start in 1..bounds.len() {
        for end in start + MIN_FRAGMENT..=(start + MAX_PREFIX).min(bounds.len() - 1) {
            out.push(&word[bounds[start]..bounds[end]]);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The fragments a search index that matches the start of words only (Meilisearch) finds inner
/// fragments by: every suffix of `word` from its second character, of [`MIN_FRAGMENT`]
/// characters or more. A token is then found inside a word as the start of one of them.
pub fn suffixes(word: &str) -> impl Iterator<Item = &str> {
    let n = word.chars().count();
    word.char_indices().skip(1).take(n.saturating_sub(MIN_FRAGMENT)).map(|(i, _)| &word[i..])
}

/// Cuts a query token to the longest indexed prefix.
pub fn clamp_prefix(token: &str) -> &str {
    match token.char_indices().nth(MAX_PREFIX) {
        Some((end, _)) => &token[..end],
        None => token,
    }
}

/// The digit forms a phone number is found by: its E.164 digits (`33612345678`), its national
/// form (`0612345678`), and the digits as typed.
pub fn phone_forms(typed: &str, e164: Option<&str>) -> Vec<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut forms = vec![digits(typed)];
    if let Some(e164) = e164 {
        forms.push(digits(e164));
        if let Ok(number) = phonenumber::parse(None, e164) {
            forms.push(digits(&number.format().mode(phonenumber::Mode::National).to_string()));
        }
    }
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

/// The national digits (`0612345678`) of a French number, the only ones «FR>» finds: `e164`
/// when known, else `typed` read as a French number (`06 12…`, `+33 6 12…`).
pub fn french_phone(typed: &str, e164: Option<&str>) -> Option<String> {
    let number = match e164 {
        Some(e164) => phonenumber::parse(None, e164).ok(),
        None => phonenumber::parse(Some(phonenumber::country::Id::FR), typed).ok(),
    }?;
    (number.code().value() == 33).then(|| {
        number.format().mode(phonenumber::Mode::National).to_string().chars().filter(char::is_ascii_digit).collect()
    })
}

/// Whether `token` is phone digits (as [`query_tokens`] makes of a number typed with spaces).
pub fn is_digits(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

/// A query split into tokens. A query made only of digits and phone punctuation
/// (`06 12`, `+33 6`, `(05) 12-34`) is one digit token, so a number typed with spaces matches.
pub fn query_tokens(query: &str) -> Vec<String> {
    let phone_like =
        query.chars().any(|c| c.is_ascii_digit()) && query.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c));
    if phone_like {
        return vec![query.chars().filter(char::is_ascii_digit).collect()];
    }
    let mut tokens = words(query);
    tokens.dedup();
    tokens.truncate(10); // a longer query narrows nothing more, and costs
    tokens
}

/// Edit distance of at most one: an insertion, a deletion, a substitution or a swap of two
/// neighbours (as tantivy's fuzzy query with transposition cost one).
fn within_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let i = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if short.len() < long.len() {
        return short[i..] == long[i + 1..];
    }
    if i >= short.len().saturating_sub(1) {
        return true;
    }
    let swapped = short[i] == long[i + 1] && short[i + 1] == long[i] && short[i + 2..] == long[i + 2..];
    swapped || short[i + 1..] == long[i + 1..]
}

/// Whether a folded `word` answers query `token` in `mode`: the whole word ([`MatchMode::Exact`]);
/// a prefix, or for tokens of [`TYPO_MIN_CHARS`] or more a prefix at one typo
/// ([`MatchMode::Prefix`]); or also a fragment of [`MIN_FRAGMENT`] characters or more inside it
/// ([`MatchMode::Contains`]).
pub fn word_matches(word: &str, token: &str, mode: MatchMode) -> bool {
    match mode {
        MatchMode::Exact => return word == token,
        MatchMode::Contains if token.chars().count() >= MIN_FRAGMENT && word.contains(token) => return true,
        MatchMode::Contains | MatchMode::Prefix => {}
    }
    if word.starts_with(token) {
        return true;
    }
    let n = token.chars().count();
    if n < TYPO_MIN_CHARS {
        return false;
    }
    // Compare with the word's prefixes of about the token's length (one more or less).
    word.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(word.len()))
        .filter(|end| (n.saturating_sub(1)..=n + 1).contains(&word[..*end].chars().count()))
        .any(|end| within_one(&word[..end], token))
}

/// `text` with every word that answers one of `tokens` in `mode` wrapped in `<em>…</em>`;
/// `None` when no word does. Digit tokens also light up a phone number whose digits answer them.
pub fn highlight(text: &str, tokens: &[String], mode: MatchMode) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if tokens.iter().any(|t| t.len() >= 2 && is_digits(t) && word_matches(&digits, t, mode))
        && text.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c))
    {
        return Some(format!("<em>{text}</em>"));
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut found = false;
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(char::is_alphanumeric).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        let word = &rest[..end];
        if !word.is_empty() {
            let folded = fold(word);
            if tokens.iter().any(|t| word_matches(&folded, t, mode)) {
                found = true;
                out.push_str("<em>");
                out.push_str(word);
                out.push_str("</em>");
            } else {
                out.push_str(word);
            }
        }
        rest = &rest[end..];
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_fold() {
        assert_eq!(fold("Éloïse Strauß Œuvre"), "eloise strauss oeuvre");
        assert_eq!(words("jean.dupont@Exemple.fr"), ["jean", "dupont", "exemple", "fr"]);
    }

    #[test]
    fn prefixes_start_at_one_character() {
        assert_eq!(prefixes("éa").collect::<Vec<_>>(), ["é", "éa"]);
        assert_eq!(prefixes("dupont").count(), 6);
        assert_eq!(prefixes(&"x".repeat(30)).count(), MAX_PREFIX);
        assert_eq!(clamp_prefix(&"y".repeat(30)).len(), MAX_PREFIX);
    }

    #[test]
    fn phones_are_found_in_every_form() {
        let forms = phone_forms("06 12 34 56 78", Some("+33612345678"));
        assert!(forms.contains(&"33612345678".to_owned()));
        assert!(forms.contains(&"0612345678".to_owned()));
        assert_eq!(forms.len(), 2, "typed digits are the national form here");
        assert_eq!(query_tokens("06 12"), ["0612"]);
        assert_eq!(query_tokens("+33612"), ["33612"]);
        assert_eq!(query_tokens("Dupont Jean"), ["dupont", "jean"]);
    }

    #[test]
    fn typos_are_tolerated_from_five_characters() {
        let prefix = |w, t| word_matches(w, t, MatchMode::Prefix);
        assert!(prefix("dupont", "dupnt"));
        assert!(prefix("martinez", "martni"));
        assert!(prefix("bernard", "bernad"));
        assert!(!prefix("dupont", "dupt"));
        assert!(!prefix("dupont", "xyzab"));
        assert!(within_one("abcd", "abxd") && within_one("abc", "abcd") && !within_one("abc", "acbd"));
    }

    #[test]
    fn highlights_wrap_matching_words() {
        let tokens = query_tokens("dup je");
        let prefix = MatchMode::Prefix;
        assert_eq!(highlight("Dupont, Jean", &tokens, prefix).as_deref(), Some("<em>Dupont</em>, <em>Jean</em>"));
        assert_eq!(highlight("Martin", &tokens, prefix), None);
        let phone = query_tokens("06 12");
        assert_eq!(highlight("06 12 34 56 78", &phone, prefix).as_deref(), Some("<em>06 12 34 56 78</em>"));
        let inner = query_tokens("34 56");
        assert_eq!(highlight("06 12 34 56 78", &inner, prefix), None);
        assert_eq!(
            highlight("06 12 34 56 78", &inner, MatchMode::Contains).as_deref(),
            Some("<em>06 12 34 56 78</em>")
        );
        assert_eq!(highlight("Dupont", &query_tokens("pont"), MatchMode::Contains).as_deref(), Some("<em>Dupont</em>"));
    }

    // SRC-02 SRC-03 SRC-05
    #[test]
    fn modes_match_fragments_starts_or_whole_words() {
        assert!(word_matches("dupont", "pont", MatchMode::Contains));
        assert!(!word_matches("dupont", "pont", MatchMode::Prefix));
        assert!(!word_matches("dupont", "on", MatchMode::Contains), "two letters match the start only");
        assert!(word_matches("dupont", "dupont", MatchMode::Exact));
        assert!(!word_matches("dupont", "dupon", MatchMode::Exact));
        assert!(!word_matches("dupont", "dupnt", MatchMode::Exact), "no typos in the exact mode");
    }

    #[test]
    fn fragments_cover_every_inner_substring_once() {
        assert_eq!(infixes("dupont"), ["ont", "pon", "pont", "upo", "upon", "upont"]);
        assert!(infixes("ab").is_empty());
        assert!(infixes("éléphant").contains(&"léph"));
        assert!(infixes(&"x".repeat(60)).iter().all(|f| f.len() <= MAX_PREFIX));
        assert_eq!(suffixes("dupont").collect::<Vec<_>>(), ["upont", "pont", "ont"]);
        assert_eq!(suffixes("abc").count(), 0);
    }

    #[test]
    fn french_numbers_are_told_from_foreign_ones() {
        assert_eq!(french_phone("06 12 34 56 78", Some("+33612345678")).as_deref(), Some("0612345678"));
        assert_eq!(french_phone("05.56.57.58.59", None).as_deref(), Some("0556575859"));
        assert_eq!(french_phone("+44 7700 900123", Some("+447700900123")), None);
    }
}
