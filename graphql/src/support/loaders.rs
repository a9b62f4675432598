//! `DataLoaders`: one generic loader per shape of relation ([`One`], [`Many`]), built per
//! request and bound to its tenant context: their cache is keyed by id only, so a shared one
//! would serve one tenant another's rows. Each area declares its relations ([`Relation`]) and
//! attaches their loaders through its `Area::loaders`.

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use clientele_kernel::{AppError, AppResult, TenantCtx};
use clientele_plugins::{Installed, Plugins};
use clientele_records::clients::RecordServices;

pub type LoadError = Arc<AppError>;

/// What the loaders of one request are bound to: the caller's tenant context, the record
/// services, the plugin platform and the plugins enabled for the caller (as of its config
/// version).
#[derive(Clone)]
pub struct LoadCtx {
    pub ctx: TenantCtx,
    pub records: Arc<RecordServices>,
    pub plugins: Arc<Plugins>,
    pub installed: Arc<Vec<Installed>>,
}

/// A relation read in batches: the rows of many keys in one statement, each row under the key
/// it belongs to.
pub trait Relation: Sized + 'static {
    type Key: Clone + Eq + Hash + Send + Sync + 'static;
    type Row: Clone + Send + Sync + 'static;
    /// The rows of `keys`, read in the caller's tenant.
    fn fetch(cx: &LoadCtx, keys: &[Self::Key]) -> impl Future<Output = AppResult<Vec<Self::Row>>> + Send;
    /// The key a row belongs to; `None` leaves it out.
    fn key(row: &Self::Row) -> Option<Self::Key>;
}

/// Declares a [`Relation`] in one line: its name, key and row types, how a batch is read and
/// which key a row belongs to. `relation!(GroupById: GroupId => Group, |cx, keys|
/// cx.records.categories.groups_by_ids(&cx.ctx, keys).await, |row| Some(row.id));`
macro_rules! relation {
    ($(#[$doc:meta])* $name:ident: $key:ty => $row:ty, |$cx:ident, $keys:ident| $fetch:expr, |$r:ident| $by:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::support::loaders::Relation for $name {
            type Key = $key;
            type Row = $row;
            async fn fetch($cx: &$crate::support::loaders::LoadCtx, $keys: &[$key]) -> clientele_kernel::AppResult<Vec<$row>> {
                $fetch
            }
            fn key($r: &$row) -> Option<$key> {
                $by
            }
        }
    };
}
pub(crate) use relation;

/// Loads at most one row per key (by id, or one row per client).
pub struct One<R>(LoadCtx, PhantomData<fn() -> R>);

/// Loads every row of each key; every requested key gets a list, empty or not.
pub struct Many<R>(LoadCtx, PhantomData<fn() -> R>);

impl<R: Relation> Loader<R::Key> for One<R> {
    type Value = R::Row;
    type Error = LoadError;
    async fn load(&self, keys: &[R::Key]) -> Result<HashMap<R::Key, R::Row>, LoadError> {
        let rows = R::fetch(&self.0, keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().filter_map(|row| Some((R::key(&row)?, row))).collect())
    }
}

impl<R: Relation> Loader<R::Key> for Many<R> {
    type Value = Vec<R::Row>;
    type Error = LoadError;
    async fn load(&self, keys: &[R::Key]) -> Result<HashMap<R::Key, Vec<R::Row>>, LoadError> {
        let rows = R::fetch(&self.0, keys).await.map_err(Arc::new)?;
        Ok(group_by(keys, rows, R::key))
    }
}

/// The request's loader of `R`, one row per key.
pub fn one<R: Relation>(cx: &LoadCtx) -> DataLoader<One<R>> {
    DataLoader::new(One(cx.clone(), PhantomData), tokio::spawn)
}

/// The request's loader of `R`, every row of each key.
pub fn many<R: Relation>(cx: &LoadCtx) -> DataLoader<Many<R>> {
    DataLoader::new(Many(cx.clone(), PhantomData), tokio::spawn)
}

/// Groups `rows` under the key each belongs to; every requested key gets a list, empty or not,
/// and rows without a key (`None`) are left out.
pub fn group_by<K, V>(keys: &[K], rows: Vec<V>, key: impl Fn(&V) -> Option<K>) -> HashMap<K, Vec<V>>
where
    K: Clone + Eq + Hash,
{
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for row in rows {
        if let Some(k) = key(&row) {
            out.entry(k).or_default().push(row);
        }
    }
    out
}

/// A loader error as a coded GraphQL error.
pub fn load_error(err: &LoadError) -> async_graphql::Error {
    if err.code() == clientele_kernel::ErrorCode::Internal {
        tracing::error!(error = %err, "loader failed");
    }
    crate::support::to_gql(AppError::new(err.code(), err.public_message()))
}
