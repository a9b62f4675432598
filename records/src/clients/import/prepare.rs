//! Turning a batch of rows into client records, with the rules of `createClient`: pure CPU
//! work, done on a blocking thread for the next batch while the database writes the current one.

use std::sync::Arc;

use super::fields::{self, Column, Lookups};
use super::table::{Row, Table};
use crate::clients::custom_fields::CustomFieldDef;
use crate::clients::model::{Client, ClientInput, ConsentStatus};
use crate::clients::service::ClientService;
use clientele_kernel::db::Handles;
use clientele_kernel::error::AppError;
use clientele_kernel::ids::ClientId;

/// The e-mail and SMS consents a row gives, for the consent history.
pub(crate) type Consents = (Option<ConsentStatus>, Option<ConsentStatus>);

/// A readable row: its line, its input when a match may need it, its consents, the new record
/// it makes and that record's validation errors.
pub(crate) struct Prepared {
    pub line: u32,
    pub input: Option<ClientInput>,
    pub consents: Consents,
    pub fresh: Client,
    pub errors: Vec<AppError>,
}

/// What preparing rows needs, shared with the blocking threads.
pub(crate) struct Preparer {
    pub handles: Arc<Handles>,
    pub clients: ClientService,
    pub columns: Vec<Column>,
    pub lookups: Lookups,
    pub defs: Vec<CustomFieldDef>,
    /// Keep each row's input (to apply it again on the client it updates).
    pub keep_input: bool,
}

impl Preparer {
    /// The row's cells as a client input, or the cells that could not be read.
    fn input(&self, row: &Row) -> Result<ClientInput, Vec<AppError>> {
        let mut input = ClientInput::default();
        let mut errors = Vec::new();
        for column in &self.columns {
            let raw = row.cells.get(column.index).map_or("", str::trim);
            if raw.is_empty() {
                continue; // empty cells leave a field as it is
            }
            if let Err(message) = fields::set(&mut input, &column.target, raw, &self.lookups) {
                errors.push(AppError::invalid(&column.field, message));
            }
        }
        if errors.is_empty() { Ok(input) } else { Err(errors) }
    }

    /// Rows `range` of the table, each applied to a new record: normalised keys for the
    /// duplicate lookup, and the record to create.
    pub(crate) fn prepare(&self, table: &Table, range: std::ops::Range<usize>) -> Vec<Result<Prepared, Vec<AppError>>> {
        let now = self.handles.now();
        let rows = table.rows.get(range).unwrap_or_default();
        rows.iter()
            .map(|row| {
                let input = self.input(row)?;
                let consents = (input.consent_email, input.consent_sms);
                // Copying every row's input costs: only kept when a match may be updated.
                let kept = self.keep_input.then(|| input.clone());
                let mut fresh = Client::blank(ClientId(self.handles.new_id()), now);
                let errors = self.clients.apply_input(&mut fresh, input, true, &self.defs);
                Ok(Prepared { line: row.line, input: kept, consents, fresh, errors })
            })
            .collect()
    }
}
