//! The organisation's lists and terms (issue 15, screen 5, beside [`crate::settings`]): the
//! lookups clients point at (tariffs, payment terms, shipping terms, payment methods,
//! cross-discount categories: BIL-15), the staff directory, and the sponsorship settings
//! (REF-01..03). Same services as the API's mutations; entries records point at are
//! deactivated, never deleted. Everyone sees them, those who may manage settings get the controls.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, LookupId, Permission, StaffId};
use clientele_records::clients::{
    Lookup, LookupInput, LookupKind, ReferralSettings, ReferralSettingsInput, RewardKind, StaffInput, StaffMember,
};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::session::Signed;
use crate::view::{self, Base, FieldErrors, redirect};

/// What a form of these pages sent; shown again with its messages after a refusal.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ListFields {
    kind: String,
    code: String,
    label: String,
    name: String,
    representative: String,
    delivery: String,
    salesperson: String,
    /// `1` reactivates, anything else deactivates.
    active: String,
    enabled: String,
    reward_kind: String,
    reward_value: String,
    skip_discount_forbidden: String,
    offer_text: String,
    print_on_receipt: String,
}

/// One lookup list as shown.
pub(crate) struct LookupList {
    kind: &'static str,
    entries: Vec<Lookup>,
}

#[derive(Template)]
#[template(path = "settings_lists.html")]
struct ListsPage {
    base: Base,
    can_manage: bool,
    lists: Vec<LookupList>,
    staff: Vec<StaffMember>,
    /// The form of the last refusal (a lookup kind, or `staff`), its values and messages.
    form: String,
    f: ListFields,
    errors: FieldErrors,
}

impl ListsPage {
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        (self.form == form).then(|| self.errors.get(field)).flatten()
    }

    fn value(&self, form: &str, field: &str) -> &str {
        match (self.form == form, field) {
            (true, "code") => &self.f.code,
            (true, "label") => &self.f.label,
            (true, "name") => &self.f.name,
            _ => "",
        }
    }
}

#[derive(Template)]
#[template(path = "settings_referral.html")]
struct ReferralPage {
    base: Base,
    can_manage: bool,
    /// The saved settings, or what a refused form sent.
    enabled: bool,
    reward_kind: String,
    reward_value: String,
    skip_discount_forbidden: bool,
    offer_text: String,
    print_on_receipt: bool,
    errors: FieldErrors,
}

impl ReferralPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }

    fn is_kind(&self, kind: &str) -> bool {
        self.reward_kind == kind
    }
}

fn checked(box_value: &str) -> bool {
    box_value == "1"
}

async fn lists_page(
    console: &crate::Console,
    caller: &Signed,
    form: String,
    f: ListFields,
    errors: FieldErrors,
) -> Response {
    let ctx = &caller.auth.ctx;
    let lookups = &console.records.lookups;
    let read = async {
        let mut lists = Vec::new();
        for kind in LookupKind::iter() {
            lists.push(LookupList { kind: kind.as_str(), entries: lookups.lookups(ctx, kind, false).await? });
        }
        Ok::<_, AppError>((lists, lookups.staff(ctx, false).await?))
    }
    .await;
    let (lists, staff) = match read {
        Ok(read) => read,
        Err(err) => return view::failed(console, caller, &err),
    };
    let status = if form.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ListsPage {
        base: Base::of(console, caller, "/settings/lists"),
        can_manage: ctx.can(Permission::ManageSettings),
        lists,
        staff,
        form,
        f,
        errors,
    };
    view::html(status, &page)
}

/// After a change: back to the page, or the refused form (`form`) with its messages.
async fn done<T>(
    console: &crate::Console,
    caller: &Signed,
    form: &str,
    f: ListFields,
    result: Result<T, AppError>,
) -> Response {
    match result {
        Ok(_) => redirect("/settings/lists", caller.htmx),
        Err(err) if err.is_user_error() => {
            let errors = FieldErrors::of(&err, caller.lang);
            lists_page(console, caller, form.to_owned(), f, errors).await
        }
        Err(err) => view::failed(console, caller, &err),
    }
}

fn parse<T>(raw: &str, make: fn(uuid::Uuid) -> T) -> Result<T, AppError> {
    raw.parse::<uuid::Uuid>().map(make).map_err(|_| AppError::not_found())
}

/// `GET /settings/lists`.
pub(crate) async fn lists(State(console): State<Arc<crate::Console>>, caller: Signed) -> Response {
    lists_page(&console, &caller, String::new(), ListFields::default(), FieldErrors::default()).await
}

/// `POST /settings/lists`: a new entry of the list `kind`.
pub(crate) async fn add_lookup(
    State(console): State<Arc<crate::Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<ListFields>,
) -> Response {
    let Ok(kind) = f.kind.parse::<LookupKind>() else {
        return view::failed(&console, &caller, &AppError::invalid("kind", "Choose a list."));
    };
    let input = LookupInput {
        kind: Some(kind),
        code: Some(f.code.trim().to_owned()),
        label: Some(f.label.trim().to_owned()),
        ..LookupInput::default()
    };
    let result = console.records.lookups.save_lookup(&caller.auth.ctx, None, input).await;
    done(&console, &caller, kind.as_str(), f, result).await
}

/// `POST /settings/lists/{id}/active`: deactivates or reactivates an entry.
pub(crate) async fn set_lookup_active(
    State(console): State<Arc<crate::Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ListFields>,
) -> Response {
    let result = async {
        let input = LookupInput { active: Some(checked(&f.active)), ..LookupInput::default() };
        console.records.lookups.save_lookup(&caller.auth.ctx, Some(parse(&id, LookupId)?), input).await
    };
    done(&console, &caller, "", ListFields::default(), result.await).await
}

/// `POST /settings/staff`: a new member of the staff directory.
pub(crate) async fn add_staff(
    State(console): State<Arc<crate::Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<ListFields>,
) -> Response {
    let input = StaffInput {
        name: Some(f.name.trim().to_owned()),
        is_representative: Some(checked(&f.representative)),
        is_delivery_person: Some(checked(&f.delivery)),
        is_salesperson: Some(checked(&f.salesperson)),
        ..StaffInput::default()
    };
    let result = console.records.lookups.save_staff(&caller.auth.ctx, None, input).await;
    done(&console, &caller, "staff", f, result).await
}

/// `POST /settings/staff/{id}/active`: a member leaves the directory's choices, or comes back.
pub(crate) async fn set_staff_active(
    State(console): State<Arc<crate::Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ListFields>,
) -> Response {
    let result = async {
        let id = parse(&id, StaffId)?;
        let ctx = &caller.auth.ctx;
        if checked(&f.active) {
            let input = StaffInput { active: Some(true), ..StaffInput::default() };
            console.records.lookups.save_staff(ctx, Some(id), input).await
        } else {
            console.records.lookups.deactivate_staff(ctx, id).await
        }
    };
    done(&console, &caller, "", ListFields::default(), result.await).await
}

fn referral_page(console: &crate::Console, caller: &Signed, s: &ReferralSettings) -> ReferralPage {
    ReferralPage {
        base: Base::of(console, caller, "/settings/referral"),
        can_manage: caller.auth.ctx.can(Permission::ManageSettings),
        enabled: s.enabled,
        reward_kind: s.reward_kind.as_str().to_owned(),
        reward_value: s.reward_value.to_decimal_string(),
        skip_discount_forbidden: s.skip_discount_forbidden,
        offer_text: s.offer_text.clone().unwrap_or_default(),
        print_on_receipt: s.print_on_receipt,
        errors: FieldErrors::default(),
    }
}

/// `GET /settings/referral`.
pub(crate) async fn referral(State(console): State<Arc<crate::Console>>, caller: Signed) -> Response {
    match console.records.referral.settings(&caller.auth.ctx).await {
        Ok(settings) => view::ok(&referral_page(&console, &caller, &settings)),
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// `POST /settings/referral`: every setting as the form shows it (an unticked box is off).
pub(crate) async fn save_referral(
    State(console): State<Arc<crate::Console>>,
    caller: Signed,
    axum::Form(f): axum::Form<ListFields>,
) -> Response {
    let result = async {
        let kind =
            f.reward_kind.parse::<RewardKind>().map_err(|_| AppError::invalid("reward_kind", "Choose a reward."))?;
        let offer = f.offer_text.trim();
        let input = ReferralSettingsInput {
            enabled: Some(checked(&f.enabled)),
            reward_kind: Some(kind),
            reward_value: Some(f.reward_value.trim().replace(',', ".")),
            skip_discount_forbidden: Some(checked(&f.skip_discount_forbidden)),
            offer_text: Some(Some(offer.to_owned()).filter(|o| !o.is_empty())),
            print_on_receipt: Some(checked(&f.print_on_receipt)),
        };
        console.records.referral.update_settings(&caller.auth.ctx, input).await
    }
    .await;
    match result {
        Ok(_) => redirect("/settings/referral", caller.htmx),
        Err(err) if err.is_user_error() => {
            let page = ReferralPage {
                base: Base::of(&console, &caller, "/settings/referral"),
                can_manage: true,
                enabled: checked(&f.enabled),
                reward_kind: f.reward_kind.clone(),
                reward_value: f.reward_value.clone(),
                skip_discount_forbidden: checked(&f.skip_discount_forbidden),
                offer_text: f.offer_text.clone(),
                print_on_receipt: checked(&f.print_on_receipt),
                errors: FieldErrors::of(&err, caller.lang),
            };
            view::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}
