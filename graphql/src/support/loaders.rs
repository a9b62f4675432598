//! `DataLoaders`, one per relation, built per request and bound to its tenant context: their
//! cache is keyed by id only, so a shared one would serve one tenant another's rows.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use clientele_kernel::{AppError, CategoryId, ClientId, GroupId, TenantCtx};
use clientele_records::clients::{Category, Client, ConsentChange, Group, RecordServices};

pub type LoadError = Arc<AppError>;

/// What every loader needs: the caller's tenant and the services.
#[derive(Clone)]
pub struct Scope {
    pub ctx: TenantCtx,
    pub records: Arc<RecordServices>,
}

pub struct CategoryLoader(pub Scope);
pub struct GroupLoader(pub Scope);
pub struct ClientLoader(pub Scope);
/// Sponsees of a sponsor (REF-04).
pub struct SponseeLoader(pub Scope);
/// Consent histories of clients, newest first (GDP-01).
pub struct ConsentHistoryLoader(pub Scope);

impl Loader<CategoryId> for CategoryLoader {
    type Value = Category;
    type Error = LoadError;
    async fn load(&self, keys: &[CategoryId]) -> Result<HashMap<CategoryId, Category>, LoadError> {
        let rows = self.0.records.categories.categories_by_ids(&self.0.ctx, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }
}

impl Loader<GroupId> for GroupLoader {
    type Value = Group;
    type Error = LoadError;
    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Group>, LoadError> {
        let rows = self.0.records.categories.groups_by_ids(&self.0.ctx, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|g| (g.id, g)).collect())
    }
}

impl Loader<ClientId> for ClientLoader {
    type Value = Client;
    type Error = LoadError;
    async fn load(&self, keys: &[ClientId]) -> Result<HashMap<ClientId, Client>, LoadError> {
        let rows = self.0.records.clients.by_ids(&self.0.ctx, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }
}

impl Loader<ClientId> for SponseeLoader {
    type Value = Vec<Client>;
    type Error = LoadError;
    async fn load(&self, keys: &[ClientId]) -> Result<HashMap<ClientId, Vec<Client>>, LoadError> {
        let rows = self.0.records.clients.sponsees(&self.0.ctx, keys).await.map_err(Arc::new)?;
        Ok(crate::support::loaders::group_by(keys, rows, |r| r.sponsor))
    }
}

impl Loader<ClientId> for ConsentHistoryLoader {
    type Value = Vec<ConsentChange>;
    type Error = LoadError;
    async fn load(&self, keys: &[ClientId]) -> Result<HashMap<ClientId, Vec<ConsentChange>>, LoadError> {
        let rows = self.0.records.clients.consent_history(&self.0.ctx, keys).await.map_err(Arc::new)?;
        Ok(crate::support::loaders::group_by(keys, rows, |r| Some(r.client)))
    }
}

/// Groups `rows` under the key each belongs to; every requested key gets a list, empty or not,
/// and rows without a key (`None`) are left out.
pub fn group_by<K, V>(keys: &[K], rows: Vec<V>, key: impl Fn(&V) -> Option<K>) -> HashMap<K, Vec<V>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(k) = key(&row) {
            out.entry(k).or_default().push(row);
        }
    }
    out
}

/// Adds every loader of one request to its data.
pub fn attach(request: async_graphql::Request, scope: &Scope) -> async_graphql::Request {
    let request = request
        .data(DataLoader::new(CategoryLoader(scope.clone()), tokio::spawn))
        .data(DataLoader::new(GroupLoader(scope.clone()), tokio::spawn))
        .data(DataLoader::new(ClientLoader(scope.clone()), tokio::spawn))
        .data(DataLoader::new(SponseeLoader(scope.clone()), tokio::spawn))
        .data(DataLoader::new(ConsentHistoryLoader(scope.clone()), tokio::spawn))
        .data(DataLoader::new(crate::areas::ledger::entries::BalanceLoader(scope.clone()), tokio::spawn));
    crate::schema::AREAS.iter().fold(request, |r, area| (area.loaders)(r, scope))
}

/// A loader error as a coded GraphQL error.
pub fn load_error(err: &LoadError) -> async_graphql::Error {
    if err.code() == clientele_kernel::ErrorCode::Internal {
        tracing::error!(error = %err, "loader failed");
    }
    crate::support::to_gql(AppError::new(err.code(), err.public_message()))
}
