//! Payloads of exact byte sizes, and the students `put` sends.

use clap::ValueEnum;
use rand::distributions::Alphanumeric;
use rand::Rng;
use thrift_frame_idl::student::Student;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PayloadKind {
    /// Random `[A-Za-z0-9]`.
    Alnum,
    /// Random 1-, 2-, 3- and 4-byte UTF-8 characters.
    Utf8,
}

/// A random string of exactly `size` UTF-8 bytes.
pub fn generate(kind: PayloadKind, size: usize, rng: &mut impl Rng) -> String {
    match kind {
        PayloadKind::Alnum => rng
            .sample_iter(&Alphanumeric)
            .take(size)
            .map(char::from)
            .collect(),
        PayloadKind::Utf8 => {
            // One character of each encoded length; pick any that still fits.
            const CHARS: [char; 4] = ['a', 'é', '€', '🎓'];
            let mut s = String::with_capacity(size);
            while s.len() < size {
                let room = (size - s.len()).min(4);
                let c = CHARS[rng.gen_range(0..room)];
                s.push(c);
            }
            s
        }
    }
}

/// The student for the `n`-th put: every field varies with `n`, and every
/// third name carries multi-byte UTF-8.
pub fn student(n: i32) -> Student {
    let mut name = format!("student-{n}");
    if n % 3 == 0 {
        name.push_str("-学生-é");
    }
    Student::new(n, name, n % 2 == 0, (n % 100) as i16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_exact_byte_sizes() {
        let mut rng = rand::thread_rng();
        for kind in [PayloadKind::Alnum, PayloadKind::Utf8] {
            for size in [0, 1, 2, 3, 5, 4096, 131072] {
                let p = generate(kind, size, &mut rng);
                assert_eq!(p.len(), size, "{kind:?} {size}");
            }
        }
        let alnum = generate(PayloadKind::Alnum, 1000, &mut rng);
        assert!(alnum.bytes().all(|b| b.is_ascii_alphanumeric()));
        let utf8 = generate(PayloadKind::Utf8, 1000, &mut rng);
        assert!(
            utf8.chars().count() < 1000,
            "expected multi-byte characters"
        );
    }

    #[test]
    fn students_vary() {
        let a = student(3);
        let b = student(4);
        assert_eq!(a.sno, Some(3));
        assert!(a
            .sname
            .as_deref()
            .is_some_and(|s| s.len() > s.chars().count()));
        assert_ne!(a.ssex, b.ssex);
        assert_ne!(a.sage, b.sage);
    }
}
