//! The upload check of a plugin's GraphQL names. A plugin's types and root fields share one
//! namespace with the API's and with the other plugins its supplier can enable beside it, and
//! `SchemaBuilder` silently lets a later definition replace an earlier one. So the check builds
//! the schema without and with the plugin and compares them: the plugin may add types, and
//! fields to the types plugins extend (`Query`, `Mutation`, `Client`), but never change or
//! replace a definition that was there, nor take a name the API reserves. Derived from the
//! built schemas, it covers every name the areas generate (`…Input`, `…Payload`, choice enums)
//! without repeating their naming rules.

use std::collections::BTreeMap;

use async_graphql::parser::types::{FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition};
use clientele_kernel::{AppError, AppResult};
use clientele_plugins::Manifest;
use clientele_plugins::manifest::pascal;

use crate::schema::{PluginSchema, SchemaShape, build};

/// Type names no plugin may take although the schema may not define them: the three root
/// operation types (tools such as graphql-tools take a type named `Subscription` for the
/// subscription root by its name alone) and GraphQL's own scalars.
const RESERVED: &[&str] = &["Query", "Mutation", "Subscription", "Int", "Float", "String", "Boolean", "ID"];

/// The types a plugin adds fields to.
const EXTENDED: &[&str] = &["Query", "Mutation", "Client"];

/// Every type of a schema: its kind and description, and each member (field, argument list,
/// enum value) as comparable text.
type Definitions = BTreeMap<String, (String, BTreeMap<String, String>)>;

/// Refuses `manifest` when one of its GraphQL names clashes with the API's or with one of
/// `others`, the manifests of its supplier's other plugins (any of which a customer may have
/// enabled beside it): one `CONFLICT` per clashing name, its field the manifest's field that
/// makes it (`component.collections.1.name`).
pub fn check(manifest: &Manifest, others: &[Manifest]) -> AppResult<()> {
    let mut found: Vec<(String, AppError)> = Vec::new();
    clashes(&[], manifest, "the API", &mut found)?;
    for other in others {
        let by = format!("the plugin `{}` {}", other.name, other.version);
        clashes(std::slice::from_ref(other), manifest, &by, &mut found)?;
    }
    AppError::all(found.into_iter().map(|(_, e)| e).collect()).map_or(Ok(()), Err)
}

/// Adds to `found` the clashes of `manifest` with the schema of the API and `beside` (a name
/// found already, against the API, is not reported again).
fn clashes(beside: &[Manifest], manifest: &Manifest, by: &str, found: &mut Vec<(String, AppError)>) -> AppResult<()> {
    let plugin = |m: &Manifest| PluginSchema {
        name: m.name.clone(),
        version: m.version.clone(),
        manifest: m.clone(),
        enabled: true,
    };
    // The reference tenant's custom fields (one of every kind) bring the types they make.
    let before = SchemaShape { plugins: beside.iter().map(plugin).collect(), ..SchemaShape::reference() };
    let mut clash = |name: &str, why: &str| {
        if !found.iter().any(|(n, _)| n == name) {
            let at = origin(manifest, name);
            let error = AppError::conflict(&format!("component.{at}"), format!("`{name}` (made by `{at}`) {why}."));
            found.push((name.to_owned(), error));
        }
    };
    let before_definitions = definitions(&before)?.map_err(AppError::internal)?;
    // A field declared twice on one type stops the build: report it, set the declaration
    // that makes it aside under a name of its own, and build again for the other clashes.
    let mut trial = manifest.clone();
    let after = loop {
        let mut after = before.clone();
        after.plugins.push(plugin(&trial));
        match definitions(&after)? {
            Ok(after) => break after,
            Err(field) => {
                clash(&field, &format!("is already a field of `Query`, `Mutation` or `Client` in {by}"));
                if !set_aside(&mut trial, &origin(manifest, &field)) {
                    return Ok(());
                }
            }
        }
    };
    for (name, (kind, members)) in &after {
        let Some((was_kind, was_members)) = before_definitions.get(name) else {
            if RESERVED.contains(&name.as_str()) || name.starts_with("__") {
                clash(name, "is a name GraphQL tools reserve");
            }
            continue;
        };
        if was_kind != kind || !EXTENDED.contains(&name.as_str()) {
            if (was_kind, was_members) != (kind, members) {
                clash(name, &format!("is already a type of {by}"));
            }
            continue;
        }
        for (member, text) in was_members {
            if members.get(member) != Some(text) {
                clash(member, &format!("is already a field of `{name}` in {by}"));
            }
        }
    }
    Ok(())
}

/// Renames the declaration at `at` (an [`origin`] path) to a name no schema has; false when
/// it was set aside already or the path names none.
fn set_aside(manifest: &mut Manifest, at: &str) -> bool {
    let parts: Vec<&str> = at.split('.').collect();
    let aside = format!("zzSetAside{}", at.replace('.', "x"));
    let slot = match (parts.as_slice(), parts.get(1).and_then(|i| i.parse::<usize>().ok())) {
        (["collections", _, "name"], Some(i)) => manifest.collections.get_mut(i).map(|c| &mut c.name),
        (["collections", _, "plural"], Some(i)) => manifest.collections.get_mut(i).map(|c| &mut c.plural),
        (["actions", _, "name"], Some(i)) => manifest.actions.get_mut(i).map(|a| &mut a.name),
        (["computed", _, "name"], Some(i)) => manifest.computed.get_mut(i).map(|c| &mut c.name),
        (["customFields", _, "field", "name"], Some(i)) => manifest.custom_fields.get_mut(i).map(|f| &mut f.field.name),
        _ => None,
    };
    match slot {
        Some(name) if *name != aside => {
            *name = aside;
            true
        }
        _ => false,
    }
}

/// The definitions of the schema of `shape`, read back from its SDL; `Err(Ok(field))` when two
/// fields of one type share a name (the builder panics on that rather than replacing one).
fn definitions(shape: &SchemaShape) -> AppResult<Result<Definitions, String>> {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(shape)));
    let schema = match built {
        Ok(schema) => schema.map_err(|e| AppError::internal(e.to_string()))?,
        Err(panic) => {
            let message = panic.downcast_ref::<String>().map_or("", String::as_str);
            let field = message.strip_prefix("Field `").and_then(|m| m.strip_suffix("` already exists"));
            return field
                .map(|f| Err(f.to_owned()))
                .ok_or_else(|| AppError::internal(format!("schema build: {message}")));
        }
    };
    let sdl = schema.sdl();
    let document = async_graphql::parser::parse_schema(&sdl).map_err(AppError::internal)?;
    let describe = |d: &Option<async_graphql::Positioned<String>>| d.as_ref().map(|d| d.node.clone());
    let input = |v: &InputValueDefinition| {
        let default = v.default_value.as_ref().map(|d| d.node.to_string());
        format!("{:?} {}: {} = {default:?}", describe(&v.description), v.name.node, v.ty.node)
    };
    let field = |f: &FieldDefinition| {
        let args: Vec<String> = f.arguments.iter().map(|a| input(&a.node)).collect();
        format!("{:?} ({}): {}", describe(&f.description), args.join(", "), f.ty.node)
    };
    let mut out = Definitions::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = ty.node;
        let members: BTreeMap<String, String> = match &ty.kind {
            TypeKind::Scalar => BTreeMap::new(),
            TypeKind::Object(o) => o.fields.iter().map(|f| (f.node.name.node.to_string(), field(&f.node))).collect(),
            TypeKind::Interface(i) => i.fields.iter().map(|f| (f.node.name.node.to_string(), field(&f.node))).collect(),
            TypeKind::Union(u) => u.members.iter().map(|m| (m.node.to_string(), String::new())).collect(),
            TypeKind::Enum(e) => e
                .values
                .iter()
                .map(|v| (v.node.value.node.to_string(), format!("{:?}", describe(&v.node.description))))
                .collect(),
            TypeKind::InputObject(i) => {
                i.fields.iter().map(|f| (f.node.name.node.to_string(), input(&f.node))).collect()
            }
        };
        let kind = format!("{} {:?}", kind_name(&ty.kind), describe(&ty.description));
        out.insert(ty.name.node.to_string(), (kind, members));
    }
    Ok(Ok(out))
}

fn kind_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Scalar => "scalar",
        TypeKind::Object(_) => "type",
        TypeKind::Interface(_) => "interface",
        TypeKind::Union(_) => "union",
        TypeKind::Enum(_) => "enum",
        TypeKind::InputObject(_) => "input",
    }
}

/// The manifest field a generated name comes from: the declaration whose type it is, or else
/// the one whose name (as is, or capitalised) is the longest part of it (`createCouponPack`
/// and `couponPacks` → the collection `couponPack`).
fn origin(manifest: &Manifest, name: &str) -> String {
    if let Some((_, at)) = manifest.type_names().into_iter().find(|(n, _)| n == name) {
        return at;
    }
    let mut stems: Vec<(String, String)> = Vec::new();
    for (i, c) in manifest.collections.iter().enumerate() {
        stems.push((format!("collections.{i}.name"), pascal(&c.name)));
        stems.push((format!("collections.{i}.plural"), c.plural.clone()));
    }
    for (i, a) in manifest.actions.iter().enumerate() {
        stems.push((format!("actions.{i}.name"), a.name.clone()));
    }
    for (i, c) in manifest.computed.iter().enumerate() {
        stems.push((format!("computed.{i}.name"), c.name.clone()));
    }
    for (i, f) in
        manifest.custom_fields.iter().enumerate().filter(|(_, f)| f.entity == clientele_plugins::manifest::CLIENT)
    {
        stems.push((format!("customFields.{i}.field.name"), f.field.name.clone()));
        stems.push((format!("customFields.{i}.field.name"), pascal(&f.field.name)));
    }
    stems
        .into_iter()
        .filter(|(_, stem)| name.contains(stem.as_str()))
        .max_by_key(|(_, stem)| stem.len())
        .map_or_else(|| "name".to_owned(), |(at, _)| at)
}

#[cfg(test)]
mod tests {
    use clientele_kernel::FieldType;
    use clientele_plugins::manifest::{Action, Collection, FieldDef, Parent};

    use super::*;

    fn manifest(name: &str, collections: &[&str], actions: &[&str]) -> Manifest {
        Manifest {
            name: name.into(),
            version: "1".into(),
            description: String::new(),
            collections: collections
                .iter()
                .map(|c| Collection {
                    name: (*c).into(),
                    plural: format!("{c}List"),
                    description: String::new(),
                    parent: Parent::Client,
                    fields: vec![FieldDef::plain("note", FieldType::Text)],
                })
                .collect(),
            custom_fields: Vec::new(),
            computed: Vec::new(),
            actions: actions
                .iter()
                .map(|a| Action { name: (*a).into(), description: String::new(), input: Vec::new() })
                .collect(),
            events: Vec::new(),
        }
    }

    fn refused(manifest: &Manifest, others: &[Manifest]) -> Vec<(String, String)> {
        let Err(err) = check(manifest, others) else { return Vec::new() };
        err.each().map(|e| (e.field().unwrap_or_default().to_owned(), e.public_message().to_owned())).collect()
    }

    // issue 14
    #[test]
    fn the_example_plugins_fit_together() {
        let examples: Vec<Manifest> = SchemaShape::reference_plugins().into_iter().map(|p| p.manifest).collect();
        assert_eq!(examples.len(), 4);
        for (i, m) in examples.iter().enumerate() {
            let others: Vec<Manifest> =
                examples.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, o)| o.clone()).collect();
            assert_eq!(refused(m, &others), Vec::<(String, String)>::new(), "{}", m.name);
        }
    }

    // issue 14
    #[test]
    fn reserved_core_and_other_plugins_names_are_refused_naming_the_manifest_field() {
        let roots = refused(&manifest("tools", &["subscription", "query"], &[]), &[]);
        let fields: Vec<&str> = roots.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["component.collections.1.name", "component.collections.0.name"], "{roots:?}");
        assert!(roots[1].1.contains("`Subscription`") && roots[1].1.contains("reserve"), "{roots:?}");

        let core = refused(&manifest("crm", &["client", "clientConnection"], &["updateClient"]), &[]);
        let named: Vec<&str> = core.iter().map(|(f, _)| f.as_str()).collect();
        assert!(named.contains(&"component.collections.0.name"), "Client, createClient: {core:?}");
        assert!(named.contains(&"component.collections.1.name"), "ClientConnection: {core:?}");
        assert!(named.contains(&"component.actions.0.name"), "Mutation.updateClient: {core:?}");

        let vets = manifest("vets", &["visit"], &["remind"]);
        assert_eq!(refused(&vets, &[]), Vec::<(String, String)>::new());
        let clash = refused(&manifest("clinic", &["visit"], &["remind"]), std::slice::from_ref(&vets));
        assert!(clash.iter().any(|(f, m)| f == "component.collections.0.name" && m.contains("`vets`")), "{clash:?}");
        assert!(clash.iter().any(|(f, _)| f == "component.actions.0.name"), "Mutation.remind: {clash:?}");
    }
}
