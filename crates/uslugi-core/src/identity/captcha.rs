//! A self-hosted captcha for sign-in after repeated failures: a short arithmetic question in
//! Russian words. It is text, so a screen reader reads it and no image or audio alternative is
//! needed, and it involves no third-party service. It slows scripted guessing down together with
//! the database-held throttles and the lockout; it is not meant to stop a determined bot alone.

const WORDS: [&str; 10] = [
    "ноль",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
];

/// A question and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// «Сколько будет семь плюс четыре?»
    pub question: String,
    /// «11».
    pub answer: String,
}

fn random_below(n: u32) -> u32 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 3 % n.max(1);
    }
    u32::from_le_bytes(b) % n.max(1)
}

/// A new random question.
pub fn challenge() -> Challenge {
    let a = random_below(9) + 1;
    let b = random_below(9) + 1;
    let (question, answer) = if random_below(2) == 0 || a < b {
        (
            format!(
                "Сколько будет {} плюс {}?",
                WORDS[a as usize], WORDS[b as usize]
            ),
            a + b,
        )
    } else {
        (
            format!(
                "Сколько будет {} минус {}?",
                WORDS[a as usize], WORDS[b as usize]
            ),
            a - b,
        )
    };
    Challenge {
        question,
        answer: answer.to_string(),
    }
}

/// Whether `given` answers the challenge (digits; spaces ignored).
pub fn check(expected: &str, given: &str) -> bool {
    let g: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    !expected.is_empty() && g == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_in_words_and_answers_are_right() {
        for _ in 0..200 {
            let c = challenge();
            assert!(c.question.starts_with("Сколько будет "));
            assert!(
                !c.question.chars().any(|ch| ch.is_ascii_digit()),
                "{}",
                c.question
            );
            let words: Vec<&str> = c.question.trim_end_matches('?').split(' ').collect();
            let n = |w: &str| WORDS.iter().position(|x| *x == w).unwrap() as i64;
            let (a, op, b) = (n(words[2]), words[3], n(words[4]));
            let expected = if op == "плюс" { a + b } else { a - b };
            assert!(expected >= 0);
            assert_eq!(c.answer, expected.to_string());
        }
    }

    #[test]
    fn answers_are_checked_exactly() {
        assert!(check("11", " 11 "));
        assert!(!check("11", "12"));
        assert!(!check("", ""));
    }
}
