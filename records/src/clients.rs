//! Customer records: clients (individuals and companies) and everything attached to them.

pub mod addresses;
pub mod beneficiaries;
pub mod cards;
pub mod categories;
pub mod client_documents;
pub mod consents;
mod contact_list;
pub mod contacts;
pub mod custom_fields;
pub mod document_readiness;
mod duplicates;
pub mod entity;
pub mod export;
pub mod fields;
pub mod gdpr;
pub mod import;
pub mod ledger;
pub mod lookups;
mod mapping;
mod merge;
pub mod model;
pub mod nodes;
mod query;
pub use query::Neighbours;
pub mod referral;
pub mod selections;
pub mod service;
pub mod staff;
pub mod validate;

use std::sync::Arc;

pub use addresses::{Address, AddressInput, AddressKind, AddressService};
pub use beneficiaries::{Beneficiary, BeneficiaryInput, BeneficiaryService};
pub use cards::{Card, CardHolder, CardInput, CardService, CardStatus};
pub use categories::{Category, CategoryInput, CategoryService, Group};
pub use client_documents::{
    ClientDocument, ClientDocumentInput, ClientDocumentService, DocumentFilter, DocumentKind, DocumentSummary,
};
pub use consents::ConsentChange;
pub use contacts::{Contact, ContactFilter, ContactInput, ContactService};
pub use custom_fields::{CUSTOM_FIELD_TYPES, CustomEntity, CustomFieldDef, CustomFieldInput, CustomFieldService};
pub use document_readiness::DocumentReadiness;
pub use export::{Cell, ClientExport, ExportFormat};
pub use gdpr::{BalanceFilter, GdprService, PersonalDataSource};
pub use import::{
    ColumnMapping, DuplicatePolicy, ImportField, ImportFormat, ImportJob, ImportPreview, ImportRequest, ImportRowError,
    ImportService, ImportStatus, PreviewColumn,
};
pub use ledger::{
    DotationInput, EntryFilter, EntryInput, LedgerEntry, LedgerKind, LedgerService, Operation, Posted, Statement,
};
pub use lookups::{Lookup, LookupInput, LookupKind, LookupService};
pub use model::{
    AccountKind, Civility, Client, ClientInput, ClientKind, ClientStatus, ConsentChannel, ConsentStatus, Phone,
};
pub use referral::{ReferralRewards, ReferralService, ReferralSettings, ReferralSettingsInput, RewardKind};
pub use selections::{Selection, SelectionInput, SelectionService};
pub use service::{ClientFilter, ClientOrder, ClientService, CustomCondition, NewClient, TrashFilter, WebClient};
pub use staff::{StaffInput, StaffMember};

use clientele_kernel::db::Handles;

/// Every customer-record service, built once at start.
pub struct RecordServices {
    pub clients: ClientService,
    pub custom_fields: CustomFieldService,
    pub categories: CategoryService,
    pub gdpr: GdprService,
    pub ledger: LedgerService,
    pub addresses: AddressService,
    pub contacts: ContactService,
    pub lookups: LookupService,
    pub beneficiaries: BeneficiaryService,
    pub cards: CardService,
    pub documents: ClientDocumentService,
    pub referral: ReferralService,
    pub selections: SelectionService,
    pub imports: ImportService,
    pub search: crate::search::SearchService,
    pub files: crate::files::FileService,
}

impl RecordServices {
    /// The services, searching with `index` (an adapter from `clientele-adapters`) and
    /// storing files with `files`.
    pub fn new(
        handles: &Arc<Handles>,
        index: Arc<dyn crate::search::SearchIndex>,
        files: crate::files::FileService,
    ) -> Self {
        Self {
            // LIF-04: documents keep a client out of the trash.
            clients: ClientService::new(handles.clone()).with_guard(Arc::new(client_documents::LinkedDocuments)),
            custom_fields: CustomFieldService::new(handles.clone()),
            categories: CategoryService::new(handles.clone()),
            gdpr: GdprService::new(handles.clone()),
            ledger: LedgerService::new(handles.clone()),
            addresses: AddressService::new(handles.clone()),
            contacts: ContactService::new(handles.clone()),
            lookups: LookupService::new(handles.clone()),
            beneficiaries: BeneficiaryService::new(handles.clone()),
            cards: CardService::new(handles.clone()),
            documents: ClientDocumentService::new(handles.clone()),
            referral: ReferralService::new(handles.clone()),
            selections: SelectionService::new(handles.clone()),
            imports: ImportService::new(handles.clone()),
            search: crate::search::SearchService::new(handles.clone(), index),
            files,
        }
    }
}
