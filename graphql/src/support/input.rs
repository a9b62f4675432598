//! Reading input objects: absent, null and present are three different things for patches.

use async_graphql::Value;
use async_graphql::dynamic::{ObjectAccessor, ResolverContext, ValueAccessor};
use clientele_kernel::AppError;

use crate::support::{parse_enum, to_gql};

type Res<T> = async_graphql::Result<T>;

fn present<'a>(input: &'a ObjectAccessor<'a>, name: &str) -> Option<ValueAccessor<'a>> {
    input.get(name)
}

/// `None` absent, `Some(None)` null, `Some(Some(s))` a string.
pub fn patch_str(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<Option<String>>> {
    match present(input, name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(Some(None)),
        Some(v) => Ok(Some(Some(v.string()?.to_owned()))),
    }
}

pub fn opt_str(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<String>> {
    Ok(patch_str(input, name)?.flatten())
}

pub fn opt_bool(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<bool>> {
    match present(input, name) {
        Some(v) if !v.is_null() => Ok(Some(v.boolean()?)),
        _ => Ok(None),
    }
}

pub fn opt_i64(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<i64>> {
    match present(input, name) {
        Some(v) if !v.is_null() => Ok(Some(v.i64()?)),
        _ => Ok(None),
    }
}

/// The item name of an enum argument, if given.
pub fn opt_enum_name(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<String>> {
    match present(input, name) {
        Some(v) if !v.is_null() => Ok(Some(v.enum_name()?.to_owned())),
        _ => Ok(None),
    }
}

pub fn opt_enum<E>(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<E>>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    Ok(patch_enum(input, name)?.flatten())
}

pub fn patch_enum<E>(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<Option<E>>>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    match present(input, name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(Some(None)),
        Some(v) => Ok(Some(parse_enum::<E>(v.enum_name()?))),
    }
}

/// A typed id: malformed ones are `INVALID_ID`.
pub fn patch_id<T: std::str::FromStr<Err = AppError>>(
    input: &ObjectAccessor<'_>,
    name: &str,
) -> Res<Option<Option<T>>> {
    match present(input, name) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(Some(None)),
        Some(v) => {
            let raw = match v.as_value() {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok(Some(Some(raw.parse::<T>().map_err(to_gql)?)))
        }
    }
}

/// A required typed id.
pub fn id<T: std::str::FromStr<Err = AppError>>(input: &ObjectAccessor<'_>, name: &str) -> Res<T> {
    opt_id(input, name)?.ok_or_else(|| to_gql(AppError::invalid(name, "Give an id here.")))
}

pub fn opt_id<T: std::str::FromStr<Err = AppError>>(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<T>> {
    Ok(patch_id(input, name)?.flatten())
}

/// A list of typed ids (absent or null: none).
pub fn ids<T: std::str::FromStr<Err = AppError>>(input: &ObjectAccessor<'_>, name: &str) -> Res<Vec<T>> {
    Ok(opt_ids(input, name)?.unwrap_or_default())
}

/// A list of typed ids, `None` when absent or null.
pub fn opt_ids<T: std::str::FromStr<Err = AppError>>(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<Vec<T>>> {
    let Some(list) = present(input, name).filter(|v| !v.is_null()) else { return Ok(None) };
    let list = list.list()?;
    let ids = list.iter().map(|v| v.string().and_then(|s| s.parse::<T>().map_err(to_gql)));
    Ok(Some(ids.collect::<Res<Vec<T>>>()?))
}

/// A required enum value (its field is non-null in the schema).
pub fn enumeration<E>(input: &ObjectAccessor<'_>, name: &str) -> Res<E>
where
    E: strum::IntoEnumIterator + Into<&'static str> + Copy,
{
    opt_enum::<E>(input, name)?.ok_or_else(|| to_gql(AppError::invalid(name, "Required.")))
}

/// A `Date` (YYYY-MM-DD); the scalar's validator already refused other shapes.
pub fn patch_date(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<Option<chrono::NaiveDate>>> {
    Ok(match patch_str(input, name)? {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(
            chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
                .map_err(|_| to_gql(AppError::invalid(name, "Use a date as YYYY-MM-DD.")))?,
        )),
    })
}

/// An input object as JSON (enum values become strings).
pub fn json_object(input: &ObjectAccessor<'_>, name: &str) -> Res<Option<serde_json::Map<String, serde_json::Value>>> {
    match present(input, name) {
        Some(v) if !v.is_null() => match v.as_value().clone().into_json()? {
            serde_json::Value::Object(map) => Ok(Some(map)),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// A `Date` argument (the scalar already refused other shapes).
pub fn date_arg(rc: &ResolverContext<'_>, name: &str) -> Res<Option<chrono::NaiveDate>> {
    match rc.args.get(name).filter(|v| !v.is_null()) {
        Some(v) => chrono::NaiveDate::parse_from_str(v.string()?, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| to_gql(AppError::invalid(name, "Use a date as YYYY-MM-DD."))),
        None => Ok(None),
    }
}
