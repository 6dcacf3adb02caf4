//! Odoo's company switcher: which company new records go to (the current one) and whose
//! records are shown (the active ones).

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
