//! The course's movie list, embedded in the binary (nothing reads files at run time).

use std::sync::OnceLock;

use crate::rng::Rng;

/// The raw `movies.txt`, one title a line.
pub const MOVIES_TXT: &str = include_str!("../movies.txt");

/// All titles, trimmed, blank lines skipped.
pub fn all() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| MOVIES_TXT.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// A random title, different from `current` when there is a choice.
pub fn pick(rng: &mut Rng, current: Option<&str>) -> &'static str {
    let list = all();
    let i = rng.below(list.len() as u64) as usize;
    if Some(list[i]) == current && list.len() > 1 {
        list[(i + 1) % list.len()]
    } else {
        list[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_the_course_titles() {
        assert_eq!(all().len(), 2600);
        assert_eq!(all()[0], "Jurassic World");
    }

    #[test]
    fn pick_changes_the_favorite() {
        let mut r = Rng::new(1);
        let mut cur = pick(&mut r, None);
        for _ in 0..1000 {
            let next = pick(&mut r, Some(cur));
            assert_ne!(next, cur);
            cur = next;
        }
    }
}
