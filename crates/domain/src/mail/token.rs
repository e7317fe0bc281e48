//! Signed case tokens: `[#123-k7q2xzab]` in a subject, `support+123-k7q2xzab@example.com` as
//! a reply address. The signature is what lets a reply find its case when its headers do
//! not: a case number alone is easy to guess, so a bare `[#123]` or a wrong signature
//! attaches nothing.
//!
//! The signature is HMAC-SHA256 over the case number with a server secret, truncated to 40
//! bits and written in lower-case base32. 40 bits make a forgery a trillion-guess job at one
//! email per guess (and the rate limit), while the tag stays short in a subject. Base32
//! because mail systems lower-case addresses (so does [`Email`]): a case-sensitive alphabet
//! would not survive the trip. The token only routes mail; whether the sender may comment on
//! the case is checked separately.

use crate::{CaseId, Email, ParseError};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Characters of signature in a token (5 bytes of HMAC, base32).
pub const SIGNATURE_CHARS: usize = 8;
const SIGNATURE_BYTES: usize = SIGNATURE_CHARS * 5 / 8;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Separates this use of the secret from any other the server may find for it.
const CONTEXT: &[u8] = b"backline case token v1:";

/// The server's secret for case tokens. Changing it invalidates every token in mail already
/// sent (replies then thread by their headers only), so it is generated once and kept.
#[derive(Clone, PartialEq, Eq)]
pub struct CaseTokenSecret(Vec<u8>);

impl CaseTokenSecret {
    /// 32 bytes: as long as the HMAC's own output, the most a key can usefully hold.
    pub const MIN_BYTES: usize = 32;

    pub fn new(bytes: Vec<u8>) -> Result<Self, ParseError> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(ParseError(format!(
                "the case token secret must be at least {} random bytes",
                Self::MIN_BYTES
            )));
        }
        Ok(Self(bytes))
    }

    fn mac(&self, case: CaseId) -> Hmac<Sha256> {
        self.mac_for(CONTEXT, case)
    }

    fn mac_for(&self, context: &[u8], case: CaseId) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(context);
        mac.update(case.0.to_string().as_bytes());
        mac
    }
}

impl fmt::Debug for CaseTokenSecret {
    /// Never prints the secret (it ends up in logs otherwise).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CaseTokenSecret(..)")
    }
}

/// A case number with its signature, written `123-k7q2xzab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseToken {
    case: CaseId,
    signature: String,
}

impl CaseToken {
    pub fn case(&self) -> CaseId {
        self.case
    }

    /// The subject tag: `[#123-k7q2xzab]`.
    pub fn subject_tag(&self) -> String {
        format!("[#{self}]")
    }

    /// Our mailbox with the token as subaddress: `support@example.com` becomes
    /// `support+123-k7q2xzab@example.com`. (An address that would grow past the length an
    /// address may have stays as it was; the subject still carries the token.)
    pub fn reply_address(&self, mailbox: &Email) -> Email {
        Email::parse(&format!(
            "{}+{self}@{}",
            mailbox.local_part(),
            mailbox.domain()
        ))
        .unwrap_or_else(|_| mailbox.clone())
    }
}

impl fmt::Display for CaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.case, self.signature)
    }
}

/// Signs a case number. Cases are numbered from 1; a token for any other number is made but
/// never verifies, because the number would not read back.
pub fn sign_case_token(secret: &CaseTokenSecret, case: CaseId) -> CaseToken {
    let tag = secret.mac(case).finalize().into_bytes();
    CaseToken {
        case,
        signature: base32(&tag[..SIGNATURE_BYTES]),
    }
}

/// The case a token text (`123-k7q2xzab`) names, if its signature is right. The comparison
/// takes the same time however many characters match, so timing tells a forger nothing.
pub fn verify_case_token(secret: &CaseTokenSecret, text: &str) -> Option<CaseId> {
    let (number, signature) = text.split_once('-')?;
    let case = case_number(number)?;
    let claimed = from_base32(signature)?;
    secret.mac(case).verify_truncated_left(&claimed).ok()?;
    Some(case)
}

/// Separates rating links from case tokens: a token seen in a subject line cannot rate.
const RATING_CONTEXT: &[u8] = b"backline rating link v1:";
/// A rating link is clicked, not typed, and has no mail rate limit in front of it: 80 bits.
const RATING_SIGNATURE_BYTES: usize = 10;

/// The token of the satisfaction link in a solved case's mail (`123-` and 16 characters): it
/// lets the requester rate without signing in, and does nothing else.
pub fn sign_rating_token(secret: &CaseTokenSecret, case: CaseId) -> String {
    let tag = secret.mac_for(RATING_CONTEXT, case).finalize().into_bytes();
    format!("{case}-{}", base32(&tag[..RATING_SIGNATURE_BYTES]))
}

/// The case a rating token names, if its signature is right.
pub fn verify_rating_token(secret: &CaseTokenSecret, text: &str) -> Option<CaseId> {
    let (number, signature) = text.split_once('-')?;
    let case = case_number(number)?;
    if signature.len() != RATING_SIGNATURE_BYTES * 8 / 5 {
        return None;
    }
    let claimed = decode_base32(signature)?;
    secret
        .mac_for(RATING_CONTEXT, case)
        .verify_truncated_left(&claimed)
        .ok()?;
    Some(case)
}

/// The case a message's token names: first in the addresses it was sent to (where the reply
/// button put it, and what a person rarely edits), then in the subject; the first token that
/// verifies wins. A bare `[#123]` and a wrong signature are ignored.
pub fn find_case_token(
    subject: &str,
    addresses: &[Email],
    secret: &CaseTokenSecret,
) -> Option<CaseId> {
    addresses
        .iter()
        .filter_map(|address| address.local_part().rsplit_once('+'))
        .find_map(|(_, subaddress)| verify_case_token(secret, subaddress))
        .or_else(|| {
            subject_tags(subject).find_map(|candidate| verify_case_token(secret, candidate))
        })
}

/// The texts inside every `[#...]` of a subject.
fn subject_tags(subject: &str) -> impl Iterator<Item = &str> {
    subject
        .split("[#")
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(inside, _)| inside))
}

/// A case number as we write it: digits, no sign, no leading zero, above zero.
fn case_number(text: &str) -> Option<CaseId> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(CaseId)
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Exactly [`SIGNATURE_CHARS`] base32 characters, either case, to their bytes.
fn from_base32(text: &str) -> Option<[u8; SIGNATURE_BYTES]> {
    if text.len() != SIGNATURE_CHARS {
        return None;
    }
    let mut value: u64 = 0;
    for c in text.bytes() {
        let digit = BASE32.iter().position(|&b| b == c.to_ascii_lowercase())?;
        value = (value << 5) | digit as u64;
    }
    let mut out = [0u8; SIGNATURE_BYTES];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = (value >> (8 * (SIGNATURE_BYTES - 1 - i))) as u8;
    }
    Some(out)
}

/// Base32 text whose length is a whole number of 8-character groups, to its bytes.
fn decode_base32(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(8) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let digit = BASE32.iter().position(|&b| b == c.to_ascii_lowercase())?;
        buffer = (buffer << 5) | digit as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rating_tokens_verify_only_for_their_case_and_are_not_case_tokens() {
        let s = secret();
        let token = sign_rating_token(&s, CaseId(123));
        assert_eq!(token.len(), "123-".len() + 16);
        assert_eq!(verify_rating_token(&s, &token), Some(CaseId(123)));
        let (_, signature) = token.split_once('-').unwrap();
        assert_eq!(verify_rating_token(&s, &format!("124-{signature}")), None);
        assert_eq!(verify_rating_token(&s, &token[..token.len() - 1]), None);
        // A case token (as seen in any subject line) does not rate, nor the other way round.
        let case_token = sign_case_token(&s, CaseId(123)).to_string();
        assert_eq!(verify_rating_token(&s, &case_token), None);
        assert_eq!(verify_case_token(&s, &token), None);
        assert_eq!(decode_base32("mzxw6ytb"), Some(b"fooba".to_vec()));
    }

    fn secret() -> CaseTokenSecret {
        CaseTokenSecret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    #[test]
    fn base32_matches_rfc_4648_in_lower_case() {
        // RFC 4648 section 10 test vectors, without padding.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foo"), "mzxw6");
        assert_eq!(base32(b"foob"), "mzxw6yq");
        assert_eq!(base32(b"fooba"), "mzxw6ytb");
        assert_eq!(from_base32("mzxw6ytb"), Some(*b"fooba"));
        assert_eq!(from_base32("MZXW6YTB"), Some(*b"fooba"));
        assert_eq!(from_base32("mzxw6yt"), None);
        assert_eq!(from_base32("mzxw6yt1"), None);
    }

    #[test]
    fn the_signature_is_the_truncated_hmac() {
        // Computed independently (Python's hmac and base64 modules): HMAC-SHA256 with the
        // 32 bytes above as key over "backline case token v1:123" starts 3c 3d 67 26 c3,
        // which is HQ6WOJWD in base32.
        let token = sign_case_token(&secret(), CaseId(123));
        assert_eq!(token.signature, "hq6wojwd");
        assert_eq!(token.to_string(), format!("123-{}", token.signature));
        assert_eq!(token.subject_tag(), format!("[#123-{}]", token.signature));
        assert_eq!(token.case(), CaseId(123));
    }

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let s = secret();
        let token = sign_case_token(&s, CaseId(123)).to_string();
        assert_eq!(verify_case_token(&s, &token), Some(CaseId(123)));
        assert_eq!(
            verify_case_token(&s, &token.to_uppercase()),
            Some(CaseId(123))
        );
        // The same signature on another case, a guessed signature, a bare number, a padded
        // number: none of them.
        let signature = token.split_once('-').unwrap().1;
        assert_eq!(verify_case_token(&s, &format!("124-{signature}")), None);
        assert_eq!(verify_case_token(&s, &format!("0123-{signature}")), None);
        assert_eq!(verify_case_token(&s, "123-aaaaaaaa"), None);
        assert_eq!(verify_case_token(&s, "123"), None);
        assert_eq!(verify_case_token(&s, "123-"), None);
        assert_eq!(verify_case_token(&s, &format!("+123-{signature}")), None);
        // Another server's secret.
        let other = CaseTokenSecret::new(vec![7; 32]).unwrap();
        assert_eq!(verify_case_token(&other, &token), None);
    }

    #[test]
    fn tokens_are_found_in_addresses_before_subjects() {
        let s = secret();
        let t12 = sign_case_token(&s, CaseId(12));
        let t34 = sign_case_token(&s, CaseId(34));
        let support = Email::parse("support@example.com").unwrap();
        let address = t12.reply_address(&support);
        assert_eq!(
            address.as_str(),
            format!("support+12-{}@example.com", t12.signature)
        );
        let subject = format!("Re: {} Printer on fire", t34.subject_tag());
        assert_eq!(find_case_token(&subject, &[], &s), Some(CaseId(34)));
        assert_eq!(
            find_case_token(&subject, std::slice::from_ref(&address), &s),
            Some(CaseId(12))
        );
        // A token in an address that is not ours still verifies: only we can sign.
        let bob = Email::parse("bob@customer.test").unwrap();
        assert_eq!(
            find_case_token("Hi", &[bob.clone(), address], &s),
            Some(CaseId(12))
        );
        assert_eq!(find_case_token("Re: [#12] Printer", &[bob], &s), None);
        assert_eq!(
            find_case_token(
                &format!("[#12-aaaaaaaa] [#34] {}", t34.subject_tag()),
                &[],
                &s
            ),
            Some(CaseId(34))
        );
        // A mailbox that already has a subaddress keeps it; the token is the last one.
        let eu = Email::parse("help+eu@example.com").unwrap();
        let reply = t12.reply_address(&eu);
        assert!(reply.as_str().starts_with("help+eu+12-"));
        assert_eq!(find_case_token("", &[reply], &s), Some(CaseId(12)));
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert!(CaseTokenSecret::new(vec![1; 31]).is_err());
        assert_eq!(format!("{:?}", secret()), "CaseTokenSecret(..)");
    }

    proptest! {
        #[test]
        fn every_case_round_trips(case in 1i64..=i64::MAX, flip in 0usize..SIGNATURE_CHARS) {
            let s = secret();
            let token = sign_case_token(&s, CaseId(case));
            prop_assert_eq!(verify_case_token(&s, &token.to_string()), Some(CaseId(case)));
            prop_assert_eq!(
                find_case_token(&format!("Re: {}", token.subject_tag()), &[], &s),
                Some(CaseId(case))
            );
            // Changing any one character of the signature breaks it.
            let mut signature: Vec<u8> = token.signature.clone().into_bytes();
            signature[flip] = if signature[flip] == b'a' { b'b' } else { b'a' };
            let forged = format!("{case}-{}", String::from_utf8(signature).unwrap());
            prop_assert_eq!(verify_case_token(&s, &forged), None);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,80}") {
            let _ = verify_case_token(&secret(), &text);
            let _ = find_case_token(&text, &[], &secret());
        }
    }
}
