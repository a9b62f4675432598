//! Generative GraphQL test (issue 12, "Tests that attack"): documents generated from the live
//! schema of a tenant with a seeded PRNG, sent as anonymous, read-only and super-admin callers.
//! Every answer must be below HTTP 500, carry no `INTERNAL` code and no internal text, and come
//! within the request deadline plus a margin. Reproduce a failure with the printed seed:
//! `CLIENTELE_GEN_SEED=<seed> scripts/test -E 'test(/generative::/)'`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, assert_no_internal_text};
use crate::customers::{customer, customer_admin};

both_dbs!(generated_documents_never_fail_inside_the_server);

/// Documents per caller: three callers stay well under 60 s per database in a debug build.
const DOCUMENTS_PER_CALLER: usize = 120;
const DEFAULT_SEED: u64 = 0x00C1_1E47_E1E2;
/// Slack over the server's request deadline (debug build, two shared cores).
const MARGIN: Duration = Duration::from_secs(5);

/// Introspection the limits accept (depth 12): type references five levels deep.
pub const INTROSPECTION: &str = "query { __schema { queryType { name } mutationType { name } types { name kind \
    possibleTypes { name } enumValues { name } \
    fields { name args { name type { ...T } } type { ...T } } \
    inputFields { name type { ...T } } } } } \
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

/// A seeded PRNG (splitmix64): the same seed gives the same documents on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// A UUID-shaped id, random but reproducible.
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        let hex = format!("{a:016x}{b:016x}");
        format!("{}-{}-7{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
    }
}

#[derive(Clone, Debug)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn parse(v: &Value) -> Self {
        match v["kind"].as_str() {
            Some("NON_NULL") => Self::NonNull(Box::new(Self::parse(&v["ofType"]))),
            Some("LIST") => Self::List(Box::new(Self::parse(&v["ofType"]))),
            _ => Self::Named(v["name"].as_str().unwrap_or("String").to_owned()),
        }
    }
    pub fn named(&self) -> &str {
        match self {
            Self::Named(n) => n,
            Self::List(t) | Self::NonNull(t) => t.named(),
        }
    }
    pub fn is_required(&self) -> bool {
        matches!(self, Self::NonNull(_))
    }
    /// The type as written in a variable definition.
    pub fn sdl(&self) -> String {
        match self {
            Self::Named(n) => n.clone(),
            Self::List(t) => format!("[{}]", t.sdl()),
            Self::NonNull(t) => format!("{}!", t.sdl()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct InputValue {
    pub name: String,
    pub ty: TypeRef,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub args: Vec<InputValue>,
    pub ty: TypeRef,
}

#[derive(Clone, Debug, Default)]
pub struct TypeDef {
    pub kind: String,
    pub fields: Vec<Field>,
    pub input_fields: Vec<InputValue>,
    pub enum_values: Vec<String>,
    pub possible_types: Vec<String>,
}

pub struct Schema {
    pub types: HashMap<String, TypeDef>,
    pub query: String,
    pub mutation: Option<String>,
}

fn inputs(v: &Value) -> Vec<InputValue> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| InputValue { name: i["name"].as_str().unwrap().to_owned(), ty: TypeRef::parse(&i["type"]) })
                .collect()
        })
        .unwrap_or_default()
}

impl Schema {
    /// The live schema as `token`'s caller sees it, by introspection.
    pub async fn introspect(app: &TestApp, token: &str) -> Self {
        let (status, body) = app.gql_status(Some(token), INTROSPECTION, json!({})).await;
        assert_eq!(status, 200, "introspection refused: {body}");
        let schema = &body["data"]["__schema"];
        let types = schema["types"].as_array().unwrap_or_else(|| panic!("no types in {body}"));
        let mut map = HashMap::new();
        for t in types {
            let fields = t["fields"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|f| Field {
                            name: f["name"].as_str().unwrap().to_owned(),
                            args: inputs(&f["args"]),
                            ty: TypeRef::parse(&f["type"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let names = |key: &str| -> Vec<String> {
                t[key]
                    .as_array()
                    .map(|a| a.iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default()
            };
            map.insert(
                t["name"].as_str().unwrap().to_owned(),
                TypeDef {
                    kind: t["kind"].as_str().unwrap().to_owned(),
                    fields,
                    input_fields: inputs(&t["inputFields"]),
                    enum_values: names("enumValues"),
                    possible_types: names("possibleTypes"),
                },
            );
        }
        Self {
            types: map,
            query: schema["queryType"]["name"].as_str().unwrap().to_owned(),
            mutation: schema["mutationType"]["name"].as_str().map(str::to_owned),
        }
    }

    pub fn kind(&self, name: &str) -> &str {
        self.types.get(name).map_or("SCALAR", |t| t.kind.as_str())
    }

    pub fn mutations(&self) -> Vec<Field> {
        self.mutation.as_ref().and_then(|m| self.types.get(m)).map(|t| t.fields.clone()).unwrap_or_default()
    }

    /// A minimal selection for a field of type `ty`: `__typename`, and `userErrors { code }`
    /// where the payload has them; nothing for leaves.
    pub fn payload_selection(&self, ty: &TypeRef) -> String {
        match self.kind(ty.named()) {
            "OBJECT" => {
                let t = &self.types[ty.named()];
                if t.fields.iter().any(|f| f.name == "userErrors") {
                    " { __typename userErrors { code message } }".to_owned()
                } else {
                    " { __typename }".to_owned()
                }
            }
            "INTERFACE" | "UNION" => " { __typename }".to_owned(),
            _ => String::new(),
        }
    }
}

/// Forged and random cursors: finding #1 sized an allocation from `search:N`.
pub fn cursor(rng: &mut Rng) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD_NO_PAD.encode(s);
    match rng.below(7) {
        0 => b64("search:1000000000000000"),
        1 => b64(&format!("search:{}", rng.next())),
        2 => b64(&format!("search:-{}", rng.below(1000))),
        3 => b64(&format!("{}:{}", rng.pick(&["offset", "keyset", "page", "x"]), rng.next())),
        4 => {
            let bytes: Vec<u8> = (0..rng.below(64)).map(|_| u8::try_from(rng.next() & 0xff).unwrap()).collect();
            base64::engine::general_purpose::STANDARD.encode(bytes)
        }
        5 => "not base64 at all !!".to_owned(),
        _ => b64(&format!("{{\"id\":\"{}\",\"n\":\"{}\"}}", rng.uuid(), "z".repeat(rng.below(200)))),
    }
}

fn random_string(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => String::new(),
        1 => "x".repeat(rng.below(20_000)),
        2 => "' OR 1=1 --; DROP TABLE clients".to_owned(),
        3 => "Zoë \u{1F600} \u{202E} \u{0}".to_owned(),
        4 => "zed".to_owned(),
        5 => format!("{}@example.test", rng.below(1000)),
        6 => "%_\\".to_owned(),
        7 => "2026-13-45T99:99:99Z".to_owned(),
        _ => format!("s{}", rng.next()),
    }
}

fn random_int(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(1),
        3 => json!(i32::MAX),
        4 => json!(i32::MIN),
        5 => json!(u64::MAX),
        6 => json!(1e300),
        7 => json!(rng.below(100)),
        _ => json!(i64::MAX),
    }
}

/// A JSON value for `ty`: usually of the right type, sometimes wrong (`wrong_pct` percent at
/// each level), with ids taken from `ids` when given.
pub fn value(
    rng: &mut Rng,
    schema: &Schema,
    ty: &TypeRef,
    name: &str,
    ids: &[String],
    wrong_pct: u64,
    depth: usize,
) -> Value {
    if rng.chance(wrong_pct) {
        return match rng.below(6) {
            0 => Value::Null,
            1 => json!(random_string(rng)),
            2 => random_int(rng),
            3 => json!({ "bogus": 1 }),
            4 => json!([Value::Null, 1, "a"]),
            _ => json!(true),
        };
    }
    match ty {
        TypeRef::NonNull(t) => value(rng, schema, t, name, ids, wrong_pct, depth),
        TypeRef::List(t) => {
            let n = if depth > 3 { 0 } else { rng.below(4) };
            Value::Array((0..n).map(|_| value(rng, schema, t, name, ids, wrong_pct, depth + 1)).collect())
        }
        TypeRef::Named(n) => named_value(rng, schema, n, name, ids, wrong_pct, depth),
    }
}

fn named_value(
    rng: &mut Rng,
    schema: &Schema,
    ty: &str,
    name: &str,
    ids: &[String],
    wrong_pct: u64,
    depth: usize,
) -> Value {
    let lower = name.to_lowercase();
    match ty {
        "Int" if lower == "first" || lower == "last" => {
            json!(*rng.pick(&[0_i64, 1, 5, 100, 101, 1_000_000, -1, i64::from(i32::MAX)]))
        }
        "Int" => random_int(rng),
        "Float" => json!(*rng.pick(&[0.0, -1.5, 1e308, 3.25])),
        "Boolean" => json!(rng.chance(50)),
        "String" if lower == "after" || lower == "before" || lower.contains("cursor") => json!(cursor(rng)),
        "ID" if !ids.is_empty() && rng.chance(60) => json!(rng.pick(ids)),
        "ID" => json!(if rng.chance(80) { rng.uuid() } else { random_string(rng) }),
        "DateTime" => {
            json!(*rng.pick(&["2030-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "yesterday", "9999-12-31T23:59:59Z"]))
        }
        "Date" => json!(*rng.pick(&["2030-01-01", "0000-00-00", "1980-12-31", "31/12/1980"])),
        "Decimal" => json!(*rng.pick(&["12.50", "-0.01", "1e400", "99999999999999999999999999999.99", "abc"])),
        "JSON" => json!({ "a": [1, 2, { "b": "c" }] }),
        "Upload" => json!(*rng.pick(&["", "0", "file"])),
        "String" => json!(random_string(rng)),
        _ => match schema.kind(ty) {
            "ENUM" => {
                let values = &schema.types[ty].enum_values;
                if values.is_empty() || rng.chance(5) { json!("NOT_A_VALUE") } else { json!(rng.pick(values)) }
            }
            "INPUT_OBJECT" => {
                let mut obj = serde_json::Map::new();
                for f in &schema.types[ty].input_fields {
                    if depth < 4 && (f.ty.is_required() || rng.chance(30)) {
                        obj.insert(f.name.clone(), value(rng, schema, &f.ty, &f.name, ids, wrong_pct, depth + 1));
                    }
                }
                Value::Object(obj)
            }
            _ => json!(random_string(rng)),
        },
    }
}

/// A JSON value written as a GraphQL literal.
pub fn literal(v: &Value, enum_like: bool) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s)
            if enum_like
                && !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !s.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            s.clone()
        }
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(|x| literal(x, enum_like)).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter().map(|(k, x)| format!("{k}: {}", literal(x, true))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// One document being generated: its variables, fragments and counters.
struct Doc<'a> {
    schema: &'a Schema,
    rng: &'a mut Rng,
    ids: &'a [String],
    var_defs: Vec<String>,
    variables: serde_json::Map<String, Value>,
    fragments: Vec<String>,
    budget: usize,
}

impl Doc<'_> {
    fn args(&mut self, field: &Field) -> String {
        let mut out = Vec::new();
        for arg in &field.args {
            if !arg.ty.is_required() && !self.rng.chance(30) {
                continue;
            }
            if arg.ty.is_required() && self.rng.chance(4) {
                continue; // a missing required argument
            }
            let wrong = if self.rng.chance(25) { 40 } else { 3 };
            let v = value(self.rng, self.schema, &arg.ty, &arg.name, self.ids, wrong, 0);
            if self.rng.chance(35) {
                let var = format!("v{}", self.var_defs.len());
                // Mostly the declared type; sometimes a wrong one.
                let declared = if self.rng.chance(15) {
                    (*self.rng.pick(&["Int", "String!", "[ID!]!", "Boolean", "NoSuchType"])).to_owned()
                } else {
                    arg.ty.sdl()
                };
                self.var_defs.push(format!("${var}: {declared}"));
                if !self.rng.chance(5) {
                    self.variables.insert(var.clone(), v);
                }
                out.push(format!("{}: ${var}", arg.name));
            } else {
                let enum_like = self.schema.kind(arg.ty.named()) == "ENUM";
                out.push(format!("{}: {}", arg.name, literal(&v, enum_like)));
            }
        }
        if self.rng.chance(3) {
            out.push(format!("noSuchArgument: {}", self.rng.below(10)));
        }
        if out.is_empty() { String::new() } else { format!("({})", out.join(", ")) }
    }

    /// A selection set on type `ty` (an object, interface or union).
    fn selection(&mut self, ty: &str, depth: usize) -> String {
        let Some(def) = self.schema.types.get(ty) else { return "{ __typename }".to_owned() };
        let mut parts = vec![];
        if def.kind == "UNION" || (def.kind == "INTERFACE" && self.rng.chance(50)) {
            parts.push("__typename".to_owned());
            let possible = def.possible_types.clone();
            for _ in 0..=self.rng.below(2) {
                if let Some(p) = possible.get(self.rng.below(possible.len())) {
                    let inner = self.selection(p, depth + 1);
                    parts.push(format!("... on {p} {inner}"));
                }
            }
            return format!("{{ {} }}", parts.join(" "));
        }
        let fields = def.fields.clone();
        let n = 1 + self.rng.below(if depth == 0 { 2 } else { 4 });
        for _ in 0..n {
            if fields.is_empty() || self.budget == 0 {
                break;
            }
            self.budget -= 1;
            let field = self.rng.pick(&fields).clone();
            let mut s = String::new();
            if self.rng.chance(20) {
                let _ = write!(s, "a{}: ", self.rng.below(1000));
            }
            s.push_str(&field.name);
            s.push_str(&self.args(&field));
            match self.schema.kind(field.ty.named()) {
                "OBJECT" | "INTERFACE" | "UNION" => {
                    if depth >= 5 {
                        s.push_str(" { __typename }");
                    } else {
                        let inner = self.selection(field.ty.named(), depth + 1);
                        s.push(' ');
                        s.push_str(&inner);
                    }
                }
                _ if self.rng.chance(2) => s.push_str(" { nope }"), // a selection on a leaf
                _ => {}
            }
            parts.push(s);
        }
        match self.rng.below(14) {
            0 => {
                let inner = self.selection(ty, depth + 1);
                parts.push(format!("... on {ty} {inner}"));
            }
            1 => {
                let name = format!("F{}", self.fragments.len());
                self.fragments.push(String::new());
                let inner = self.selection(ty, depth + 1);
                let idx = self.fragments.len() - 1;
                self.fragments[idx] = format!("fragment {name} on {ty} {inner}");
                parts.push(format!("...{name}"));
            }
            2 if self.rng.chance(30) => parts.push("...Unknown".to_owned()),
            3 if self.rng.chance(20) => parts.push("... on NoSuchType { __typename }".to_owned()),
            _ => {}
        }
        if parts.is_empty() {
            parts.push("__typename".to_owned());
        }
        format!("{{ {} }}", parts.join(" "))
    }
}

/// A document and its variables from `rng`.
pub fn document(rng: &mut Rng, schema: &Schema, ids: &[String]) -> (String, Value) {
    let mutation = schema.mutation.clone().filter(|_| rng.chance(30));
    let (op, root) = match &mutation {
        Some(m) => ("mutation", m.clone()),
        None => ("query", schema.query.clone()),
    };
    let mut doc =
        Doc { schema, rng, ids, var_defs: vec![], variables: serde_json::Map::new(), fragments: vec![], budget: 40 };
    let mut body = doc.selection(&root, 0);
    // Fragment cycles: a spread of a fragment that spreads itself through another.
    if doc.rng.chance(6) {
        doc.fragments.push(format!("fragment Ca on {root} {{ __typename ...Cb }}"));
        doc.fragments.push(format!("fragment Cb on {root} {{ ...Ca }}"));
        body = format!("{{ ...Ca {} }}", &body[1..body.len() - 1]);
    }
    let vars = if doc.var_defs.is_empty() { String::new() } else { format!("({})", doc.var_defs.join(", ")) };
    let text = format!("{op} G{vars} {body} {}", doc.fragments.join(" "));
    (text, Value::Object(doc.variables))
}

pub fn seed() -> u64 {
    std::env::var("CLIENTELE_GEN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED)
}

/// Asserts the never-fail properties of one answer; `None` when it holds.
pub fn check(status: u16, body: &Value, elapsed: Duration, deadline: Duration) -> Option<String> {
    if status == 0 {
        return Some(format!("no answer, the connection closed ({body})"));
    }
    if status >= 500 {
        return Some(format!("HTTP {status}"));
    }
    if elapsed > deadline {
        return Some(format!("answered after {elapsed:?}, deadline plus margin {deadline:?}"));
    }
    let coded_internal = body["errors"].as_array().into_iter().flatten().any(|e| e["extensions"]["code"] == "INTERNAL");
    if coded_internal || body.to_string().contains("\"code\":\"INTERNAL\"") {
        return Some("an INTERNAL code".to_owned());
    }
    if let Err(panic) = std::panic::catch_unwind(|| assert_no_internal_text(body)) {
        let msg = panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "internal text".to_owned());
        return Some(msg);
    }
    None
}

/// Sends a document, timed; the raw status and body (a non-JSON body becomes a string).
pub async fn send(app: &TestApp, token: Option<&str>, query: &str, variables: &Value) -> (u16, Value, Duration) {
    let mut req =
        app.http.post(format!("{}/graphql", app.url)).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let start = Instant::now();
    // No answer at all (the connection closed: a panic in the server) is status 0.
    let (status, text) = match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            match res.text().await {
                Ok(text) => (status, text),
                Err(e) => (0, format!("body cut off: {e}")),
            }
        }
        Err(e) => (0, format!("no answer: {e}")),
    };
    let elapsed = start.elapsed();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, elapsed)
}

// issue 12 #1 #2 #13
async fn generated_documents_never_fail_inside_the_server(app: TestApp) {
    let seed = seed();
    let deadline = Duration::from_millis(app.state.settings.server.request_timeout_ms) + MARGIN;
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;
    let (_, read_only) = app.user(&admin, "reader@martin.test", "READ_ONLY").await;
    let mut ids = vec![org["id"].as_str().unwrap().to_owned(), admin.admin_id.clone()];
    for (last, first) in [("Zed", "Anna"), ("Zedd", "Bob"), ("Martin", "Chloé")] {
        let body = app
            .gql_ok(
                Some(&admin.token),
                "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { code } } }",
                json!({ "i": { "lastName": last, "firstName": first, "email": format!("{first}@example.test") } }),
            )
            .await;
        let id = body["data"]["createClient"]["client"]["id"].as_str().unwrap_or_else(|| panic!("{body}"));
        ids.push(id.to_owned());
    }
    let schema = Schema::introspect(&app, &admin.token).await;
    assert!(schema.types.len() > 50 && schema.mutation.is_some(), "introspection gave a partial schema");

    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let callers: [(&str, Option<&str>); 3] =
        [("anonymous", None), ("read-only", Some(&read_only)), ("super-admin", Some(&admin.token))];
    for (who, token) in callers {
        for n in 0..DOCUMENTS_PER_CALLER {
            let (query, variables) = document(&mut rng, &schema, &ids);
            // Printed before sending: a request that aborts the server still shows what it was.
            eprintln!("[seed {seed}] {who} #{n}: {query} -- {variables}");
            let (status, body, elapsed) = send(&app, token, &query, &variables).await;
            if let Some(why) = check(status, &body, elapsed, deadline) {
                let shown = body.to_string();
                let shown = if shown.len() > 2000 { format!("{}…", &shown[..2000]) } else { shown };
                failures.push(format!(
                    "{who} #{n}: {why}\n  document: {query}\n  variables: {variables}\n  answer ({status}): {shown}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} generated documents failed (seed {seed}, rerun with CLIENTELE_GEN_SEED={seed}):\n{}",
        failures.len(),
        3 * DOCUMENTS_PER_CALLER,
        failures.join("\n")
    );
}
