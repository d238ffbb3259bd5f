//! Reading FHIR R4 datatypes out of JSON: element paths, CodeableConcepts, References, dates,
//! Quantities. Every reader checks the shape it expects and says which element is wrong.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use healthsim_schema::text::json_kind;
use serde_json::{Number, Value};

/// Why an element does not fit: a message naming the element, turned into
/// [`Error::Malformed`](crate::Error::Malformed) by the caller that knows the resource.
pub(crate) type Reason = String;

/// Result of reading one element.
pub(crate) type R<T> = Result<T, Reason>;

/// The element at `path` under `value` (object keys only). Absent and `null` are `None`; an
/// intermediate element that is not an object is an error.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> R<Option<&'a Value>> {
    let mut current = value;
    for (depth, key) in path.iter().enumerate() {
        let object = match current {
            Value::Object(object) => object,
            _ => return Err(format!("{} must be an object", path[..depth].join("."))),
        };
        match object.get(*key) {
            None | Some(Value::Null) => return Ok(None),
            Some(next) => current = next,
        }
    }
    Ok(Some(current))
}

fn shape(path: &[&str], expected: &str, found: &Value) -> Reason {
    format!(
        "{} must be {expected}, found {}",
        path.join("."),
        json_kind(found)
    )
}

/// A string element.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> R<Option<&'a str>> {
    match at(value, path)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(shape(path, "a string", other)),
    }
}

/// An object element.
pub(crate) fn obj_at<'a>(value: &'a Value, path: &[&str]) -> R<Option<&'a Value>> {
    match at(value, path)? {
        None => Ok(None),
        Some(found @ Value::Object(_)) => Ok(Some(found)),
        Some(other) => Err(shape(path, "an object", other)),
    }
}

/// A list element (absent is empty). FHIR repeats are always JSON arrays.
pub(crate) fn list_at<'a>(value: &'a Value, path: &[&str]) -> R<&'a [Value]> {
    match at(value, path)? {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items.as_slice()),
        Some(other) => Err(shape(path, "a list", other)),
    }
}

/// The objects of a list element, each checked to be an object.
pub(crate) fn objects_at<'a>(value: &'a Value, path: &[&str]) -> R<Vec<&'a Value>> {
    list_at(value, path)?
        .iter()
        .filter(|item| !item.is_null())
        .map(|item| match item {
            Value::Object(_) => Ok(item),
            other => Err(shape(path, "a list of objects", other)),
        })
        .collect()
}

/// The first object of a list element.
pub(crate) fn first_at<'a>(value: &'a Value, path: &[&str]) -> R<Option<&'a Value>> {
    Ok(objects_at(value, path)?.into_iter().next())
}

/// A number element, kept as the JSON number it was (money and quantities stay exact).
pub(crate) fn number_at(value: &Value, path: &[&str]) -> R<Option<Number>> {
    match at(value, path)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.clone())),
        Some(other) => Err(shape(path, "a number", other)),
    }
}

/// A whole-number element (FHIR integer, positiveInt, unsignedInt).
pub(crate) fn integer_at(value: &Value, path: &[&str]) -> R<Option<i64>> {
    match at(value, path)? {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{} must be a whole number, found {n}", path.join("."))),
        Some(other) => Err(shape(path, "a whole number", other)),
    }
}

/// A boolean element.
pub(crate) fn bool_at(value: &Value, path: &[&str]) -> R<Option<bool>> {
    match at(value, path)? {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(shape(path, "a boolean", other)),
    }
}

/// The `value` of a Money or Quantity element at `path`.
pub(crate) fn amount_at(value: &Value, path: &[&str]) -> R<Option<Number>> {
    let mut full: Vec<&str> = path.to_vec();
    full.push("value");
    number_at(value, &full)
}

// ------------------------------------------------------------------------------------------
// Codes.

/// One FHIR Coding.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Coding<'a> {
    /// The code system URI.
    pub(crate) system: Option<&'a str>,
    /// The code.
    pub(crate) code: Option<&'a str>,
    /// Its display text.
    pub(crate) display: Option<&'a str>,
}

/// One FHIR CodeableConcept: its codings and text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Concept<'a> {
    /// The codings, in order.
    pub(crate) codings: Vec<Coding<'a>>,
    /// The concept's own text.
    pub(crate) text: Option<&'a str>,
}

impl<'a> Concept<'a> {
    /// The coding of the most preferred system in `systems` (earlier wins), else the first
    /// coding that has a code.
    pub(crate) fn preferred(&self, systems: &[&str]) -> Option<Coding<'a>> {
        systems
            .iter()
            .find_map(|wanted| {
                self.codings
                    .iter()
                    .find(|c| c.code.is_some() && c.system == Some(*wanted))
            })
            .or_else(|| self.codings.iter().find(|c| c.code.is_some()))
            .copied()
    }

    /// The coding of exactly `system`.
    pub(crate) fn in_system(&self, system: &str) -> Option<Coding<'a>> {
        self.codings
            .iter()
            .find(|c| c.code.is_some() && c.system == Some(system))
            .copied()
    }

    /// The first code.
    pub(crate) fn code(&self) -> Option<&'a str> {
        self.preferred(&[]).and_then(|c| c.code)
    }

    /// Whether any coding has code `code` (any system).
    pub(crate) fn has_code(&self, code: &str) -> bool {
        self.codings.iter().any(|c| c.code == Some(code))
    }

    /// Words for people: the text, else the first display, else the first code.
    pub(crate) fn label(&self) -> Option<&'a str> {
        self.text
            .or_else(|| self.codings.iter().find_map(|c| c.display))
            .or_else(|| self.code())
    }
}

/// Reads a Coding object.
pub(crate) fn coding<'a>(value: &'a Value, path: &[&str]) -> R<Coding<'a>> {
    let field = |key: &str| {
        let mut full: Vec<&str> = path.to_vec();
        full.push(key);
        match value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(shape(&full, "a string", other)),
        }
    };
    Ok(Coding {
        system: field("system")?,
        code: field("code")?,
        display: field("display")?,
    })
}

/// The CodeableConcept at `path`.
pub(crate) fn concept_at<'a>(value: &'a Value, path: &[&str]) -> R<Option<Concept<'a>>> {
    match obj_at(value, path)? {
        None => Ok(None),
        Some(object) => concept(object, path).map(Some),
    }
}

/// Reads a CodeableConcept object (`path` names it in messages).
pub(crate) fn concept<'a>(object: &'a Value, path: &[&str]) -> R<Concept<'a>> {
    let mut coding_path: Vec<&str> = path.to_vec();
    coding_path.push("coding");
    let codings = objects_at(object, &["coding"])
        .map_err(|_| format!("{} must be a list of Coding objects", coding_path.join(".")))?
        .into_iter()
        .map(|c| coding(c, &coding_path))
        .collect::<R<Vec<_>>>()?;
    let mut text_path: Vec<&str> = path.to_vec();
    text_path.push("text");
    let text = str_at(object, &["text"])
        .map_err(|_| format!("{} must be a string", text_path.join(".")))?;
    Ok(Concept { codings, text })
}

/// Every CodeableConcept of a list element.
pub(crate) fn concepts_at<'a>(value: &'a Value, path: &[&str]) -> R<Vec<Concept<'a>>> {
    objects_at(value, path)?
        .into_iter()
        .map(|object| concept(object, path))
        .collect()
}

/// The first CodeableConcept of a list element.
pub(crate) fn first_concept_at<'a>(value: &'a Value, path: &[&str]) -> R<Option<Concept<'a>>> {
    Ok(concepts_at(value, path)?.into_iter().next())
}

/// A readable name for a code system URI (`http://snomed.info/sct` → `SNOMED CT`); unknown
/// systems are returned as given.
pub(crate) fn system_name(uri: &str) -> &str {
    match uri.trim_end_matches('/') {
        "http://hl7.org/fhir/sid/icd-10-cm" | "urn:oid:2.16.840.1.113883.6.90" => "ICD-10-CM",
        "http://hl7.org/fhir/sid/icd-10" | "urn:oid:2.16.840.1.113883.6.3" => "ICD-10",
        "http://www.cms.gov/Medicare/Coding/ICD10" | "urn:oid:2.16.840.1.113883.6.4" => {
            "ICD-10-PCS"
        }
        "http://hl7.org/fhir/sid/icd-9-cm" | "urn:oid:2.16.840.1.113883.6.103" => "ICD-9-CM",
        "http://snomed.info/sct" | "urn:oid:2.16.840.1.113883.6.96" => "SNOMED CT",
        "http://loinc.org" | "urn:oid:2.16.840.1.113883.6.1" => "LOINC",
        "http://www.ama-assn.org/go/cpt" | "urn:oid:2.16.840.1.113883.6.12" => "CPT",
        "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
        | "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
        | "urn:oid:2.16.840.1.113883.6.285" => "HCPCS",
        "http://www.nlm.nih.gov/research/umls/rxnorm" | "urn:oid:2.16.840.1.113883.6.88" => {
            "RxNorm"
        }
        "http://hl7.org/fhir/sid/ndc" | "urn:oid:2.16.840.1.113883.6.69" => "NDC",
        "http://hl7.org/fhir/sid/cvx" | "urn:oid:2.16.840.1.113883.12.292" => "CVX",
        "http://unitsofmeasure.org" => "UCUM",
        _ => uri,
    }
}

/// Code system URIs used in preferences.
pub(crate) mod sys {
    /// ICD-10-CM.
    pub(crate) const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
    /// ICD-10 (WHO).
    pub(crate) const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
    /// ICD-10-PCS.
    pub(crate) const ICD10PCS: &str = "http://www.cms.gov/Medicare/Coding/ICD10";
    /// SNOMED CT.
    pub(crate) const SNOMED: &str = "http://snomed.info/sct";
    /// LOINC.
    pub(crate) const LOINC: &str = "http://loinc.org";
    /// CPT.
    pub(crate) const CPT: &str = "http://www.ama-assn.org/go/cpt";
    /// HCPCS (Blue Button).
    pub(crate) const HCPCS: &str = "https://bluebutton.cms.gov/resources/codesystem/hcpcs";
    /// RxNorm.
    pub(crate) const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
    /// NDC.
    pub(crate) const NDC: &str = "http://hl7.org/fhir/sid/ndc";
    /// CVX (CDC vaccine codes).
    pub(crate) const CVX: &str = "http://hl7.org/fhir/sid/cvx";
    /// US NPI identifiers.
    pub(crate) const NPI: &str = "http://hl7.org/fhir/sid/us-npi";
    /// US SSN identifiers.
    pub(crate) const SSN: &str = "http://hl7.org/fhir/sid/us-ssn";
    /// NUCC provider taxonomy.
    pub(crate) const NUCC: &str = "http://nucc.org/provider-taxonomy";
    /// Source of Payment Typology (payer type).
    pub(crate) const SOPT: &str = "https://nahdo.org/sopt";
    /// HL7 v3 ActCode (coverage types, encounter classes).
    pub(crate) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
}

// ------------------------------------------------------------------------------------------
// References.

/// A resolved FHIR reference: the referenced resource type when the reference says it, and
/// the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    /// `Patient` in `Patient/123`; `None` for `urn:uuid:` references without a `type`.
    pub(crate) resource_type: Option<&'a str>,
    /// `123`, or the uuid of a `urn:uuid:` reference.
    pub(crate) id: &'a str,
}

/// Parses a reference string: relative (`Patient/123`), absolute
/// (`https://x/fhir/Patient/123/_history/2`), `urn:uuid:…` / `urn:oid:…`, a bare id, or a
/// conditional reference by one identifier (`Organization?identifier=system|value`), whose
/// value is taken as the id (Synthea gives its Organizations and Locations the id their
/// identifier holds). Contained (`#x`) and other conditional references cannot name an entity.
pub(crate) fn parse_reference(text: &str) -> R<Target<'_>> {
    let text = text.trim();
    for prefix in ["urn:uuid:", "urn:oid:"] {
        if let Some(id) = text.strip_prefix(prefix) {
            return if id.is_empty() {
                Err(format!("reference '{text}' has no id"))
            } else {
                Ok(Target {
                    resource_type: None,
                    id,
                })
            };
        }
    }
    if text.starts_with('#') {
        return Err(format!(
            "reference '{text}' points to a contained resource, not an entity"
        ));
    }
    if let Some((kind, query)) = text.split_once('?') {
        // Synthea writes `Organization?identifier=https://github.com/synthetichealth/synthea|<id>`
        // for the Organizations, Locations and Practitioners of its separate bundles.
        let value = query
            .strip_prefix("identifier=")
            .and_then(|token| token.rsplit_once('|').map_or(Some(token), |(_, v)| Some(v)))
            .filter(|v| !v.is_empty() && !v.contains(['&', '=']));
        return match value {
            Some(id) if is_resource_type(kind) => Ok(Target {
                resource_type: Some(kind),
                id,
            }),
            _ => Err(format!(
                "reference '{text}' is a conditional reference other than \
                 Type?identifier=[system|]value and cannot be resolved"
            )),
        };
    }
    let mut segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() >= 2 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    match segments.as_slice() {
        [] => Err("reference is empty".to_string()),
        [id] => Ok(Target {
            resource_type: None,
            id,
        }),
        [.., kind, id] if is_resource_type(kind) => Ok(Target {
            resource_type: Some(kind),
            id,
        }),
        _ => Err(format!(
            "reference '{text}' is not of the form Type/id, a URL ending in Type/id, or urn:uuid"
        )),
    }
}

/// FHIR resource type names are UpperCamelCase ASCII words.
fn is_resource_type(segment: &str) -> bool {
    segment.starts_with(|c: char| c.is_ascii_uppercase())
        && segment.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The id referenced by the Reference at `path`, if it refers to one of `expected` types (or
/// does not say its type). A Reference without `reference` (only `identifier` or `display`)
/// and one to another resource type give `None`.
pub(crate) fn reference_at<'a>(
    value: &'a Value,
    path: &[&str],
    expected: &[&str],
) -> R<Option<&'a str>> {
    match obj_at(value, path)? {
        None => Ok(None),
        Some(reference) => reference_id(reference, path, expected),
    }
}

/// Like [`reference_at`], for a Reference object already in hand.
pub(crate) fn reference_id<'a>(
    reference: &'a Value,
    path: &[&str],
    expected: &[&str],
) -> R<Option<&'a str>> {
    Ok(typed_reference(reference, path, expected)?.map(|(_, id)| id))
}

/// Like [`reference_id`], with the type the reference says (in its URL or `type`), if any.
fn typed_reference<'a>(
    reference: &'a Value,
    path: &[&str],
    expected: &[&str],
) -> R<Option<(Option<&'a str>, &'a str)>> {
    let mut full: Vec<&str> = path.to_vec();
    full.push("reference");
    let text = match reference.get("reference") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(shape(&full, "a string", other)),
    };
    let target = parse_reference(text).map_err(|e| format!("{}: {e}", full.join(".")))?;
    let declared = match reference.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        _ => None,
    };
    match target.resource_type.or(declared) {
        Some(kind) if !expected.contains(&kind) => Ok(None),
        kind => Ok(Some((kind, target.id))),
    }
}

/// The `facilities` id of a Location: `Location/{id}`. Organizations keep their own id, so an
/// Organization and a Location with the same id are two facilities.
pub(crate) fn location_facility_id(id: &str) -> String {
    format!("Location/{id}")
}

/// The `facilities` id referenced at `path`, by a Reference to one of `expected` (Location
/// and / or Organization): a Location's in the form of [`location_facility_id`], an
/// Organization's as written. A reference that does not say its type is a Location when
/// `expected` starts with `Location` (the element's own type), else an Organization.
pub(crate) fn facility_at(value: &Value, path: &[&str], expected: &[&str]) -> R<Option<String>> {
    let Some(reference) = obj_at(value, path)? else {
        return Ok(None);
    };
    let untyped = expected.first().copied();
    Ok(
        typed_reference(reference, path, expected)?.map(|(kind, id)| {
            if kind.or(untyped) == Some("Location") {
                location_facility_id(id)
            } else {
                id.to_string()
            }
        }),
    )
}

// ------------------------------------------------------------------------------------------
// Dates.

/// A FHIR `date` / `dateTime` / `instant` as an ISO date `YYYY-MM-DD`: partial dates take the
/// first day (`2020` → `2020-01-01`, `2020-05` → `2020-05-01`); a dateTime keeps the date as
/// written (no time-zone shift).
pub(crate) fn to_date(text: &str) -> R<String> {
    let text = text.trim();
    let (date, rest) = split_date(text)?;
    if !rest.is_empty() {
        parse_time(text)?;
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// A FHIR `date` / `dateTime` / `instant` as an RFC 3339 timestamp in UTC
/// (`2024-03-01T14:30:00Z`): offsets are applied; partial dates and dates are midnight UTC; a
/// time without a zone (not valid FHIR, but common) is taken as UTC.
pub(crate) fn to_timestamp(text: &str) -> R<String> {
    let text = text.trim();
    let (date, rest) = split_date(text)?;
    let utc = if rest.is_empty() {
        date.and_time(chrono::NaiveTime::MIN).and_utc()
    } else {
        parse_time(text)?
    };
    Ok(utc.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

const DATE_SHAPE: &str = "expected a FHIR date YYYY, YYYY-MM, YYYY-MM-DD \
     or dateTime YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm)";

/// The date part (partial dates completed) and what follows it.
fn split_date(text: &str) -> R<(NaiveDate, &str)> {
    let bad = || format!("'{text}' is not a valid date: {DATE_SHAPE}");
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (head, rest) = match text.find('T') {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    };
    let parts: Vec<&str> = head.split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y] if digits(y, 4) => (*y, "01", "01"),
        [y, m] if digits(y, 4) && digits(m, 2) && rest.is_empty() => (*y, *m, "01"),
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => (*y, *m, *d),
        _ => return Err(bad()),
    };
    if rest.is_empty() || parts.len() == 3 {
        let date = NaiveDate::parse_from_str(&format!("{year}-{month}-{day}"), "%Y-%m-%d")
            .map_err(|_| format!("'{text}' is not a calendar date"))?;
        Ok((date, rest))
    } else {
        Err(bad())
    }
}

/// A full dateTime in UTC.
fn parse_time(text: &str) -> R<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(format!("'{text}' is not a valid dateTime: {DATE_SHAPE}"))
}

/// The date element at `path` as `YYYY-MM-DD`.
pub(crate) fn date_at(value: &Value, path: &[&str]) -> R<Option<String>> {
    str_at(value, path)?
        .map(|text| to_date(text).map_err(|e| format!("{}: {e}", path.join("."))))
        .transpose()
}

/// The date element at `path` as an RFC 3339 UTC timestamp.
pub(crate) fn timestamp_at(value: &Value, path: &[&str]) -> R<Option<String>> {
    str_at(value, path)?
        .map(|text| to_timestamp(text).map_err(|e| format!("{}: {e}", path.join("."))))
        .transpose()
}

/// `{prefix}DateTime`, else `{prefix}Period.start`, as a date.
pub(crate) fn choice_date(value: &Value, prefix: &str) -> R<Option<String>> {
    let date_time = format!("{prefix}DateTime");
    let period = format!("{prefix}Period");
    match date_at(value, &[&date_time])? {
        Some(date) => Ok(Some(date)),
        None => date_at(value, &[&period, "start"]),
    }
}

/// `{prefix}DateTime`, else `{prefix}Period.start`, as a timestamp.
pub(crate) fn choice_timestamp(value: &Value, prefix: &str) -> R<Option<String>> {
    let date_time = format!("{prefix}DateTime");
    let period = format!("{prefix}Period");
    match timestamp_at(value, &[&date_time])? {
        Some(t) => Ok(Some(t)),
        None => timestamp_at(value, &[&period, "start"]),
    }
}

/// Prefixes an element's message with the path of the element it was read under
/// (`.map_err(within("reaction"))` → `reaction.severity must be a string`).
pub(crate) fn within(prefix: &str) -> impl Fn(Reason) -> Reason + '_ {
    move |reason| format!("{prefix}.{reason}")
}
