//! Numbers as people read them: digits grouped by thousands, and counted nouns.

/// `12345` → `12,345`; as large as a sum of sizes gets.
pub fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `1 backup`, `2,500 backups`.
pub fn plural(count: u64, noun: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{} {noun}{s}", grouped(u128::from(count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(plural(0, "backup"), "0 backups");
        assert_eq!(plural(1, "page"), "1 page");
        assert_eq!(plural(2500, "backup"), "2,500 backups");
        assert_eq!(plural(1_234_567, "backup"), "1,234,567 backups");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(12_345), "12,345");
        assert_eq!(
            grouped(u128::from(u64::MAX) * 2),
            "36,893,488,147,419,103,230"
        );
    }
}
