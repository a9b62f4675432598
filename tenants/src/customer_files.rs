//! A supplier's way into the files of its customer organisations (FIL-06): the same proof as
//! every other supplier operation (`CustomerService::enter`).

use clientele_core::files::OrganisationScope;
use clientele_core::{AppResult, TenantCtx, TenantId, TenantTx};

use crate::customers::CustomerService;

/// [`OrganisationScope`] for suppliers over their own customers.
#[derive(Debug, Default)]
pub struct CustomerFiles;

#[async_trait::async_trait]
impl OrganisationScope for CustomerFiles {
    async fn enter(&self, ctx: &TenantCtx, tx: &mut TenantTx, customer: TenantId) -> AppResult<TenantCtx> {
        CustomerService::enter(ctx, tx, customer).await
    }
}
