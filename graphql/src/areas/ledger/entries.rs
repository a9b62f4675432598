//! The account ledger in the schema: `Client.balance` and friends, entry lists, statements,
//! the operations view, and the posting, reversal and dotation mutations.

use async_graphql::Value;
use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::Money;
use clientele_kernel::{AppError, BeneficiaryId, CardId, ClientId, LedgerEntryId};
use clientele_records::clients::ledger::available_credit;
use clientele_records::clients::{
    Client, DotationInput, EntryFilter, EntryInput, LedgerEntry, LedgerKind, Operation, Posted, Statement,
};

use crate::areas::clients::client::records;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::input::{date_arg, opt_id, opt_str, patch_date};
use crate::support::loaders::{LoadCtx, One, load_error, one, relation};
use crate::support::mutations::{Mutation, Mutations, id_in, input, input_id};
use crate::support::{
    Connection, InputNames, Payload, connection_types, datetime, enum_type, enum_value, field, page_args, parse_enum,
    tenant, to_gql, user_errors_field, with_page_args,
};

pub const AREA: Area = Area { register, mutation, client_fields, loaders, ..Area::NONE };

relation!(
    /// Balances of the clients of one page, in one aggregate query; a client without entries has
    /// no row (its balance is 0).
    BalanceOfClient: ClientId => (ClientId, Money),
    |cx, keys| Ok(cx.records.ledger.balances(&cx.ctx, keys).await?.into_iter().collect()),
    |row| Some(row.0)
);

fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    request.data(one::<BalanceOfClient>(cx))
}

fn money(m: Money) -> Value {
    Value::String(m.to_decimal_string())
}

fn text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn id_value(id: Option<LedgerEntryId>) -> Value {
    id.map_or(Value::Null, |id| Value::String(id.to_string()))
}

async fn balance_of(rc: &ResolverContext<'_>, client: ClientId) -> async_graphql::Result<Money> {
    let loaded = rc.data::<DataLoader<One<BalanceOfClient>>>()?.load_one(client).await.map_err(|e| load_error(&e))?;
    Ok(loaded.map(|(_, balance)| balance).unwrap_or_default())
}

fn entry_connection(page: clientele_kernel::page::Page<LedgerEntry>) -> FieldValue<'static> {
    FieldValue::owned_any(Connection::from_page(page, |e| e.id.0))
}

fn entry_type() -> Object {
    let f = |name: &str, ty: TypeRef, get: fn(&LedgerEntry) -> Value| field::<LedgerEntry, _>(name, ty, get);
    Object::new("LedgerEntry")
        .description("LED-07: one append-only account entry. Amounts are signed: below 0 the client owes (LED-02).")
        .field(f("id", TypeRef::named_nn(TypeRef::ID), |e| Value::String(e.id.to_string())))
        .field(f("clientId", TypeRef::named_nn(TypeRef::ID), |e| Value::String(e.client.to_string())))
        .field(f("date", TypeRef::named_nn("Date"), |e| Value::String(e.date.to_string())))
        .field(f("kind", TypeRef::named_nn("LedgerEntryKind"), |e| enum_value(e.kind)))
        .field(f("amount", TypeRef::named_nn("Decimal"), |e| money(e.amount)))
        .field(f("currency", TypeRef::named_nn(TypeRef::STRING), |e| Value::String(e.currency.clone())))
        .field(f("documentRef", TypeRef::named(TypeRef::STRING), |e| text(e.document_ref.as_deref())))
        .field(f("note", TypeRef::named(TypeRef::STRING), |e| text(e.note.as_deref())))
        .field(
            f("authorId", TypeRef::named(TypeRef::ID), |e| {
                e.author.map_or(Value::Null, |u| Value::String(u.to_string()))
            })
            .description("The user who posted it; null for API tokens."),
        )
        .field(
            f("reversesId", TypeRef::named(TypeRef::ID), |e| id_value(e.reverses))
                .description("The entry this one cancels."),
        )
        .field(
            f("reversedById", TypeRef::named(TypeRef::ID), |e| id_value(e.reversed_by))
                .description("The entry that cancels this one."),
        )
        .field(
            f("beneficiaryId", TypeRef::named(TypeRef::ID), |e| {
                e.beneficiary.map_or(Value::Null, |b| Value::String(b.to_string()))
            })
            .description("LED-07: the beneficiary it was posted for."),
        )
        .field(
            f("cardId", TypeRef::named(TypeRef::ID), |e| e.card.map_or(Value::Null, |c| Value::String(c.to_string())))
                .description("LED-07: the card it was posted with."),
        )
        .field(f("createdAt", TypeRef::named_nn("DateTime"), |e| datetime(e.created_at)))
}

fn statement_type() -> Object {
    let f =
        |name: &str, ty: &str, get: fn(&Statement) -> Value| field::<Statement, _>(name, TypeRef::named_nn(ty), get);
    Object::new("AccountStatement")
        .description(
            "LED-09, LED-10, LED-13: a period of a client's account. \
             closingBalance = openingBalance + totalCredits - totalDebits.",
        )
        .field(field::<Statement, _>("from", TypeRef::named("Date"), |s| {
            s.from.map_or(Value::Null, |d| Value::String(d.to_string()))
        }))
        .field(f("to", "Date", |s| Value::String(s.to.to_string())))
        .field(f("openingBalance", "Decimal", |s| money(s.opening)).description("The balance before `from`."))
        .field(f("closingBalance", "Decimal", |s| money(s.closing)).description("The balance at the end of `to`."))
        .field(
            f("totalDebits", "Decimal", |s| money(s.debits))
                .description("Charged to the client, as a positive amount."),
        )
        .field(f("totalCredits", "Decimal", |s| money(s.credits)))
        .field(
            f("invoiceCount", TypeRef::INT, |s| Value::from(s.invoice_count))
                .description("Invoices that stand (a reversal cancels one)."),
        )
        .field(f("paymentCount", TypeRef::INT, |s| Value::from(s.payment_count)))
        .field(f("entryCount", TypeRef::INT, |s| Value::from(s.entry_count)))
        .field(with_page_args(Field::new("entries", TypeRef::named_nn("LedgerEntryConnection"), |rc| {
            FieldFuture::new(async move {
                let s = rc.parent_value.try_downcast_ref::<Statement>()?;
                let filter =
                    EntryFilter { from: s.from, to: Some(s.to), beneficiary: s.beneficiary, ..EntryFilter::default() };
                let page = records(&rc)?
                    .ledger
                    .entries(tenant(&rc)?, s.client, &filter, page_args(&rc)?)
                    .await
                    .map_err(to_gql)?;
                Ok(Some(entry_connection(page)))
            })
        })))
}

fn operation_type() -> Object {
    Object::new("LedgerOperation")
        .description("LED-14: a client's entries of one kind.")
        .field(field::<Operation, _>("kind", TypeRef::named_nn("LedgerEntryKind"), |o| enum_value(o.kind)))
        .field(
            field::<Operation, _>("count", TypeRef::named_nn(TypeRef::INT), |o| Value::from(o.count))
                .description("Entries that stand: originals minus reversals."),
        )
        .field(field::<Operation, _>("total", TypeRef::named_nn("Decimal"), |o| money(o.total)))
}

fn payload_type() -> Object {
    let posted = |rc: &ResolverContext<'_>| -> async_graphql::Result<Option<Posted>> {
        let payload = rc.parent_value.try_downcast_ref::<Payload>()?;
        Ok(payload.node.as_deref().and_then(|n| n.downcast_ref::<Posted>()).cloned())
    };
    Object::new("LedgerEntryPayload")
        .field(Field::new("entry", TypeRef::named("LedgerEntry"), move |rc| {
            FieldFuture::new(async move { Ok(posted(&rc)?.map(|p| FieldValue::owned_any(p.entry))) })
        }))
        .field(
            Field::new("balance", TypeRef::named("Decimal"), move |rc| {
                FieldFuture::new(async move { Ok(posted(&rc)?.map(|p| FieldValue::value(money(p.balance)))) })
            })
            .description("The account balance after this entry."),
        )
        .field(user_errors_field())
}

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    let [connection, edge] = connection_types("LedgerEntry");
    builder
        .register(enum_type::<LedgerKind>("LedgerEntryKind"))
        .register(entry_type())
        .register(connection)
        .register(edge)
        .register(statement_type())
        .register(operation_type())
        .register(payload_type())
}

/// Adds the ledger fields to the `Client` type.
fn client_fields(client: Object, _: &SchemaShape) -> Object {
    client
        .field(
            Field::new("balance", TypeRef::named_nn("Decimal"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    Ok(Some(FieldValue::value(money(balance_of(&rc, id).await?))))
                })
            })
            .description("LED-02: below 0 the client owes the business, above 0 the business owes the client."),
        )
        .field(
            Field::new("availableCredit", TypeRef::named("Decimal"), |rc| {
                FieldFuture::new(async move {
                    let client = rc.parent_value.try_downcast_ref::<Client>()?;
                    let balance = balance_of(&rc, client.id).await?;
                    let available = available_credit(client.account_kind, client.credit_limit, balance);
                    Ok(available.map(|m| FieldValue::value(money(m))))
                })
            })
            .description("LED-12: credit limit + balance (deposit accounts: the balance); null without an account."),
        )
        .field(
            with_page_args(Field::new("ledgerEntries", TypeRef::named_nn("LedgerEntryConnection"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let kinds = match rc.args.get("kinds").filter(|v| !v.is_null()) {
                        Some(list) => {
                            list.list()?.iter().filter_map(|v| v.enum_name().ok().and_then(parse_enum)).collect()
                        }
                        None => Vec::new(),
                    };
                    let debits_only = match rc.args.get("debitsOnly").filter(|v| !v.is_null()) {
                        Some(v) => v.boolean()?,
                        None => false,
                    };
                    let filter = EntryFilter {
                        kinds,
                        from: date_arg(&rc, "from")?,
                        to: date_arg(&rc, "to")?,
                        debits_only,
                        beneficiary: None,
                    };
                    let page = records(&rc)?
                        .ledger
                        .entries(tenant(&rc)?, id, &filter, page_args(&rc)?)
                        .await
                        .map_err(to_gql)?;
                    Ok(Some(entry_connection(page)))
                })
            }))
            .argument(InputValue::new("kinds", TypeRef::named_nn_list("LedgerEntryKind")).description("Default: all."))
            .argument(InputValue::new("from", TypeRef::named("Date")))
            .argument(InputValue::new("to", TypeRef::named("Date")))
            .argument(
                InputValue::new("debitsOnly", TypeRef::named(TypeRef::BOOLEAN)).description("LED-11: hide credits."),
            )
            .description("LED-08: entries in date order, then posting order."),
        )
        .field(
            Field::new("statement", TypeRef::named_nn("AccountStatement"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let (from, to) = (date_arg(&rc, "from")?, date_arg(&rc, "to")?);
                    let statement = records(&rc)?.ledger.statement(tenant(&rc)?, id, from, to).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::owned_any(statement)))
                })
            })
            .argument(InputValue::new("from", TypeRef::named("Date")).description("Default: since the first entry."))
            .argument(InputValue::new("to", TypeRef::named("Date")).description("Default: today.")),
        )
        .field(
            Field::new("operations", TypeRef::named_nn_list_nn("LedgerOperation"), |rc| {
                FieldFuture::new(async move {
                    let id = rc.parent_value.try_downcast_ref::<Client>()?.id;
                    let (from, to) = (date_arg(&rc, "from")?, date_arg(&rc, "to")?);
                    let list = records(&rc)?.ledger.operations(tenant(&rc)?, id, from, to).await.map_err(to_gql)?;
                    Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
                })
            })
            .argument(InputValue::new("from", TypeRef::named("Date")))
            .argument(InputValue::new("to", TypeRef::named("Date")))
            .description("LED-14: entries grouped by kind."),
        )
}

/// Entry inputs not named as the camelCase of their domain field.
const ENTRY_INPUT: InputNames = InputNames::renaming(&[("beneficiary", "beneficiaryId"), ("card", "cardId")]);

fn posted(result: Result<Posted, AppError>) -> async_graphql::Result<Option<FieldValue<'static>>> {
    ENTRY_INPUT.payload(result)
}

fn entry_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<EntryInput> {
    let kind = parse_enum::<LedgerKind>(input.try_get("kind")?.enum_name()?)
        .ok_or_else(|| to_gql(AppError::invalid("kind", "Unknown kind of entry.")))?;
    Ok(EntryInput {
        kind,
        amount: input.try_get("amount")?.string()?.to_owned(),
        date: patch_date(input, "date")?.flatten(),
        document_ref: opt_str(input, "documentRef")?,
        note: opt_str(input, "note")?,
        beneficiary: opt_id::<BeneficiaryId>(input, "beneficiaryId")?,
        card: opt_id::<CardId>(input, "cardId")?,
    })
}

fn dotation_input(input: &ObjectAccessor<'_>) -> async_graphql::Result<DotationInput> {
    Ok(DotationInput {
        amount: input.try_get("amount")?.string()?.to_owned(),
        month: opt_str(input, "month")?,
        date: patch_date(input, "date")?.flatten(),
        note: opt_str(input, "note")?,
    })
}

/// The fields of the inputs that were `LedgerEntryInput`.
fn entry_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("kind", TypeRef::named_nn("LedgerEntryKind")),
        InputValue::new("amount", TypeRef::named_nn("Decimal")),
        InputValue::new("date", TypeRef::named("Date")).description("Default: today; never in the future."),
        InputValue::new("documentRef", TypeRef::named(TypeRef::STRING)),
        InputValue::new("note", TypeRef::named(TypeRef::STRING)),
        InputValue::new("beneficiaryId", TypeRef::named(TypeRef::ID))
            .description("LED-07: the beneficiary of the client the entry is for."),
        InputValue::new("cardId", TypeRef::named(TypeRef::ID))
            .description("LED-07: the card used; it names its holder. Refused with CARD_BLOCKED."),
    ]
}

/// The fields of the inputs that were `DotationInput`.
fn dotation_fields() -> Vec<InputValue> {
    vec![
        InputValue::new("amount", TypeRef::named_nn("Decimal")),
        InputValue::new("month", TypeRef::named(TypeRef::STRING))
            .description("YYYY-MM: the monthly allowance of that month, posted at most once."),
        InputValue::new("date", TypeRef::named("Date")),
        InputValue::new("note", TypeRef::named(TypeRef::STRING)),
    ]
}

fn mutation(mutation: Mutations, _: &SchemaShape) -> Mutations {
    mutation
        .field(
            Mutation::new(
                "postLedgerEntry",
                "LedgerEntryPayload",
                resolver!(|rc| {
                    let client: ClientId = id_in(&rc, "clientId")?;
                    let input = entry_input(&input(&rc)?)?;
                    posted(records(&rc)?.ledger.post(tenant(&rc)?, client, input).await)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .inputs(entry_fields()).input_description("INVOICE and CREDIT_WITHDRAWN lower the balance, CREDIT_NOTE, PAYMENT, CREDIT_ADDED and DOTATION raise it: type a positive amount. OPENING and ADJUSTMENT take a signed amount.")
            .description(
                "LED-07: posts an entry. Refused with CLIENT_BLOCKED (LIF-01), CLIENT_UNAVAILABLE (trash, \
                 anonymised), CREDIT_LIMIT_EXCEEDED (LED-04, LED-05), BENEFICIARY_BLOCKED or CARD_BLOCKED.",
            ),
        )
        .field(
            Mutation::new(
                "reverseLedgerEntry",
                "LedgerEntryPayload",
                resolver!(|rc| {
                    let id: LedgerEntryId = input_id(&rc)?;
                    let reason = input(&rc)?.try_get("reason")?.string()?.to_owned();
                    posted(records(&rc)?.ledger.reverse(tenant(&rc)?, id, reason).await)
                }),
            )
            .input(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("reason", TypeRef::named_nn(TypeRef::STRING)))
            .description("Cancels an entry with one of the opposite amount; each entry once, reversals never."),
        )
        .field(
            Mutation::new(
                "postDotation",
                "LedgerEntryPayload",
                resolver!(|rc| {
                    let client: ClientId = id_in(&rc, "clientId")?;
                    let input = dotation_input(&input(&rc)?)?;
                    posted(records(&rc)?.ledger.post_dotation(tenant(&rc)?, client, input).await)
                }),
            )
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .inputs(dotation_fields()).input_description("LED-17: an allowance credited to the client.")
            .description("LED-17: credits a dotation (deposit and credit accounts)."),
        )
}
