//! Languages an organisation or user can choose (FEATURES.md ORG-12).

/// BCP 47 tags; messages to people are written in en, fr and de first.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
    sea_orm::DeriveValueType,
)]
#[sea_orm(value_type = "String", to_str = "<&'static str>::from")] // stored as its tag
pub enum Language {
    #[strum(serialize = "de")]
    De,
    #[strum(serialize = "cs")]
    Cs,
    #[default]
    #[strum(serialize = "en-US")]
    EnUs,
    #[strum(serialize = "es")]
    Es,
    #[strum(serialize = "fr")]
    Fr,
    #[strum(serialize = "hu")]
    Hu,
    #[strum(serialize = "it")]
    It,
    #[strum(serialize = "ja")]
    Ja,
    #[strum(serialize = "nl")]
    Nl,
    #[strum(serialize = "pl")]
    Pl,
    #[strum(serialize = "pt-BR")]
    PtBr,
    #[strum(serialize = "ru")]
    Ru,
    #[strum(serialize = "tr")]
    Tr,
    #[strum(serialize = "zh-Hans")]
    ZhHans,
}

impl Language {
    pub fn tag(self) -> &'static str {
        self.into()
    }
}
