//! Customer records: clients (individuals and companies) and everything attached to them.

pub mod categories;
pub mod custom_fields;
pub mod entity;
pub mod export;
pub mod import;
mod mapping;
pub mod model;
mod query;
pub mod service;
pub mod validate;

use std::sync::Arc;

pub use categories::{Category, CategoryInput, CategoryService, Group};
pub use custom_fields::{CustomEntity, CustomFieldDef, CustomFieldInput, CustomFieldService, FieldKind};
pub use export::{Cell, ClientExport, ExportFormat};
pub use import::{
    ColumnMapping, DuplicatePolicy, ImportFormat, ImportJob, ImportRequest, ImportRowError, ImportService, ImportStatus,
};
pub use model::{AccountKind, Civility, Client, ClientInput, ClientKind, ClientStatus, ConsentStatus, Money, Phone};
pub use service::{ClientFilter, ClientOrder, ClientService, CustomCondition, TrashFilter};

use crate::db::Kernel;

/// Every customer-record service, built once at start.
pub struct RecordServices {
    pub clients: ClientService,
    pub custom_fields: CustomFieldService,
    pub categories: CategoryService,
    pub imports: ImportService,
}

impl RecordServices {
    pub fn new(kernel: &Arc<Kernel>) -> Self {
        Self {
            clients: ClientService::new(kernel.clone()),
            custom_fields: CustomFieldService::new(kernel.clone()),
            categories: CategoryService::new(kernel.clone()),
            imports: ImportService::new(kernel.clone()),
        }
    }
}
