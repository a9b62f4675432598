//! Text as the search sees it: accent-folded lower-case words, their prefixes, phone digits in
//! every form people type, and highlighting. Shared by both adapters and by the highlighter, so
//! what is indexed and what is asked are normalised the same way.

use unicode_normalization::UnicodeNormalization;

/// Prefixes longer than this are not indexed: a query token longer than it is cut to it and
/// still matches (exactness then ranks the hits).
pub const MAX_PREFIX: usize = 20;

/// Typo tolerance (fuzzy distance 1) starts at this many characters.
pub const TYPO_MIN_CHARS: usize = 5;

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

/// Whether a folded `word` answers query `token`: a prefix, or for tokens of
/// [`TYPO_MIN_CHARS`] or more, a prefix at one typo.
pub fn word_matches(word: &str, token: &str) -> bool {
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

/// `text` with every word that answers one of `tokens` wrapped in `<em>…</em>`; `None` when no
/// word does. Digit tokens also light up a phone number whose digits start with them.
pub fn highlight(text: &str, tokens: &[String]) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if tokens.iter().any(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_digit()) && digits.starts_with(t.as_str()))
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
            if tokens.iter().any(|t| word_matches(&folded, t)) {
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
        assert!(word_matches("dupont", "dupnt"));
        assert!(word_matches("martinez", "martni"));
        assert!(word_matches("bernard", "bernad"));
        assert!(!word_matches("dupont", "dupt"));
        assert!(!word_matches("dupont", "xyzab"));
        assert!(within_one("abcd", "abxd") && within_one("abc", "abcd") && !within_one("abc", "acbd"));
    }

    #[test]
    fn highlights_wrap_matching_words() {
        let tokens = query_tokens("dup je");
        assert_eq!(highlight("Dupont, Jean", &tokens).as_deref(), Some("<em>Dupont</em>, <em>Jean</em>"));
        assert_eq!(highlight("Martin", &tokens), None);
        assert_eq!(highlight("06 12 34 56 78", &query_tokens("06 12")).as_deref(), Some("<em>06 12 34 56 78</em>"));
    }
}
