//! A supplier's way into the files of its customer organisations (FIL-06): the same proof as
//! every other supplier operation (`load_child`), then the transaction moves into the customer.

use clientele_core::files::OrganisationScope;
use clientele_core::{AppResult, TenantCtx, TenantId, TenantTx};

use crate::customers::{CustomerService, acting_in};

/// [`OrganisationScope`] for suppliers over their own customers.
#[derive(Debug, Default)]
pub struct CustomerFiles;

#[async_trait::async_trait]
impl OrganisationScope for CustomerFiles {
    async fn enter(&self, ctx: &TenantCtx, tx: &mut TenantTx, customer: TenantId) -> AppResult<TenantCtx> {
        CustomerService::require_supplier(ctx)?;
        CustomerService::load_child(tx, ctx.tenant(), customer).await?;
        tx.scope_to(customer).await?;
        Ok(acting_in(ctx, customer))
    }
}
