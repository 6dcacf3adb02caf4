//! Companies: their names, and Odoo's company switcher: which company new records go to
//! (the current one) and whose records are shown (the active ones).

use crate::domain::FieldError;

pub const NAME_MAX: usize = 128;

/// A company's name: trimmed, 1 to [`NAME_MAX`] characters.
pub fn parse_name(name: &str) -> Result<String, FieldError> {
    super::text::line("name", name, NAME_MAX)
}

/// The companies a session works in. `current` is always one of `active`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCompanies {
    pub current: i64,
    pub active: Vec<i64>,
}

impl WorkingCompanies {
    /// Clicking a company's name works in it alone; ticking its box (`toggle`) adds it to
    /// the active companies, or removes it. The last active company cannot be unticked, and
    /// unticking the current one makes the next active company current.
    pub fn switch(&self, company: i64, toggle: bool) -> WorkingCompanies {
        if !toggle {
            return WorkingCompanies {
                current: company,
                active: vec![company],
            };
        }
        if !self.active.contains(&company) {
            let mut active = self.active.clone();
            active.push(company);
            return WorkingCompanies {
                current: self.current,
                active,
            };
        }
        let rest: Vec<i64> = self
            .active
            .iter()
            .copied()
            .filter(|&c| c != company)
            .collect();
        match rest.first() {
            None => self.clone(),
            Some(&first) if company == self.current => WorkingCompanies {
                current: first,
                active: rest,
            },
            Some(_) => WorkingCompanies {
                current: self.current,
                active: rest,
            },
        }
    }
}

impl WorkingCompanies {
    /// The working companies once the user belongs to `allowed` only: the companies they
    /// left are no longer shown, nor current. When none is left, `fallback` (their default
    /// company, one of `allowed`) alone.
    pub fn within(&self, allowed: &[i64], fallback: i64) -> WorkingCompanies {
        let active: Vec<i64> = self
            .active
            .iter()
            .copied()
            .filter(|c| allowed.contains(c))
            .collect();
        match active.first() {
            None => WorkingCompanies {
                current: fallback,
                active: vec![fallback],
            },
            Some(_) if active.contains(&self.current) => WorkingCompanies {
                current: self.current,
                active,
            },
            Some(&first) => WorkingCompanies {
                current: first,
                active,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Msg;

    fn working(current: i64, active: &[i64]) -> WorkingCompanies {
        WorkingCompanies {
            current,
            active: active.to_vec(),
        }
    }

    #[test]
    fn clicking_a_company_works_in_it_alone() {
        assert_eq!(working(1, &[1, 2]).switch(2, false), working(2, &[2]));
    }

    #[test]
    fn ticking_adds_a_company_and_keeps_the_current_one() {
        assert_eq!(working(1, &[1]).switch(2, true), working(1, &[1, 2]));
    }

    #[test]
    fn unticking_removes_it_and_the_next_one_becomes_current_if_needed() {
        assert_eq!(working(1, &[1, 2]).switch(2, true), working(1, &[1]));
        assert_eq!(working(1, &[1, 2]).switch(1, true), working(2, &[2]));
    }

    #[test]
    fn the_last_active_company_cannot_be_unticked() {
        assert_eq!(working(1, &[1]).switch(1, true), working(1, &[1]));
    }

    #[test]
    fn leaving_companies_drops_them_from_the_working_ones() {
        assert_eq!(working(1, &[1, 2]).within(&[1, 3], 3), working(1, &[1]));
        assert_eq!(working(2, &[1, 2]).within(&[1], 1), working(1, &[1]));
        assert_eq!(working(2, &[2]).within(&[3, 4], 4), working(4, &[4]));
        assert_eq!(working(1, &[1, 2]).within(&[1, 2], 1), working(1, &[1, 2]));
    }

    #[test]
    fn a_company_name_is_trimmed_and_bounded() {
        assert_eq!(parse_name("  Acme Ltd ").as_deref(), Ok("Acme Ltd"));
        assert_eq!(
            parse_name(" ").map_err(|e| e.message),
            Err(Msg::ErrRequired)
        );
        assert_eq!(
            parse_name(&"a".repeat(129)).map_err(|e| e.message),
            Err(Msg::ErrTooLong)
        );
    }
}
