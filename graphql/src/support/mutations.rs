//! The one mutation convention: `name(input: <Name>Input!): <Payload>!`. A [`Mutation`] holds
//! its field and the fields of its input object; [`Mutations`] gathers every area's and
//! registers the input objects with them, so an input is declared once, beside its resolver.

use async_graphql::dynamic::{
    Field, FieldFuture, InputObject, InputValue, Object, ObjectAccessor, ResolverContext, SchemaBuilder, TypeRef,
};
use async_graphql::{ErrorExtensionValues, Value};

use crate::support::wire::INPUT;

/// Every mutation of a schema and their input objects.
pub struct Mutations {
    root: Object,
    inputs: Vec<InputObject>,
}

impl Default for Mutations {
    fn default() -> Self {
        Self { root: Object::new("Mutation"), inputs: Vec::new() }
    }
}

impl Mutations {
    /// Adds `mutation` (and its input object).
    #[must_use]
    pub fn field(mut self, mutation: Mutation) -> Self {
        let mut field = mutation.field;
        if let Some(input) = mutation.input {
            field = field.argument(InputValue::new(INPUT, TypeRef::named_nn(input.type_name())));
            self.inputs.push(input);
        }
        self.root = self.root.field(field);
        self
    }

    /// Registers `Mutation` and the input objects.
    pub fn register(self, builder: SchemaBuilder) -> SchemaBuilder {
        self.inputs.into_iter().fold(builder.register(self.root), SchemaBuilder::register)
    }
}

/// One mutation: its field returning `<payload>!`, and `<Name>Input` once it has an input field.
pub struct Mutation {
    name: String,
    field: Field,
    input: Option<InputObject>,
}

impl Mutation {
    /// `name` answering `payload`; errors its resolver returns name their fields under `input`.
    pub fn new<F>(name: &str, payload: &str, resolve: F) -> Self
    where
        F: for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static,
    {
        let field = Field::new(name, TypeRef::named_nn(payload), move |rc: ResolverContext<'_>| match resolve(rc) {
            FieldFuture::Future(fut) => FieldFuture::Future(Box::pin(async move {
                fut.await.map_err(|mut err| {
                    under_input(err.extensions.as_mut());
                    err
                })
            })),
            value @ FieldFuture::Value(_) => value,
        });
        Self { name: name.to_owned(), field, input: None }
    }

    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.field = self.field.description(text);
        self
    }

    /// Adds a field to the mutation's input object, `<Name>Input`.
    #[must_use]
    pub fn input(self, field: InputValue) -> Self {
        self.inputs([field])
    }

    /// Adds fields to the mutation's input object (an input's shared field list).
    #[must_use]
    pub fn inputs(mut self, fields: impl IntoIterator<Item = InputValue>) -> Self {
        for field in fields {
            let name = self.input_name();
            self.input = Some(self.input.take().unwrap_or_else(|| InputObject::new(name)).field(field));
        }
        self
    }

    /// Describes the input object (give its fields first).
    #[must_use]
    pub fn input_description(mut self, text: impl Into<String>) -> Self {
        self.input = self.input.take().map(|input| input.description(text));
        self
    }

    fn input_name(&self) -> String {
        let mut chars = self.name.chars();
        let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
        first.chain(chars).chain("Input".chars()).collect()
    }
}

/// The mutation's `input` argument.
pub fn input<'a>(rc: &'a ResolverContext<'_>) -> async_graphql::Result<ObjectAccessor<'a>> {
    rc.args.try_get(INPUT)?.object()
}

/// The `id: ID!` field of the input of a mutation that changes one record.
pub fn id_field() -> InputValue {
    InputValue::new("id", TypeRef::named_nn(TypeRef::ID))
}

/// The typed `id` of the mutation's input.
pub fn input_id<T: std::str::FromStr<Err = clientele_kernel::AppError>>(
    rc: &ResolverContext<'_>,
) -> async_graphql::Result<T> {
    crate::support::input::id(&input(rc)?, "id")
}

/// The typed id at `name` of the mutation's input.
pub fn id_in<T: std::str::FromStr<Err = clientele_kernel::AppError>>(
    rc: &ResolverContext<'_>,
    name: &str,
) -> async_graphql::Result<T> {
    crate::support::input::id(&input(rc)?, name)
}

/// `extensions.field` of a mutation's error is a path under its `input` argument.
fn under_input(extensions: Option<&mut ErrorExtensionValues>) {
    let Some(extensions) = extensions else { return };
    if let Some(Value::List(path)) = extensions.get("field") {
        let mut under = vec![Value::String(INPUT.to_owned())];
        under.extend(path.iter().cloned());
        extensions.set("field", Value::List(under));
    }
}
