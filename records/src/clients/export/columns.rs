//! The columns of client exports: typed cells, every core field a user expects (EXP-01,
//! EXP-09) with the domain field imports map it back to, then the tenant's custom fields.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::clients::addresses::{self, Address, AddressKind};
use crate::clients::custom_fields::CustomFieldDef;
use crate::clients::entity::{category, group};
use crate::clients::fields::{FIELDS, FieldSpec, FieldValue, Header, Kind, Target};
use crate::clients::ledger;
use crate::clients::model::Client;
use crate::clients::service::client_field_defs;
use clientele_kernel::Money;
use clientele_kernel::error::AppResult;
use clientele_kernel::fields::FieldType;
use clientele_kernel::ids::{CategoryId, ClientId, GroupId};
use clientele_kernel::language::Language;
use clientele_kernel::tenancy::TenantTx;

/// One cell, typed so spreadsheets get numbers, dates and booleans rather than text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Amount(Money),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

impl Cell {
    pub(crate) fn text(value: Option<&str>) -> Self {
        value.map_or(Self::Empty, |v| Self::Text(v.to_owned()))
    }

    /// A stored enum value as its GraphQL name (`ACTIVE`, `EN_US`): what imports read back.
    fn name(stored: &str) -> Self {
        Self::Text(stored.replace('-', "_").to_uppercase())
    }

    /// The cell as CSV text: ISO dates, `true`/`false`, decimal amounts.
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Self::Empty => Cow::Borrowed(""),
            Self::Text(s) => Cow::Borrowed(s),
            Self::Int(n) => Cow::Owned(n.to_string()),
            Self::Amount(m) => Cow::Owned(m.to_decimal_string()),
            Self::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Self::Date(d) => Cow::Owned(d.to_string()),
            Self::DateTime(at) => Cow::Owned(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }
    }
}

/// Names of the tenant's categories and groups, by id.
pub(crate) struct Names {
    pub categories: HashMap<CategoryId, String>,
    pub groups: HashMap<GroupId, String>,
}

impl Names {
    /// Both lists are small per tenant: loaded whole, once per export or import.
    pub(crate) async fn load(tx: &TenantTx) -> AppResult<Self> {
        let categories = category::Entity::find().filter(category::Column::TenantId.eq(tx.tenant())).all(tx.conn());
        let categories = categories.await?.into_iter().map(|c| (c.id, c.name)).collect();
        let groups = group::Entity::find().filter(group::Column::TenantId.eq(tx.tenant())).all(tx.conn());
        let groups = groups.await?.into_iter().map(|g| (g.id, g.name)).collect();
        Ok(Self { categories, groups })
    }
}

/// What a page of an export reads besides its clients: each client's default main address and
/// its balance (EXP-01's address and balance columns), one query each per page.
pub(crate) struct PageData {
    addresses: HashMap<ClientId, Address>,
    balances: HashMap<ClientId, Money>,
}

impl PageData {
    pub(crate) async fn load(tx: &TenantTx, clients: &[Client]) -> AppResult<Self> {
        let ids: Vec<ClientId> = clients.iter().map(|c| c.id).collect();
        let mut addresses = HashMap::new();
        // Default addresses come first: the first main address of a client is the one shown.
        for a in addresses::of_clients(tx, &ids).await?.into_iter().filter(|a| a.kind == AddressKind::Main) {
            addresses.entry(a.client).or_insert(a);
        }
        Ok(Self { addresses, balances: ledger::balances(tx, &ids).await? })
    }

    fn address(&self, c: &Client, part: fn(&Address) -> Option<&String>) -> Cell {
        Cell::text(self.addresses.get(&c.id).and_then(part).map(String::as_str))
    }
}

/// What a column's value may come from: the client, the tenant's names, the page's data.
pub(crate) struct Known<'a> {
    names: &'a Names,
    page: &'a PageData,
}

/// A core column: its header, the domain field imports map it back to, and its value.
pub(crate) struct CoreColumn {
    pub header: Header,
    pub field: Option<&'static str>,
    get: Get,
}

enum Get {
    /// A field of the client table.
    Field(&'static FieldSpec),
    /// A hand-written field, or one no import sets.
    Hand(Getter),
}

type Getter = fn(&Client, &Known<'_>) -> Cell;

const fn header(en: &'static str, fr: &'static str) -> Header {
    Header { en, fr }
}

/// The hand-written core columns: place in the file, header, domain field, value. The address
/// and balance columns are for reading: an import does not set them.
const HAND_COLUMNS: [(u8, Header, Option<&str>, Getter); 12] = [
    (0, header("Number", "Numéro"), None, |c, _| Cell::Int(c.number)),
    (1, header("Code", "Code"), Some("code"), |c, _| Cell::Text(c.code.clone())),
    (3, header("Kind", "Type"), Some("kind"), |c, _| Cell::name(c.kind.as_str())),
    (9, header("Mobile", "Portable"), Some("mobile"), |c, _| Cell::text(c.mobile.as_ref().map(|p| p.typed.as_str()))),
    (10, header("Home phone", "Téléphone"), Some("home_phone"), |c, _| {
        Cell::text(c.home_phone.as_ref().map(|p| p.typed.as_str()))
    }),
    (11, header("Work phone", "Téléphone professionnel"), Some("work_phone"), |c, _| {
        Cell::text(c.work_phone.as_ref().map(|p| p.typed.as_str()))
    }),
    (21, header("Created at", "Créé le"), None, |c, _| Cell::DateTime(c.created_at)),
    (22, header("Street", "Rue"), None, |c, k| k.page.address(c, |a| a.street.as_ref())),
    (23, header("Postcode", "Code postal"), None, |c, k| k.page.address(c, |a| a.postcode.as_ref())),
    (24, header("City", "Ville"), None, |c, k| k.page.address(c, |a| a.city.as_ref())),
    (25, header("Country", "Pays"), None, |c, k| k.page.address(c, |a| a.country.as_ref())),
    (26, header("Balance", "Solde"), None, |c, k| {
        Cell::Amount(k.page.balances.get(&c.id).copied().unwrap_or(Money(0)))
    }),
];

/// Every core column, EXP-01 and EXP-09's among them, in file order: the hand-written ones and
/// the client table's fields that have an export column.
pub(crate) static CORE_COLUMNS: LazyLock<Vec<CoreColumn>> = LazyLock::new(|| {
    let hand =
        HAND_COLUMNS.iter().map(|&(at, header, field, get)| (at, CoreColumn { header, field, get: Get::Hand(get) }));
    let table = FIELDS.iter().filter_map(|spec| {
        let (at, header) = spec.export?;
        let field = (spec.input && spec.import).then_some(spec.name);
        Some((at, CoreColumn { header, field, get: Get::Field(spec) }))
    });
    let mut columns: Vec<_> = hand.chain(table).collect();
    columns.sort_by_key(|(at, _)| *at);
    columns.into_iter().map(|(_, c)| c).collect()
});

impl CoreColumn {
    /// Whether `header` names this column, in either language (what imports read back).
    pub(crate) fn is_named(&self, header: &str) -> bool {
        self.header.en.eq_ignore_ascii_case(header) || self.header.fr.to_lowercase() == header.to_lowercase()
    }

    fn cell(&self, c: &Client, known: &Known<'_>) -> Cell {
        let names = known.names;
        match self.get {
            Get::Hand(get) => get(c, known),
            Get::Field(spec) => match ((spec.get)(c), spec.kind) {
                (FieldValue::Id(id), Kind::Ref(Target::Category)) => {
                    Cell::text(names.categories.get(&CategoryId(id)).map(String::as_str))
                }
                (FieldValue::Id(id), Kind::Ref(Target::Group)) => {
                    Cell::text(names.groups.get(&GroupId(id)).map(String::as_str))
                }
                (FieldValue::Null, _) => Cell::Empty,
                (FieldValue::Text(s) | FieldValue::Decimal(s), _) => Cell::Text(s),
                (FieldValue::Choice(s), _) => Cell::name(&s),
                (FieldValue::Bool(b), _) => Cell::Bool(b),
                (FieldValue::Int(n), _) => Cell::Int(n),
                (FieldValue::Date(d), _) => Cell::Date(d),
                (FieldValue::Id(id), _) => Cell::Text(id.to_string()),
            },
        }
    }
}

/// The header of a custom field's column: its label, unless another column already has it.
pub(crate) fn custom_header(def: &CustomFieldDef, taken: &[String]) -> String {
    if taken.iter().any(|h| h.eq_ignore_ascii_case(&def.label)) {
        format!("{} ({})", def.label, def.key)
    } else {
        def.label.clone()
    }
}

fn custom_cell(def: &CustomFieldDef, value: Option<&Value>) -> Cell {
    match (def.kind, value) {
        (_, None | Some(Value::Null)) => Cell::Empty,
        (FieldType::Integer, Some(v)) => v.as_i64().map_or(Cell::Empty, Cell::Int),
        (FieldType::Boolean, Some(Value::Bool(b))) => Cell::Bool(*b),
        (FieldType::Date, Some(Value::String(s))) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| Cell::Text(s.clone()), Cell::Date)
        }
        (FieldType::MultiChoice, Some(Value::Array(items))) => {
            Cell::Text(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        }
        (_, Some(Value::String(s))) => Cell::Text(s.clone()),
        (_, Some(other)) => Cell::Text(other.to_string()),
    }
}

/// What one export writes: the headers, and how a client becomes a row.
pub(crate) struct Sheet {
    pub headers: Vec<String>,
    defs: Vec<CustomFieldDef>,
    names: Names,
}

impl Sheet {
    /// The core columns and the tenant's active custom fields, in display order, with the
    /// core columns' headers in `language`.
    pub(crate) async fn load(tx: &TenantTx, language: Language) -> AppResult<Self> {
        let defs: Vec<_> = client_field_defs(tx).await?.into_iter().filter(|d| d.active).collect();
        let mut headers: Vec<String> = CORE_COLUMNS.iter().map(|c| c.header.get(language).to_owned()).collect();
        for def in &defs {
            let header = custom_header(def, &headers);
            headers.push(header);
        }
        Ok(Self { headers, defs, names: Names::load(tx).await? })
    }

    /// A client's row; `page` was read for the page it is on.
    pub(crate) fn row(&self, c: &Client, page: &PageData) -> Vec<Cell> {
        let known = Known { names: &self.names, page };
        let core = CORE_COLUMNS.iter().map(|col| col.cell(c, &known));
        core.chain(self.defs.iter().map(|d| custom_cell(d, c.custom_fields.get(&d.key)))).collect()
    }
}
