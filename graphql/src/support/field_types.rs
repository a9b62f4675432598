//! The one GraphQL mapping of field types, for custom fields and plugin fields alike: the type
//! of a field, its choice enum, and its stored JSON value as GraphQL output.

use async_graphql::dynamic::{Enum, EnumItem, TypeRef};
use async_graphql::{Name, Value};
use clientele_kernel::FieldType;
use serde_json::Value as Json;

use crate::support::gql_enum_name;

/// The GraphQL type of a field of type `ty` (nullable); `choice_enum` names the enum of its
/// choices, for choice types.
pub fn type_ref(ty: FieldType, choice_enum: &str) -> TypeRef {
    match ty {
        FieldType::MultiChoice => TypeRef::named_nn_list(choice_enum),
        _ => item_type_ref(ty, choice_enum),
    }
}

/// The GraphQL type of one value of the field: a multi-choice field's values are its choices.
pub fn item_type_ref(ty: FieldType, choice_enum: &str) -> TypeRef {
    TypeRef::named(match ty {
        FieldType::Text | FieldType::LongText => TypeRef::STRING,
        FieldType::Integer => TypeRef::INT,
        FieldType::Decimal => "Decimal",
        FieldType::Boolean => TypeRef::BOOLEAN,
        FieldType::Date => "Date",
        FieldType::Datetime => "DateTime",
        FieldType::Choice | FieldType::MultiChoice => choice_enum,
        FieldType::Reference => TypeRef::ID,
    })
}

/// The enum of a field's choices, one item per choice as it is stored.
pub fn choice_enum(name: &str, choices: &[String]) -> Enum {
    choices.iter().fold(Enum::new(name), |e, c| e.item(EnumItem::new(c)))
}

/// An enum of field types, such as those custom fields may have.
pub fn type_enum(name: &str, types: &[FieldType]) -> Enum {
    types.iter().fold(Enum::new(name), |e, t| e.item(EnumItem::new(gql_enum_name(t.as_str()))))
}

/// A stored value as GraphQL output; choices become enum values.
pub fn output(ty: FieldType, stored: Option<&Json>) -> Value {
    match (ty, stored) {
        (_, None | Some(Json::Null)) => Value::Null,
        (FieldType::Choice, Some(Json::String(s))) => Value::Enum(Name::new(s)),
        (FieldType::MultiChoice, Some(Json::Array(items))) => {
            Value::List(items.iter().filter_map(Json::as_str).map(|s| Value::Enum(Name::new(s))).collect())
        }
        (_, Some(other)) => Value::from_json(other.clone()).unwrap_or(Value::Null),
    }
}
