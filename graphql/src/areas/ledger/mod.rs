//! A client's ledger: entries and balance, cards, beneficiaries, referral rewards.

pub mod beneficiaries;
pub mod cards;
pub mod entries;
pub mod referral;
