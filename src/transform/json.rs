//! JSON as Jackson reads it and Kafka Connect types it, for the SMTs.
//!
//! `table.expand.json.payload` must turn an outbox payload string into
//! exactly the Connect struct Debezium's `JsonSchemaData` infers (number
//! kinds as Jackson decides them: int, long, big integer, double; object
//! members in document order, a repeated member keeps its first position
//! and its last value) and print it as JsonConverter does. The same ordered
//! tree also edits column schemas (`add.fields` makes them optional).
//!
//! [`parse`] follows `ObjectMapper.readTree` with default features: strict
//! JSON, and anything after the first value is ignored.

use crate::envelope::json as out_json;

/// A parsed JSON value, Jackson's node types.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// Fits in an `int`.
    Int(i32),
    /// Fits in a `long` but not an `int`.
    Long(i64),
    /// An integer literal beyond `long` (Jackson's BigIntegerNode).
    BigInt(String),
    /// A literal with a fraction or exponent.
    Double(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Writes compact JSON, strings escaped as Jackson does.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out_json::boolean(out, *b),
            Json::Int(v) => out_json::int(out, i64::from(*v)),
            Json::Long(v) => out_json::int(out, *v),
            Json::BigInt(s) => out.extend_from_slice(s.as_bytes()),
            Json::Double(v) => out_json::double(out, *v),
            Json::Str(s) => out_json::string(out, s),
            Json::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            Json::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out_json::string(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// Parses the first JSON value of `text` (leading whitespace allowed,
/// anything after the value ignored, as `readTree` does).
pub fn parse(text: &str) -> Result<Json, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.ws();
    p.value()
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at character {}", self.i))
    }

    fn value(&mut self) -> Result<Json, String> {
        match self.s.get(self.i) {
            None => self.err("unexpected end of input"),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            // Jackson refuses `trueX` but accepts `true,` / `true}` / `true `.
            if let Some(c) = self.s.get(self.i) {
                if c.is_ascii_alphanumeric() || *c == b'_' {
                    return self.err("unrecognized token");
                }
            }
            Ok(v)
        } else {
            self.err("unrecognized token")
        }
    }

    fn nested(&mut self) -> Result<(), String> {
        self.depth += 1;
        // Jackson's default maximum nesting depth (StreamReadConstraints).
        if self.depth > 1000 {
            return self.err("nesting too deep");
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Json, String> {
        self.nested()?;
        self.i += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return self.err("expected a member name");
            }
            let name = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return self.err("expected ':'");
            }
            self.i += 1;
            self.ws();
            let v = self.value()?;
            match members.iter_mut().find(|(k, _)| *k == name) {
                Some(slot) => slot.1 = v,
                None => members.push((name, v)),
            }
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Json::Object(members));
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.nested()?;
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Json::Array(items));
                }
                _ => return self.err("expected ',' or ']'"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let Some(h) = self.s.get(self.i..self.i + 4) else {
            return self.err("truncated escape");
        };
        let h = std::str::from_utf8(h)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        match h {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => self.err("invalid \\u escape"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        let mut start = self.i;
        loop {
            match self.s.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                    self.i += 1;
                    return Ok(out);
                }
                Some(0..=0x1f) => return self.err("unescaped control character in string"),
                Some(b'\\') => {
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                    self.i += 1;
                    let Some(&c) = self.s.get(self.i) else {
                        return self.err("unterminated string");
                    };
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    self.i = save;
                                    0xFFFD
                                }
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return self.err("invalid escape"),
                    }
                    start = self.i;
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        let int_len = self.i - int_start;
        if int_len == 0 {
            return self.err("invalid number");
        }
        if int_len > 1 && self.s[int_start] == b'0' {
            return self.err("leading zeroes are not allowed");
        }
        let mut float = false;
        if self.s.get(self.i) == Some(&b'.') {
            float = true;
            self.i += 1;
            let f = self.i;
            while let Some(b'0'..=b'9') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.i == f {
                return self.err("a decimal point needs digits after it");
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            float = true;
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            let e = self.i;
            while let Some(b'0'..=b'9') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.i == e {
                return self.err("an exponent needs digits");
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        if float {
            return text
                .parse::<f64>()
                .map(Json::Double)
                .map_err(|e| e.to_string());
        }
        if let Ok(v) = text.parse::<i32>() {
            return Ok(Json::Int(v));
        }
        if let Ok(v) = text.parse::<i64>() {
            return Ok(Json::Long(v));
        }
        // BigInteger: printed without a sign on zero, no leading zeros.
        Ok(Json::BigInt(text.to_string()))
    }
}

/// A Connect schema inferred from JSON (`JsonSchemaData.toConnectSchema`):
/// every schema it builds is optional.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    String,
    Boolean,
    Int32,
    Int64,
    Float64,
    Bytes,
    Array(Box<Schema>),
    Struct {
        name: Option<String>,
        fields: Vec<(String, Schema)>,
    },
}

/// `table.json.payload.null.behavior` / `table.json.payload.empty.array.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inference {
    /// `optional_bytes`: a null member becomes an optional bytes field
    /// (default `ignore`: the member is left out).
    pub null_as_bytes: bool,
    /// `optional_string`: an empty array becomes an array of optional
    /// strings (default `ignore`: left out).
    pub empty_array_as_strings: bool,
}

impl Inference {
    /// The schema of `node` under `key` (the struct name: `payload`,
    /// `payload.member`, ...); `None` when the member is left out.
    pub fn schema(&self, key: Option<&str>, node: &Json) -> Result<Option<Schema>, String> {
        Ok(match node {
            Json::Str(_) => Some(Schema::String),
            Json::Bool(_) => Some(Schema::Boolean),
            Json::Int(_) => Some(Schema::Int32),
            Json::Long(_) => Some(Schema::Int64),
            Json::BigInt(_) | Json::Double(_) => Some(Schema::Float64),
            Json::Array(items) if items.is_empty() => self
                .empty_array_as_strings
                .then(|| Schema::Array(Box::new(Schema::String))),
            Json::Array(items) => Some(Schema::Array(Box::new(self.element_schema(key, items)?))),
            Json::Object(members) => {
                let mut fields: Vec<(String, Schema)> = Vec::new();
                for (name, v) in members {
                    let field_key = match key {
                        Some(k) if !k.trim().is_empty() => format!("{k}.{name}"),
                        _ => name.clone(),
                    };
                    if let Some(s) = self.schema(Some(&field_key), v)? {
                        if !fields.iter().any(|(n, _)| n == name) {
                            fields.push((name.clone(), s));
                        }
                    }
                }
                Some(Schema::Struct {
                    name: key.map(str::to_string),
                    fields,
                })
            }
            Json::Null => self.null_as_bytes.then_some(Schema::Bytes),
        })
    }

    /// `toConnectSchemaWithCycles`: the element schema of a non-empty array.
    /// Arrays of objects merge their members (the first element's first;
    /// Debezium iterates a `HashSet` there, so its order for arrays of
    /// differently shaped objects is not reproducible).
    fn element_schema(&self, key: Option<&str>, items: &[Json]) -> Result<Schema, String> {
        let sample = first_element(items)?;
        if let Json::Object(_) = sample {
            let mut merged: Option<Schema> = None;
            for item in items.iter().filter(|i| matches!(i, Json::Object(_))) {
                if let Some(s) = self.schema(key, item)? {
                    merged = Some(match merged {
                        None => s,
                        Some(left) => merge(left, s),
                    });
                }
            }
            return merged.ok_or_else(|| "array of objects without a schema".to_string());
        }
        self.schema(None, sample)?
            .ok_or_else(|| "array has an unrecognized member schema".to_string())
    }

    /// Writes `node` as the Connect data of `schema`, as JsonConverter
    /// prints it; an error where Connect's `Struct.put` would refuse it.
    pub fn write_data(
        &self,
        out: &mut Vec<u8>,
        node: &Json,
        schema: &Schema,
    ) -> Result<(), String> {
        match (node, schema) {
            (Json::Null, _) => out.extend_from_slice(b"null"),
            (Json::Str(s), Schema::String) => out_json::string(out, s),
            (Json::Bool(b), Schema::Boolean) => out_json::boolean(out, *b),
            (Json::Int(v), Schema::Int32) => out_json::int(out, i64::from(*v)),
            (Json::Long(v), Schema::Int64) => out_json::int(out, *v),
            (Json::Double(v), Schema::Float64) => out_json::double(out, *v),
            (Json::Array(items), Schema::Array(element)) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_data(out, item, element)?;
                }
                out.push(b']');
            }
            (Json::Object(_), Schema::Struct { fields, .. }) => {
                out.push(b'{');
                for (i, (name, field_schema)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out_json::string(out, name);
                    out.push(b':');
                    match node.get(name) {
                        Some(v) => self.write_data(out, v, field_schema)?,
                        None => out.extend_from_slice(b"null"),
                    }
                }
                out.push(b'}');
            }
            (node, schema) => {
                return Err(format!(
                    "a {} value does not fit the inferred {schema:?} schema",
                    kind(node)
                ))
            }
        }
        Ok(())
    }
}

fn kind(node: &Json) -> &'static str {
    match node {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Int(_) | Json::Long(_) | Json::BigInt(_) | Json::Double(_) => "number",
        Json::Str(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// `getFirstArrayElement`: the first non-null element; all non-null
/// elements must be of its node type (numbers: of its number kind).
fn first_element(items: &[Json]) -> Result<&Json, String> {
    let mut sample: Option<&Json> = None;
    for item in items.iter().filter(|i| !matches!(i, Json::Null)) {
        match sample {
            None => sample = Some(item),
            Some(first) => {
                let number_kind = |j: &Json| match j {
                    Json::Int(_) => 1,
                    Json::Long(_) => 2,
                    Json::BigInt(_) | Json::Double(_) => 3,
                    _ => 0,
                };
                if kind(first) != kind(item) || number_kind(first) != number_kind(item) {
                    return Err("not a homogenous array".into());
                }
            }
        }
    }
    Ok(sample.unwrap_or(&Json::Null))
}

/// `mergeSchema`: left's members, then right's new ones; a bytes member
/// (from a null) gives way to a typed one.
fn merge(left: Schema, right: Schema) -> Schema {
    match (left, right) {
        (
            Schema::Struct {
                name,
                fields: mut l,
            },
            Schema::Struct { fields: r, .. },
        ) => {
            for (n, s) in r {
                match l.iter_mut().find(|(k, _)| *k == n) {
                    None => l.push((n, s)),
                    Some(slot) => {
                        if slot.1 != s && slot.1 == Schema::Bytes {
                            slot.1 = s;
                        }
                    }
                }
            }
            Schema::Struct { name, fields: l }
        }
        (left, _) => left,
    }
}

impl Schema {
    /// Writes the schema as JsonConverter does (`"optional":true`), without
    /// a closing brace when `open` (the caller adds `"field"`).
    pub fn write(&self, out: &mut Vec<u8>, open: bool) {
        let simple = |out: &mut Vec<u8>, t: &str| {
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(t.as_bytes());
            out.extend_from_slice(b"\",\"optional\":true");
        };
        match self {
            Schema::String => simple(out, "string"),
            Schema::Boolean => simple(out, "boolean"),
            Schema::Int32 => simple(out, "int32"),
            Schema::Int64 => simple(out, "int64"),
            Schema::Float64 => simple(out, "double"),
            Schema::Bytes => simple(out, "bytes"),
            Schema::Array(element) => {
                out.extend_from_slice(b"{\"type\":\"array\",\"items\":");
                element.write(out, false);
                out.extend_from_slice(b",\"optional\":true");
            }
            Schema::Struct { name, fields } => {
                out.extend_from_slice(b"{\"type\":\"struct\",\"fields\":[");
                for (i, (n, s)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    s.write(out, true);
                    out.extend_from_slice(b",\"field\":");
                    out_json::string(out, n);
                    out.push(b'}');
                }
                out.extend_from_slice(b"],\"optional\":true");
                if let Some(n) = name {
                    out.extend_from_slice(b",\"name\":");
                    out_json::string(out, n);
                }
            }
        }
        if !open {
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(text: &str, inf: Inference) -> Result<(String, String), String> {
        let node = parse(text)?;
        let schema = inf.schema(Some("payload"), &node)?.ok_or("no schema")?;
        let mut s = Vec::new();
        schema.write(&mut s, false);
        let mut d = Vec::new();
        inf.write_data(&mut d, &node, &schema)?;
        Ok((String::from_utf8(s).unwrap(), String::from_utf8(d).unwrap()))
    }

    const IGNORE: Inference = Inference {
        null_as_bytes: false,
        empty_array_as_strings: false,
    };

    #[test]
    fn numbers_take_jacksons_kinds() {
        assert_eq!(parse("1").unwrap(), Json::Int(1));
        assert_eq!(parse("-0").unwrap(), Json::Int(0));
        assert_eq!(parse("2147483648").unwrap(), Json::Long(2_147_483_648));
        assert_eq!(
            parse("99999999999999999999").unwrap(),
            Json::BigInt("99999999999999999999".into())
        );
        assert_eq!(parse("1e2").unwrap(), Json::Double(100.0));
        assert!(parse("01").is_err());
        assert!(parse("1.").is_err());
        assert!(parse("+1").is_err());
        assert!(parse("NaN").is_err());
    }

    #[test]
    fn objects_keep_document_order_and_the_last_duplicate() {
        let j = parse(r#"{"b":1,"a":2,"b":3} trailing"#).unwrap();
        let mut out = Vec::new();
        j.write(&mut out);
        assert_eq!(out, br#"{"b":3,"a":2}"#);
        assert!(
            parse(
                r#"{"a":"x
"}"#
            )
            .is_err(),
            "raw control characters are refused"
        );
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), Json::Str("😀".into()));
    }

    #[test]
    fn schema_inference_matches_json_schema_data() {
        let (s, d) = inferred(r#"{"id":1,"name":"x","tags":["a","b"],"n":null,"e":[],"sub":{"big":3000000000,"f":1.5}}"#, IGNORE).unwrap();
        assert_eq!(
            s,
            r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"},{"type":"struct","fields":[{"type":"int64","optional":true,"field":"big"},{"type":"double","optional":true,"field":"f"}],"optional":true,"name":"payload.sub","field":"sub"}],"optional":true,"name":"payload"}"#
        );
        assert_eq!(
            d,
            r#"{"id":1,"name":"x","tags":["a","b"],"sub":{"big":3000000000,"f":1.5}}"#
        );

        let both = Inference {
            null_as_bytes: true,
            empty_array_as_strings: true,
        };
        let (s, d) = inferred(r#"{"n":null,"e":[]}"#, both).unwrap();
        assert_eq!(
            s,
            r#"{"type":"struct","fields":[{"type":"bytes","optional":true,"field":"n"},{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"e"}],"optional":true,"name":"payload"}"#
        );
        assert_eq!(d, r#"{"n":null,"e":[]}"#);
    }

    #[test]
    fn arrays_of_objects_merge_members() {
        let (s, d) = inferred(r#"{"items":[{"a":1},{"b":"x","a":2}]}"#, IGNORE).unwrap();
        assert_eq!(
            s,
            r#"{"type":"struct","fields":[{"type":"array","items":{"type":"struct","fields":[{"type":"int32","optional":true,"field":"a"},{"type":"string","optional":true,"field":"b"}],"optional":true,"name":"payload.items"},"optional":true,"field":"items"}],"optional":true,"name":"payload"}"#
        );
        assert_eq!(d, r#"{"items":[{"a":1,"b":null},{"a":2,"b":"x"}]}"#);
    }

    #[test]
    fn mixed_arrays_cannot_be_expanded() {
        assert!(inferred(r#"{"x":[1,"a"]}"#, IGNORE).is_err());
        assert!(inferred(r#"{"x":[1,3000000000]}"#, IGNORE).is_err());
        assert!(inferred(r#"{"x":[null]}"#, IGNORE).is_err());
        assert!(
            inferred(r#"{"x":99999999999999999999}"#, IGNORE).is_err(),
            "Struct.put refuses a BigDecimal in a double field"
        );
    }
}
