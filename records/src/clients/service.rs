//! Client records: create, change, read, trash, restore, purge, block.

use std::sync::Arc;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr, Statement,
};

use crate::clients::custom_fields::{CustomEntity, CustomFieldDef, CustomFieldService, merge_values};
use crate::clients::entity::{category, client, group, ledger_entry, lookup, staff};
use crate::clients::model::{AccountKind, Client, ClientInput, ClientKind, ClientReferences, ConsentStatus};
use crate::clients::validate;
use crate::clients::{duplicates, fields};
use clientele_kernel::Money;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode, Reason};
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

pub use crate::clients::query::{ClientFilter, ClientOrder, CustomCondition, TrashFilter};

/// Something outside this module that may hold on to a client (plugin records…): asked before
/// a client goes to the trash.
#[async_trait::async_trait]
pub trait DeletionGuard: Send + Sync {
    /// `Some(reason)` refuses the deletion.
    async fn blocks_deletion(&self, tx: &TenantTx, client: ClientId) -> AppResult<Option<String>>;
}

pub struct ClientService {
    pub(crate) handles: Arc<Handles>,
    guards: Vec<Arc<dyn DeletionGuard>>,
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

/// What [`ClientService::create_unless_duplicate`] did.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per creation, short-lived
pub enum NewClient {
    Created(Client),
    /// Nothing was created: these clients may be the same one, the strongest match first.
    PossibleDuplicates(Vec<Client>),
}

/// A web shop's client ([`ClientService::ensure_by_email`]) and whether this call made it.
#[derive(Clone, Debug)]
pub struct WebClient {
    pub client: Client,
    pub created: bool,
}

/// A unique-key violation, named after the field it concerns.
pub(crate) fn unique_violation(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => {
            let field = ["barcode", "email", "code"].into_iter().find(|f| msg.contains(f)).unwrap_or("code");
            AppError::conflict(field, format!("Another client already has this {field}."))
        }
        _ => err.into(),
    }
}

impl ClientService {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles, guards: Vec::new() }
    }

    /// Registers a check run before any client goes to the trash.
    #[must_use]
    pub fn with_guard(mut self, guard: Arc<dyn DeletionGuard>) -> Self {
        self.guards.push(guard);
        self
    }

    pub async fn get(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<Client> {
        let tx = ctx.read().await?;
        let client = load(&tx, id).await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Clients by id, for batched loading; unknown ids are absent.
    pub async fn by_ids(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Client>> {
        let tx = ctx.read().await?;
        let rows = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Id.is_in(ids.iter().map(|i| i.0)))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Client::from_row).collect()
    }

    pub async fn create(&self, ctx: &TenantCtx, input: ClientInput) -> AppResult<Client> {
        let (id, now) = (ClientId(self.handles.new_id()), self.handles.now());
        let input = &input;
        ctx.write(Permission::Write, |tx| async move {
            let client = self.new_client(&tx, id, now, input.clone()).await?;
            self.insert_new(&tx, ctx, client, input).await
        })
        .await
    }

    /// Issue 19: as [`create`](Self::create), unless clients of the tenant may be the same one
    /// (same e-mail, code, barcode or phone, or same last name with an address at `postcode`):
    /// then nothing is created and they are returned. People creating a client by hand (the API,
    /// the console) come here; imports, web shops and merges have their own rules.
    pub async fn create_unless_duplicate(
        &self,
        ctx: &TenantCtx,
        input: ClientInput,
        postcode: Option<&str>,
    ) -> AppResult<NewClient> {
        let (id, now) = (ClientId(self.handles.new_id()), self.handles.now());
        let input = &input;
        ctx.write(Permission::Write, |tx| async move {
            let client = self.new_client(&tx, id, now, input.clone()).await?;
            // Taking no number still locks the tenant's counter row: on PostgreSQL a concurrent
            // creation waits here until this one commits, then finds the client it wrote (SQLite
            // runs one write at a time).
            next_numbers(&tx, 0).await?;
            let found = duplicates::possible(&tx, &client, postcode).await?;
            if !found.is_empty() {
                return Ok(NewClient::PossibleDuplicates(found));
            }
            self.insert_new(&tx, ctx, client, input).await.map(NewClient::Created)
        })
        .await
    }

    /// A client made from `input` and validated, not yet numbered.
    async fn new_client(
        &self,
        tx: &TenantTx,
        id: ClientId,
        now: chrono::DateTime<chrono::Utc>,
        input: ClientInput,
    ) -> AppResult<Client> {
        let mut client = Client::blank(id, now);
        self.apply(tx, &mut client, input, true).await?;
        Ok(client)
    }

    /// Numbers and inserts a new client, with the consents `input` gave and its audit entry.
    async fn insert_new(
        &self,
        tx: &TenantTx,
        ctx: &TenantCtx,
        mut client: Client,
        input: &ClientInput,
    ) -> AppResult<Client> {
        client.number = next_number(tx).await?;
        if client.code.is_empty() {
            client.code = client.number.to_string(); // CLI-03: the code defaults to the number
        }
        client
            .to_active(ctx.tenant(), ctx.actor().user().map(|u| u.0))
            .insert(tx.conn())
            .await
            .map_err(unique_violation)?;
        crate::search::touch(tx, client.id).await?;
        let consents = (input.consent_email, input.consent_sms);
        record_consents(tx, ctx, client.id, consents, None, client.created_at).await?;
        let changes = audit::created(&client.audit_view());
        audit::record(tx, ctx, AuditEntry::new("client.create", "client", client.id, changes)).await?;
        Ok(client)
    }

    /// CLI-17: the client a web shop's user is, for a self-registration or an order: the one
    /// with this e-mail, else a new one made from `input`. Idempotent: a retry, or two orders at
    /// once, give one client (the second creation meets the e-mail's uniqueness and reads the
    /// first). A client in the trash is refused (`CLIENT_UNAVAILABLE`), never duplicated.
    pub async fn ensure_by_email(&self, ctx: &TenantCtx, input: ClientInput) -> AppResult<WebClient> {
        ctx.require(Permission::Write)?;
        let email = input.email.clone().flatten().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
        let Some(email) = email else {
            return Err(AppError::invalid("email", "Give the web user's e-mail: it is what finds the client again."));
        };
        if let Some(client) = self.by_email(ctx, &email).await? {
            ensure_live(&client)?;
            return Ok(WebClient { client, created: false });
        }
        match self.create(ctx, input).await {
            Ok(client) => Ok(WebClient { client, created: true }),
            Err(err) if err.code() == ErrorCode::Conflict && err.field() == Some("email") => {
                let client = self.by_email(ctx, &email).await?.ok_or(err)?;
                ensure_live(&client)?;
                Ok(WebClient { client, created: false })
            }
            Err(err) => Err(err),
        }
    }

    async fn by_email(&self, ctx: &TenantCtx, email: &str) -> AppResult<Option<Client>> {
        let tx = ctx.read().await?;
        let row = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Email.eq(email))
            .one(tx.conn())
            .await?;
        tx.commit().await?;
        row.map(Client::from_row).transpose()
    }

    pub async fn update(&self, ctx: &TenantCtx, id: ClientId, input: ClientInput) -> AppResult<Client> {
        let consents = (input.consent_email, input.consent_sms);
        let input = &input;
        ctx.write(Permission::Write, |tx| async move {
            let before = load_for_update(&tx, id).await?;
            ensure_not_trashed(&before)?;
            check_updatable(&before)?;
            if input.expected_version.is_some_and(|v| v != before.version) {
                return Err(AppError::code_only(ErrorCode::StaleVersion));
            }
            let mut after = before.clone();
            self.apply(&tx, &mut after, input.clone(), false).await?;
            crate::clients::ledger::check_account_change(&tx, &before, &after).await?;
            after.version += 1;
            after.updated_at = self.handles.now();
            save(&tx, &after).await?;
            let changed =
                (consents.0.filter(|c| *c != before.consent_email), consents.1.filter(|c| *c != before.consent_sms));
            record_consents(&tx, ctx, id, changed, None, after.updated_at).await?;
            let changes = audit::diff(&before.audit_view(), &after.audit_view());
            audit::record(&tx, ctx, AuditEntry::new("client.update", "client", id, changes)).await?;
            Ok(after)
        })
        .await
    }

    /// Applies and validates `input` on `client`: every problem is reported at once.
    async fn apply(&self, tx: &TenantTx, c: &mut Client, input: ClientInput, creating: bool) -> AppResult<()> {
        let defs = client_field_defs(tx).await?;
        let kept = c.references();
        let sponsor_before = c.sponsor;
        let mut errors = self.apply_input(c, input, creating, &defs);
        check_references(tx, c, &kept, &mut errors).await?;
        crate::clients::referral::check_sponsor(tx, sponsor_before, c.sponsor, &mut errors).await?; // REF-01
        match AppError::all(errors) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Applies `input` on `c` with every rule of `createClient` and `updateClient` that needs no
    /// query: the validation entry point of imports, which load the custom fields once and check
    /// references against lists they loaded. Returns every problem found.
    pub(crate) fn apply_input(
        &self,
        c: &mut Client,
        mut input: ClientInput,
        creating: bool,
        defs: &[CustomFieldDef],
    ) -> Vec<AppError> {
        let mut errors = Vec::new();
        if let Some(code) = input.code.take().map(|c| c.trim().to_owned()) {
            validate::code(&mut errors, "code", Some(&code));
            c.code = code;
        }
        set(&mut c.kind, input.kind);
        for (field, target, value) in [
            ("mobile", &mut c.mobile, input.mobile.take()),
            ("home_phone", &mut c.home_phone, input.home_phone.take()),
            ("work_phone", &mut c.work_phone, input.work_phone.take()),
        ] {
            if let Some(value) = value {
                *target = validate::phone(&mut errors, field, validate::clean(value));
            }
        }
        fields::apply(c, &mut input, &mut errors);
        fields::check(c, self.handles.now().date_naive(), &mut errors);
        (c.bank_iban, c.bank_bic) = validate::bank(&mut errors, c.bank_iban.as_deref(), c.bank_bic.as_deref());
        (c.siren, c.siret) = validate::siren_siret(&mut errors, c.siren.as_deref(), c.siret.as_deref());
        business_rules(c, &mut errors);
        match merge_values(defs, &c.custom_fields, input.custom_fields.as_ref(), creating) {
            Ok(values) => c.custom_fields = values,
            Err(mut more) => errors.append(&mut more),
        }
        errors
    }

    /// Moves a client to the trash (LIF-03), unless records still depend on it (LIF-04).
    pub async fn trash(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<Client> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = load_for_update(&tx, id).await?;
        if before.deleted_at.is_some() {
            return Ok(before);
        }
        if let Some(reason) = self.deletion_blocker(&tx, id).await? {
            return Err(AppError::new(ErrorCode::LinkedRecords, reason));
        }
        let after = Client { deleted_at: Some(self.handles.now()), version: before.version + 1, ..before.clone() };
        save(&tx, &after).await?;
        let changes = audit::diff(&before.audit_view(), &after.audit_view());
        audit::record(&tx, ctx, AuditEntry::new("client.trash", "client", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Why `id` may not go to the trash, if anything holds on to it.
    pub(super) async fn deletion_blocker(&self, tx: &TenantTx, id: ClientId) -> AppResult<Option<String>> {
        if balance(tx, id).await? != Money(0) {
            return Ok(Some("The account balance is not zero: settle it first.".into()));
        }
        let sponsees = client::Entity::find()
            .filter(client::Column::TenantId.eq(tx.tenant()))
            .filter(client::Column::Sponsor.eq(id.0))
            .filter(client::Column::DeletedAt.is_null())
            .count(tx.conn())
            .await?;
        if sponsees > 0 {
            return Ok(Some(format!("This client sponsors {sponsees} other client(s).")));
        }
        for guard in &self.guards {
            if let Some(reason) = guard.blocks_deletion(tx, id).await? {
                return Ok(Some(reason));
            }
        }
        Ok(None)
    }

    /// Brings a client back from the trash exactly as it was (LIF-05).
    pub async fn restore(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<Client> {
        ctx.require(Permission::Write)?;
        let tx = ctx.begin().await?;
        let before = load_for_update(&tx, id).await?;
        if before.deleted_at.is_none() {
            return Err(AppError::code_only(ErrorCode::NotInTrash));
        }
        let after = Client { deleted_at: None, version: before.version + 1, ..before.clone() };
        save(&tx, &after).await?;
        let changes = audit::diff(&before.audit_view(), &after.audit_view());
        audit::record(&tx, ctx, AuditEntry::new("client.restore", "client", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a trashed client for good (super-admins). Clients with ledger history are kept
    /// for the accounts: anonymise them instead. The number is never given out again.
    pub async fn purge(&self, ctx: &TenantCtx, id: ClientId) -> AppResult<ClientId> {
        ctx.require(Permission::Purge)?;
        let tx = ctx.begin().await?;
        let before = load_for_update(&tx, id).await?;
        purge_in(&tx, ctx, &before).await?;
        tx.commit().await?;
        crate::files::sweep_after_commit(ctx).await;
        Ok(id)
    }

    /// The retention job: purges clients trashed before `cutoff`. Clients with ledger history
    /// stay in the trash (they can only be anonymised). Returns how many were purged.
    pub async fn purge_trashed_before(&self, ctx: &TenantCtx, cutoff: chrono::DateTime<chrono::Utc>) -> AppResult<u64> {
        ctx.require(Permission::Purge)?;
        let expired = {
            let tx = ctx.read().await?;
            let rows = client::Entity::find()
                .filter(client::Column::TenantId.eq(ctx.tenant()))
                .filter(client::Column::DeletedAt.lt(cutoff))
                .all(tx.conn())
                .await?;
            tx.commit().await?;
            rows
        };
        let mut purged = 0;
        for row in expired {
            let tx = ctx.begin().await?;
            let client = load_for_update(&tx, row.id).await?;
            match purge_in(&tx, ctx, &client).await {
                Ok(()) => {
                    tx.commit().await?;
                    purged += 1;
                }
                Err(err) if matches!(err.code(), ErrorCode::LinkedRecords | ErrorCode::NotInTrash) => {}
                Err(err) => return Err(err),
            }
        }
        if purged > 0 {
            crate::files::sweep_after_commit(ctx).await;
        }
        Ok(purged)
    }

    /// Blocks (LIF-01) or unblocks a client; a reason is required to block.
    pub async fn set_blocked(&self, ctx: &TenantCtx, id: ClientId, reason: Option<String>) -> AppResult<Client> {
        ctx.require(Permission::Write)?;
        let blocking = reason.is_some();
        let reason = validate::clean(reason);
        let mut errors = Vec::new();
        if blocking && reason.is_none() {
            errors.push(AppError::refused("reason", Reason::BlockReason));
        }
        validate::text(&mut errors, "reason", reason.as_deref(), 500, false);
        if let Some(err) = AppError::all(errors) {
            return Err(err);
        }
        let tx = ctx.begin().await?;
        let before = load_for_update(&tx, id).await?;
        ensure_not_trashed(&before)?;
        let after = Client {
            blocked: reason.is_some(),
            blocked_reason: reason,
            version: before.version + 1,
            updated_at: self.handles.now(),
            ..before.clone()
        };
        save(&tx, &after).await?;
        let action = if after.blocked { "client.block" } else { "client.unblock" };
        let changes = audit::diff(&before.audit_view(), &after.audit_view());
        audit::record(&tx, ctx, AuditEntry::new(action, "client", id, changes)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Clients sponsored by `id` (REF-04).
    pub async fn sponsees(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<Client>> {
        let tx = ctx.read().await?;
        let rows = client::Entity::find()
            .filter(client::Column::TenantId.eq(ctx.tenant()))
            .filter(client::Column::Sponsor.is_in(ids.iter().map(|i| i.0)))
            .filter(client::Column::DeletedAt.is_null())
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.into_iter().map(Client::from_row).collect()
    }
}

/// Deletes a trashed client row (its contacts, addresses and consent history cascade).
pub(crate) async fn purge_in(tx: &TenantTx, ctx: &TenantCtx, client: &Client) -> AppResult<()> {
    if client.deleted_at.is_none() {
        return Err(AppError::code_only(ErrorCode::NotInTrash));
    }
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tx.tenant()))
        .filter(ledger_entry::Column::ClientId.eq(client.id))
        .count(tx.conn())
        .await?;
    if entries > 0 {
        return Err(AppError::new(ErrorCode::LinkedRecords, "This client has ledger history: anonymise it instead."));
    }
    // Its photo and attachments: rows deleted, blobs tombstoned, swept after the commit.
    let files = crate::files::forget_client(tx, ctx.handles(), client.id).await?;
    client::Entity::delete_by_id((tx.tenant(), client.id)).exec(tx.conn()).await?;
    crate::search::touch(tx, client.id).await?; // the worker removes its document
    let mut changes = audit::diff(&client.audit_view(), &serde_json::Value::Null);
    if files > 0 {
        changes["files_deleted"] = serde_json::json!(files);
    }
    audit::record(tx, ctx, AuditEntry::new("client.purge", "client", client.id, changes)).await?;
    Ok(())
}

/// Cross-field rules (FEATURES.md Q-1, BIL-02, BIL-05, LED-05, LED-06).
fn business_rules(c: &mut Client, errors: &mut Vec<AppError>) {
    match c.kind {
        ClientKind::Individual => {
            if c.last_name.is_none() {
                errors.push(AppError::refused("last_name", Reason::IndividualLastName));
            }
            if c.first_name.is_none() {
                errors.push(AppError::refused("first_name", Reason::IndividualFirstName));
            }
            if c.bill_excl_tax {
                errors.push(AppError::invalid("bill_excl_tax", "Only companies can be billed excluding tax."));
            }
        }
        ClientKind::Company => {
            if c.company_name.is_none() {
                errors.push(AppError::refused("company_name", Reason::CompanyName));
            }
        }
    }
    if c.tariff.is_some() && !c.multi_tariff {
        errors.push(AppError::invalid("tariff", "Turn on multi-tariff to choose a tariff."));
    }
    match c.account_kind {
        AccountKind::Deposit => {
            if c.credit_limit != Money(0) {
                errors.push(AppError::invalid(
                    "credit_limit",
                    "A deposit account has no credit limit: its balance never goes below zero.",
                ));
            }
        }
        AccountKind::Credit => {
            if c.company_name.is_none() {
                errors.push(AppError::invalid("company_name", "A credit account needs a company name."));
            }
            if c.email.is_none() {
                errors.push(AppError::invalid("email", "A credit account needs an e-mail address."));
            }
        }
        AccountKind::None => {}
    }
    if c.blocked && c.blocked_reason.is_none() {
        c.blocked_reason = Some(String::new());
    }
}

/// The tenant's client custom-field definitions, every one (inactive ones refuse values).
pub(crate) async fn client_field_defs(tx: &TenantTx) -> AppResult<Vec<CustomFieldDef>> {
    Ok(CustomFieldService::list_in(tx).await?.into_iter().filter(|d| d.entity == CustomEntity::Client).collect())
}

/// Whether a stored client may still be changed.
/// LIF-05: a client in the trash comes back exactly as it left, so nothing changes under it but
/// its restoration, its purge and its anonymisation (an erasure request does not wait).
pub(crate) fn ensure_not_trashed(client: &Client) -> AppResult<()> {
    if client.deleted_at.is_some() {
        return Err(AppError::new(ErrorCode::ClientUnavailable, "This client is in the trash: restore it first."));
    }
    Ok(())
}

/// Refuses changes under a client in the trash ([`ensure_not_trashed`]) or anonymised (GDP-03).
pub(crate) fn ensure_live(client: &Client) -> AppResult<()> {
    ensure_not_trashed(client)?;
    if client.anonymised_at.is_some() {
        return Err(AppError::new(ErrorCode::ClientUnavailable, "This client is anonymised."));
    }
    Ok(())
}

pub(crate) fn check_updatable(client: &Client) -> AppResult<()> {
    if client.anonymised_at.is_some() {
        return Err(AppError::new(ErrorCode::Validation, "An anonymised client cannot be changed."));
    }
    Ok(())
}

/// Referenced records must exist in this tenant and be of the right kind. A staff member or
/// list entry newly chosen must be active (BIL-15); one already held may have been deactivated
/// since, and stays.
pub(super) async fn check_references(
    tx: &TenantTx,
    c: &Client,
    kept: &ClientReferences,
    errors: &mut Vec<AppError>,
) -> AppResult<()> {
    let t = tx.tenant();
    if let Some(id) = c.category
        && category::Entity::find_by_id((t, id)).one(tx.conn()).await?.is_none()
    {
        errors.push(AppError::invalid("category", "No such category."));
    }
    if let Some(id) = c.group
        && group::Entity::find_by_id((t, id)).one(tx.conn()).await?.is_none()
    {
        errors.push(AppError::invalid("group", "No such group."));
    }
    if let Some(id) = c.representative.filter(|id| kept.representative != Some(*id)) {
        let found = staff::Entity::find_by_id((t, id)).one(tx.conn()).await?;
        if !found.is_some_and(|s| s.is_representative && s.active) {
            errors.push(AppError::invalid("representative", "Choose an active representative."));
        }
    }
    for ((field, kind, id), held) in [
        ("tariff", "tariff", c.tariff),
        ("cross_discount", "cross_discount", c.cross_discount),
        ("payment_terms", "payment_terms", c.payment_terms),
        ("shipping_terms", "shipping_terms", c.shipping_terms),
        ("payment_method", "payment_method", c.payment_method),
    ]
    .into_iter()
    .zip(kept.lookups)
    {
        if let Some(id) = id.filter(|id| held != Some(*id)) {
            let found = lookup::Entity::find_by_id((t, id)).one(tx.conn()).await?;
            if found.is_none_or(|l| l.kind != kind || !l.active) {
                errors.push(AppError::invalid(field, "No such entry in this list."));
            }
        }
    }
    if let Some(sponsor) = c.sponsor {
        // REF-04: same tenant, not self, no cycle.
        let mut current = Some(sponsor);
        let mut hops = 0;
        while let Some(id) = current {
            if id == c.id {
                errors.push(AppError::invalid("sponsor", "A client cannot sponsor itself, even indirectly."));
                break;
            }
            let Some(row) = client::Entity::find_by_id((t, id)).one(tx.conn()).await? else {
                errors.push(AppError::invalid("sponsor", "No such client."));
                break;
            };
            current = row.sponsor;
            hops += 1;
            if hops > 1000 {
                break;
            }
        }
    }
    Ok(())
}

pub(crate) async fn load(tx: &TenantTx, id: ClientId) -> AppResult<Client> {
    let row = client::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?;
    Client::from_row(row.ok_or_else(AppError::not_found)?)
}

pub(crate) async fn load_for_update(tx: &TenantTx, id: ClientId) -> AppResult<Client> {
    use sea_orm::QuerySelect;
    let row = client::Entity::find_by_id((tx.tenant(), id)).lock_exclusive().one(tx.conn()).await?;
    Client::from_row(row.ok_or_else(AppError::not_found)?)
}

/// Sum of a client's ledger entries (LED-02: negative = the client owes).
pub(crate) async fn balance(tx: &TenantTx, id: ClientId) -> AppResult<Money> {
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM ledger_entries WHERE tenant_id = $1 AND client_id = $2",
            [tx.tenant().0.into(), id.0.into()],
        ))
        .await?;
    let total: i64 = match row {
        Some(row) => row.try_get::<Option<i64>>("", "total")?.unwrap_or(0),
        None => 0,
    };
    Ok(Money(total))
}

/// The next client number of the tenant, allocated in the writing transaction (CLI-02).
async fn next_number(tx: &TenantTx) -> AppResult<i64> {
    clientele_kernel::db::next_counter(tx, "client_counters", "last_number").await
}

/// `count` consecutive client numbers, allocated at once in the writing transaction (imports).
pub(crate) async fn next_numbers(tx: &TenantTx, count: i64) -> AppResult<std::ops::RangeInclusive<i64>> {
    clientele_kernel::db::next_counters(tx, "client_counters", "last_number", count).await
}

/// Appends consent changes to the history (GDP-01); returns the ids of the new rows.
pub(super) async fn record_consents(
    tx: &TenantTx,
    ctx: &TenantCtx,
    client: ClientId,
    (email, sms): (Option<ConsentStatus>, Option<ConsentStatus>),
    source: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<uuid::Uuid>> {
    let mut ids = Vec::new();
    for row in consent_rows(ctx, client, (email, sms), source, at) {
        ids.push(*row.id.as_ref());
        row.insert(tx.conn()).await?;
    }
    Ok(ids)
}

/// Writes every column of `client` except `created_by`, which only an insert sets, and queues
/// its search document (every change of a client row goes through here).
pub(super) async fn save(tx: &TenantTx, client: &Client) -> AppResult<()> {
    let mut row = client.to_active(tx.tenant(), None).reset_all();
    row.created_by = sea_orm::ActiveValue::NotSet;
    row.update(tx.conn()).await.map_err(unique_violation)?;
    crate::search::touch(tx, client.id).await
}

/// The consent-history rows of the channels whose status is given.
pub(crate) fn consent_rows(
    ctx: &TenantCtx,
    client: ClientId,
    (email, sms): (Option<ConsentStatus>, Option<ConsentStatus>),
    source: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<crate::clients::entity::consent::ActiveModel> {
    use crate::clients::entity::consent;
    use sea_orm::ActiveValue::Set;
    [("email", email), ("sms", sms)]
        .into_iter()
        .filter_map(|(channel, status)| {
            Some(consent::ActiveModel {
                tenant_id: Set(ctx.tenant()),
                id: Set(ctx.handles().new_id()),
                client_id: Set(client),
                channel: Set(channel.to_owned()),
                status: Set(status?.as_str().to_owned()),
                source: Set(source.map(str::to_owned).or_else(|| Some("api".to_owned()))),
                actor_user_id: Set(ctx.actor().user().map(|u| u.0)),
                at: Set(at),
            })
        })
        .collect()
}
