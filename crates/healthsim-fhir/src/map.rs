//! FHIR R4 resources → canonical entities of the registry.
//!
//! [`map_resource`] turns one resource into rows of canonical tables (a Patient gives a
//! `persons` and a `patients` row, a Claim a `claims` row and its `claim_lines`), each a JSON
//! object keyed by registry column names, ready for persist. Every resource ends in a table:
//! those without one of their own are kept whole in `fhir_resources`. The rules, by resource type:
//!
//! | resource | table(s) | notes |
//! |---|---|---|
//! | Patient | persons, patients | `person_id` = patient id on both; name (`official` first), birthDate, gender, US Core race / ethnicity (text, else OMB display), identifier MR → mrn, us-ssn → ssn, address (`home` first), telecom phone / email, deceasedDateTime, maritalStatus, communication language, generalPractitioner → primary_care_provider_id |
//! | Practitioner | providers | identifier us-npi → npi; name, gender, address, phone; qualification: NUCC taxonomy coding → taxonomy_code + specialty, other code → credential |
//! | Organization, Location | facilities | name, type → facility_type, us-npi, address, phone. Two id forms, so neither overwrites the other: an Organization keeps its id, a Location is `Location/{id}`, and every reference to a Location takes that form (encounter `location`, claim `facility`, immunization `location`; a reference there that does not say its type is taken as a Location) |
//! | Encounter | encounters | class AMB/IMP/EMER/VR (+ ACUTE, NONAC, OBSENC, PRENC, SS, HH, FLD) → outpatient / inpatient / emergency / telehealth / observation / home_health / field (other codes kept as given); type → encounter_type; period; subject; `location[0]` (else serviceProvider) → facility_id; participant (ATND first, else the first Practitioner) → attending_provider_id; hospitalization admitSource / dischargeDisposition; reasonCode → reason_code and chief_complaint (its text) |
//! | Condition | diagnoses | code (ICD-10-CM, ICD-10, SNOMED CT preferred in that order) + code_system + description; category → diagnosis_type; clinicalStatus; onset / abatement (DateTime or Period.start); encounter |
//! | Procedure | procedures | code (CPT, HCPCS, ICD-10-PCS, SNOMED CT); status; performedDateTime / performedPeriod.start; performer actor; bodySite |
//! | Observation, category laboratory | lab_results | LOINC code, text → test_name; valueQuantity → value_numeric + unit; valueString / valueCodeableConcept / valueBoolean → value_text; `referenceRange[0]` low/high; interpretation; effective → collected_datetime; issued → resulted_datetime |
//! | Observation, category vital-signs | vitals | one row per Observation; the value and every component mapped by LOINC, units converted (see "Vital signs" below) |
//! | MedicationRequest | medications (+ prescriptions when dispenseRequest is present) | medicationCodeableConcept (or a contained Medication) RxNorm / NDC codes, drug_name = text or display; `dosageInstruction[0]` → dose, route, frequency; authoredOn → start_date; requester → prescriber; reasonCode → indication_code; dispenseRequest quantity / expectedSupplyDuration (days) / numberOfRepeatsAllowed; substitution.allowedBoolean → daw_code 0/1 |
//! | AllergyIntolerance | allergies | code → allergen (label) + allergen_code; category, criticality, clinicalStatus, onset; reaction manifestations → reaction, reaction severity |
//! | Coverage | members | beneficiary → patient_id and person_id (demographics stay on the patient); subscriberId; relationship (self / spouse / child / other → X12 18 / 01 / 19 / G8; the FHIR code in `extra.relationship`); period; class plan / group → plan_code / group_number; type: ActCode → plan_type, Source of Payment Typology → line_of_business (medicare, medicaid, government, commercial, self_pay, other) |
//! | Immunization | immunizations | vaccineCode (CVX preferred) → vaccine_code + code_system + vaccine_name; patient; encounter; status; occurrence → occurrence_datetime; primarySource; lotNumber; expirationDate; site, route; doseQuantity.value; performer actor (Practitioner); location → facility_id `Location/{id}` |
//! | Claim | claims, claim_lines | see below |
//! | ExplanationOfBenefit | claims + claim_lines, as the [`Adjudication`] of the Claim it names ([`Mapped::Adjudication`]): merged into that Claim when it is there, a claim of its own otherwise | see below |
//! | ResearchStudy | studies, treatment_arms | arm_id = `{study_id}-{arm name}` |
//! | ResearchSubject | subjects | study → study_id; individual → patient_id and person_id; assignedArm → arm_id `{study_id}-{assignedArm}`; period.start → enrollment_date; status |
//! | anything else | fhir_resources | [`Mapped::Raw`] (also an Observation of another category, or a vital sign of an unmapped LOINC): `resource_id` = `{resourceType}/{id}`, resource_type, subject / patient / beneficiary (a Patient) → patient_id, encounter / context (an Encounter) → encounter_id, status, the whole resource in `resource` (not repeated in `extra.fhir`); why no table fits, when it is not simply the type, in `extra.reason` |
//!
//! Claims: type → claim_type; billablePeriod → service_date / service_end_date; created →
//! received_date; patient; insurance (focal first) coverage → member_id (Coverage ids are
//! member ids); provider (a Practitioner → billing_provider_id, an Organization →
//! facility_id); careTeam (role primary first) → rendering_provider_id; facility → facility_id;
//! the first item's encounter → encounter_id; diagnosis (type principal, else sequence 1) →
//! principal_diagnosis, the others → other_diagnoses; Claim.total → total_billed; EOB totals by
//! category: submitted → total_billed, eligible → total_allowed, benefit → total_paid (else
//! payment.amount), memberliability → total_patient_resp (else the sum of copay, deductible
//! and coinsurance); payment.date → paid_date. Each item is a claim line
//! `{claim_id}-{sequence}`: productOrService → procedure_code, modifier → procedure_modifiers,
//! revenue → revenue_code, diagnosisSequence → diagnosis_pointer, serviced → service_date,
//! locationCodeableConcept → place_of_service, quantity → units, net (else unitPrice ×
//! quantity) → billed_amount, adjudication submitted / eligible / benefit / copay /
//! deductible / coinsurance (or the Blue Button variables Synthea writes, `line_sbmtd_chrg_amt`,
//! `line_alowd_chrg_amt`, `line_prvdr_pmt_amt`, `line_bene_ptb_ddctbl_amt`,
//! `line_coinsrnc_amt`) → billed / allowed / paid / copay / deductible / coinsurance, an
//! adjudication reason → adjustment_reason_code. An insurance coverage that references a
//! contained Coverage (`#coverage`, as in Synthea's EOBs) names no member.
//!
//! ExplanationOfBenefit: an EOB adjudicates a Claim (Synthea writes one Claim and one EOB per
//! encounter), so it is no second claim. It maps like a Claim (its `outcome` as `status`), and
//! it is returned as the [`Adjudication`] of the Claim it names (`claim`): the
//! importer puts [`ADJUDICATED_CLAIM_COLUMNS`] (allowed, paid, patient responsibility, paid
//! date, outcome, and the member when the Claim has none) on the claim and
//! [`ADJUDICATED_LINE_COLUMNS`] on its lines by `line_number` (= `item.sequence`), and keeps
//! the EOB in the claim's `extra.fhir_eob`. An EOB whose Claim is not there is written as a
//! claim of its own (its id), as is an EOB without a `claim` reference.
//!
//! General rules:
//! - **Ids.** The row's primary key is the resource's `id`; inside a Bundle a resource without
//!   one takes the id of its entry's `fullUrl` ([`map_bundle_entry`], [`map_with_full_url`]).
//!   Derived rows: persons use the patient id, claim lines `{claim_id}-{sequence}`. Two
//!   tables prefix the type, because two resource types share them: a Location's facility is
//!   `Location/{id}`, a `fhir_resources` row `{resourceType}/{id}`.
//! - **References** resolve to the referenced id whether written `Patient/123`, as a full URL
//!   (`https://x/fhir/Patient/123/_history/2`), `urn:uuid:…`, or as Synthea's conditional
//!   reference by identifier (`Organization?identifier=https://github.com/synthetichealth/synthea|123`:
//!   the identifier's value is the id; Synthea's Practitioner references carry the NPI, which
//!   resolves only when the Practitioner's id is its NPI). A reference that says its type
//!   (in the URL or in `Reference.type`) fills a column only when the type fits
//!   (`subject: Group/1` is no patient); one that does not say it is trusted.
//! - **Codes** from terminologies keep their system: in the table's `code_system` column (as a
//!   readable name, `SNOMED CT`, `ICD-10-CM`, or the URI when unknown) where it has one,
//!   otherwise in `extra` as `{column}_system` and `{column}_display` (encounter type and
//!   reason, discharge disposition, route, facility type, allergen code, claim-line procedure
//!   code, ...). Columns that name their system (`loinc_code`, `rxnorm_code`, `ndc`) and codes
//!   from FHIR's own fixed value sets (statuses, categories, interpretation) keep the code only;
//!   the original coding is in `extra.fhir`.
//! - **Lossless.** The primary row of a resource carries the whole original resource in
//!   `extra.fhir`; derived rows (persons, prescriptions, claim_lines, treatment_arms) carry
//!   `extra.fhir_source = "{resourceType}/{id}"`. So every resource can be rebuilt exactly from
//!   its primary row (a `fhir_resources` row holds it in `resource`; a merged EOB is in its
//!   Claim's `extra.fhir_eob`).
//! - **Provenance.** `source_type` is `fhir`; `source_system` is `meta.source` when present.
//! - **Dates.** Date columns get `YYYY-MM-DD` (partial dates take the first day: `2020` →
//!   `2020-01-01`, `2020-05` → `2020-05-01`; a dateTime keeps its date as written); timestamp
//!   columns get RFC 3339 in UTC (`2024-03-01T19:30:00Z`; a date is midnight UTC; a time without
//!   zone is taken as UTC). Money and quantities are JSON numbers, exactly as in the input;
//!   currencies are not converted.
//! - **Errors.** A resource that is not an object, has no `resourceType` or id, has an element
//!   of the wrong JSON shape, an unparseable date, a unit that cannot be converted, or lacks
//!   what a required column needs (a Condition without a code, an Encounter without a patient
//!   subject) is [`Error::Malformed`] naming the element.
//!
//! # Vital signs
//!
//! Mapped LOINC codes and accepted units (main spellings; the UCUM `code`, else the `unit`
//! text; a value without a unit is taken in the column's unit; converted values are rounded to
//! 2 decimals, integer columns to whole numbers):
//!
//! | LOINC | column | units |
//! |---|---|---|
//! | 8302-2, 8306-3, 8308-9 | height_cm | `cm`, `m`, `mm`, `[in_i]` / `in`, `[ft_i]` / `ft` |
//! | 29463-7, 3141-9 | weight_kg | `kg`, `g`, `[lb_av]` / `lb` / `lbs`, `[oz_av]` / `oz` |
//! | 39156-5 | bmi | `kg/m2` |
//! | 8867-4 | heart_rate | `/min`, `{beats}/min`, `beats/min`, `bpm` |
//! | 9279-1 | respiratory_rate | `/min`, `{breaths}/min`, `breaths/min` |
//! | 8310-5, 8331-1 | temperature_c | `Cel` / `°C`, `[degF]` / `°F`, `K` |
//! | 2708-6, 59408-5 | spo2 | `%` |
//! | 72514-3 | pain_score | `{score}`, none |
//! | 8480-6 / 8462-4 (alone or as components of 85354-9, 55284-4, 85353-1) | systolic_bp / diastolic_bp | `mm[Hg]` / `mmHg`, `kPa` |

mod claims;
mod clinical;
mod observation;
mod people;
mod raw;
mod research;

use healthsim_schema::by_table;
use serde_json::{Map, Value};

use crate::values::{parse_reference, str_at, system_name, Coding, R};
use crate::Error;

/// What one FHIR resource maps to.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Canonical entities as (table, entity) pairs; referenced rows come first (persons before
    /// patients, claims before claim_lines). Keys are registry column names plus the
    /// provenance columns and `extra`.
    Entities(Vec<(&'static str, Map<String, Value>)>),
    /// A resource type (or Observation category) without a canonical table of its own: kept
    /// whole as one `fhir_resources` row (`rows`), so nothing is dropped.
    Raw {
        /// The resource's `resourceType`.
        resource_type: String,
        /// Why, when it is not simply the resource type (`Observation category social-history`).
        reason: Option<String>,
        /// The one `fhir_resources` row.
        rows: Vec<(&'static str, Map<String, Value>)>,
    },
    /// An ExplanationOfBenefit: its amounts belong on the Claim it adjudicates and that
    /// Claim's lines, not on a second claim.
    Adjudication(Adjudication),
}

/// An ExplanationOfBenefit's adjudication of a Claim ([`Mapped::Adjudication`]).
///
/// The caller applies it to the claim `claim_id` when it has that claim (the adjudication
/// columns of [`ADJUDICATED_CLAIM_COLUMNS`] and, per line number,
/// [`ADJUDICATED_LINE_COLUMNS`], plus the EOB itself), and otherwise (or when the EOB names no
/// Claim) writes `rows`: the EOB as a claim of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjudication {
    /// The id of the adjudicated Claim (`claim.reference`), when the EOB names one.
    pub claim_id: Option<String>,
    /// The EOB's own `claims` row (its id, `extra.fhir` = the EOB) and `claim_lines` rows
    /// (`{eob_id}-{sequence}`, with `line_number` = the item's sequence).
    pub rows: Vec<(&'static str, Map<String, Value>)>,
}

/// The `claims` columns an EOB's adjudication fills on the Claim it adjudicates: allowed,
/// paid and patient-responsibility totals, paid date, the outcome as status, and the member
/// (coverage) when the Claim had none.
pub const ADJUDICATED_CLAIM_COLUMNS: &[&str] = &[
    "total_allowed",
    "total_paid",
    "total_patient_resp",
    "paid_date",
    "status",
    "member_id",
];

/// The `claim_lines` columns an EOB item's adjudication fills on the Claim's line with the same
/// `line_number` (`item.sequence`).
pub const ADJUDICATED_LINE_COLUMNS: &[&str] = &[
    "allowed_amount",
    "paid_amount",
    "deductible_applied",
    "copay_applied",
    "coinsurance_applied",
    "adjustment_reason_code",
];

/// Maps one FHIR R4 resource (a JSON object with `resourceType` and `id`).
///
/// ```
/// use healthsim_fhir::{map_resource, Mapped};
/// use serde_json::json;
///
/// let condition = json!({
///     "resourceType": "Condition", "id": "c1",
///     "subject": {"reference": "Patient/p1"},
///     "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9",
///                          "display": "Type 2 diabetes mellitus without complications"}]},
///     "onsetDateTime": "2019-04"
/// });
/// let Mapped::Entities(rows) = map_resource(&condition)? else { unreachable!() };
/// let (table, diagnosis) = &rows[0];
/// assert_eq!(*table, "diagnoses");
/// assert_eq!(diagnosis["patient_id"], "p1");
/// assert_eq!(diagnosis["code_system"], "ICD-10-CM");
/// assert_eq!(diagnosis["onset_date"], "2019-04-01");
/// assert_eq!(diagnosis["extra"]["fhir"], condition);
/// # Ok::<(), healthsim_fhir::Error>(())
/// ```
pub fn map_resource(resource: &Value) -> Result<Mapped, Error> {
    map_with_full_url(resource, None)
}

/// Maps the resource of a Bundle entry (`{"fullUrl": …, "resource": {…}}`); a resource without
/// `id` takes the id of the `fullUrl`.
pub fn map_bundle_entry(entry: &Value) -> Result<Mapped, Error> {
    if !entry.is_object() {
        return Err(Error::malformed(
            None,
            None,
            "a bundle entry must be a json object",
        ));
    }
    let full_url = str_at(entry, &["fullUrl"]).map_err(|e| Error::malformed(None, None, e))?;
    match entry.get("resource") {
        Some(resource) => map_with_full_url(resource, full_url),
        None => Err(Error::malformed(
            None,
            full_url,
            "bundle entry has no resource",
        )),
    }
}

/// Maps one resource whose Bundle entry had `full_url`: the id is the resource's `id`, else the
/// id in `full_url` (`urn:uuid:…` → the uuid, `…/Patient/123` → `123`).
pub fn map_with_full_url(resource: &Value, full_url: Option<&str>) -> Result<Mapped, Error> {
    map_taking(&mut resource.clone(), full_url)
}

/// [`map_with_full_url`] for a resource the caller is done with: the whole resource moves
/// into the row that keeps it (`extra.fhir`, or `fhir_resources.resource`) instead of being
/// copied there, and `resource` is left `null`. The result is [`map_with_full_url`]'s.
///
/// Why: copying every resource (and freeing the copy's original later) was about a twentieth
/// of a FHIR import's CPU in its profile; the importer has no use for the resource after
/// mapping it.
///
/// # Errors
///
/// As [`map_with_full_url`]; `resource` is left as it was.
pub fn map_taking(resource: &mut Value, full_url: Option<&str>) -> Result<Mapped, Error> {
    let (unfinished, provenance) = map_outcome(resource, full_url)?;
    unfinished.finish(&provenance, resource)
}

/// What a mapping needs to know of its resource once the mapper is done with it.
struct Provenance {
    resource_type: String,
    id: String,
    source_system: Option<String>,
}

/// The mapper's outcome for `resource` (its rows not finished yet) and the provenance that
/// finishing them needs.
fn map_outcome(
    resource: &Value,
    full_url: Option<&str>,
) -> Result<(Unfinished, Provenance), Error> {
    let Value::Object(_) = resource else {
        return Err(Error::malformed(
            None,
            None,
            "a resource must be a json object",
        ));
    };
    let resource_type = match resource.get("resourceType") {
        Some(Value::String(t)) if !t.is_empty() => t.as_str(),
        Some(_) => {
            return Err(Error::malformed(
                None,
                None,
                "resourceType must be a non-empty string",
            ))
        }
        None => return Err(Error::malformed(None, None, "missing resourceType")),
    };
    let fail = |id: Option<&str>, reason: String| Error::malformed(Some(resource_type), id, reason);
    let id = match resource.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.as_str(),
        Some(Value::String(_)) | None | Some(Value::Null) => match full_url {
            Some(url) => {
                parse_reference(url)
                    .map_err(|e| fail(None, format!("no id, and fullUrl cannot give one: {e}")))?
                    .id
            }
            None => {
                return Err(fail(
                    None,
                    "missing id (and no bundle entry fullUrl)".into(),
                ))
            }
        },
        Some(_) => return Err(fail(None, "id must be a string".into())),
    };
    let source = Source {
        resource,
        resource_type,
        id,
        source_system: str_at(resource, &["meta", "source"]).map_err(|e| fail(Some(id), e))?,
    };
    let outcome = match mapper(resource_type) {
        Some(mapper) => mapper(&source).map_err(|e| fail(Some(id), e))?,
        None => Outcome::Raw(None),
    };
    let unfinished = match outcome {
        Outcome::Rows(rows) => Unfinished::Entities(rows),
        Outcome::Raw(reason) => Unfinished::Raw {
            rows: vec![raw::resource(&source, reason.as_deref())],
            reason,
        },
        Outcome::Adjudicates { claim_id, rows } => Unfinished::Adjudication { claim_id, rows },
    };
    let provenance = Provenance {
        resource_type: resource_type.to_string(),
        id: id.to_string(),
        source_system: source.source_system.map(str::to_string),
    };
    Ok((unfinished, provenance))
}

/// A mapping's rows before they are finished ([`Row::finish`]): all a [`Mapped`] needs but
/// the original resource, which finishing puts in.
enum Unfinished {
    Entities(Vec<Row>),
    Raw {
        rows: Vec<Row>,
        reason: Option<String>,
    },
    Adjudication {
        claim_id: Option<String>,
        rows: Vec<Row>,
    },
}

impl Unfinished {
    /// The finished rows as a [`Mapped`], the last primary row taking `resource` (one primary
    /// row per resource today; another would get a copy). That row is finished last, once
    /// every other row is, so a failure leaves `resource` where it was.
    fn finish(self, provenance: &Provenance, resource: &mut Value) -> Result<Mapped, Error> {
        let finish = |mut rows: Vec<Row>, resource: &mut Value| -> R<Vec<_>> {
            let taker = rows
                .iter()
                .rposition(|row| row.primary)
                .map(|at| (at, rows.remove(at)));
            let mut done = Vec::with_capacity(rows.len() + 1);
            for row in rows {
                let copy = row.primary.then_some(|| resource.clone());
                done.push(row.finish(provenance, copy)?);
            }
            if let Some((at, row)) = taker {
                done.insert(
                    at,
                    row.finish(provenance, Some(|| std::mem::take(resource)))?,
                );
            }
            Ok(done)
        };
        let fail = |e: String| {
            Error::malformed(
                Some(provenance.resource_type.as_str()),
                Some(provenance.id.as_str()),
                e,
            )
        };
        Ok(match self {
            Unfinished::Entities(rows) => Mapped::Entities(finish(rows, resource).map_err(fail)?),
            Unfinished::Raw { rows, reason } => Mapped::Raw {
                resource_type: provenance.resource_type.clone(),
                rows: finish(rows, resource).map_err(fail)?,
                reason,
            },
            Unfinished::Adjudication { claim_id, rows } => Mapped::Adjudication(Adjudication {
                claim_id,
                rows: finish(rows, resource).map_err(fail)?,
            }),
        })
    }
}

/// The mapper of a resource type.
type Mapper = fn(&Source<'_>) -> R<Outcome>;

fn mapper(resource_type: &str) -> Option<Mapper> {
    Some(match resource_type {
        "Patient" => people::patient,
        "Practitioner" => people::practitioner,
        "Organization" => people::organization,
        "Location" => people::location,
        "Encounter" => clinical::encounter,
        "Condition" => clinical::condition,
        "Procedure" => clinical::procedure,
        "MedicationRequest" => clinical::medication_request,
        "AllergyIntolerance" => clinical::allergy,
        "Observation" => observation::observation,
        "Coverage" => claims::coverage,
        "Claim" => claims::claim,
        "ExplanationOfBenefit" => claims::explanation_of_benefit,
        "Immunization" => clinical::immunization,
        "ResearchStudy" => research::study,
        "ResearchSubject" => research::subject,
        _ => return None,
    })
}

/// The resource being mapped.
pub(crate) struct Source<'a> {
    /// The whole resource.
    pub(crate) resource: &'a Value,
    /// Its resourceType.
    pub(crate) resource_type: &'a str,
    /// Its id (or the fullUrl's).
    pub(crate) id: &'a str,
    /// meta.source.
    source_system: Option<&'a str>,
}

/// What a mapper produced.
pub(crate) enum Outcome {
    /// Rows; the first one is the resource's primary row.
    Rows(Vec<Row>),
    /// No canonical table fits: the resource is kept whole in `fhir_resources`, with the reason
    /// when it is not simply its type.
    Raw(Option<String>),
    /// An ExplanationOfBenefit adjudicating the Claim `claim_id`; `rows` are its own claim rows,
    /// written when that Claim is not there (or it names none).
    Adjudicates {
        /// The adjudicated Claim's id, when it names one.
        claim_id: Option<String>,
        /// The EOB as a claim of its own.
        rows: Vec<Row>,
    },
}

/// One canonical row under construction.
pub(crate) struct Row {
    table: &'static str,
    fields: Map<String, Value>,
    extra: Map<String, Value>,
    primary: bool,
    /// The column of its own that holds the original resource (`fhir_resources.resource`),
    /// so `extra.fhir` would only repeat it; `None`: `extra.fhir` holds it.
    original_column: Option<&'static str>,
}

impl Row {
    /// The resource's own row: `extra.fhir` will hold the original resource.
    pub(crate) fn primary(table: &'static str, key: &str, id: &str) -> Row {
        let mut row = Row::derived(table, key, id);
        row.primary = true;
        row
    }

    /// A row derived from the resource (`extra.fhir_source` points at it).
    pub(crate) fn derived(table: &'static str, key: &str, id: &str) -> Row {
        let mut fields = Map::new();
        fields.insert(key.to_string(), Value::String(id.to_string()));
        Row {
            table,
            fields,
            extra: Map::new(),
            primary: false,
            original_column: None,
        }
    }

    /// The resource's own row, which will hold the whole resource in `column` instead of
    /// `extra.fhir`.
    pub(crate) fn whole(table: &'static str, key: &str, id: &str, column: &'static str) -> Row {
        let mut row = Row::primary(table, key, id);
        row.original_column = Some(column);
        row
    }

    /// Sets `column` when there is a value.
    pub(crate) fn set(&mut self, column: &str, value: Option<impl Into<Value>>) -> &mut Row {
        if let Some(value) = value {
            self.fields.insert(column.to_string(), value.into());
        }
        self
    }

    /// The value of `column`, if set.
    pub(crate) fn get(&self, column: &str) -> Option<&Value> {
        self.fields.get(column)
    }

    /// Sets a code column; its system and display go to `extra` (`{column}_system`,
    /// `{column}_display`).
    pub(crate) fn code(&mut self, column: &str, coding: Option<Coding<'_>>) -> &mut Row {
        if let Some(coding) = coding {
            if let Some(code) = coding.code {
                self.set(column, Some(code));
                if let Some(system) = coding.system {
                    self.extra(&format!("{column}_system"), system_name(system));
                }
                if let Some(display) = coding.display {
                    self.extra(&format!("{column}_display"), display);
                }
            }
        }
        self
    }

    /// Sets a code column and the table's `code_system` column.
    pub(crate) fn coded(&mut self, column: &str, coding: Option<Coding<'_>>) -> &mut Row {
        if let Some(coding) = coding {
            if let Some(code) = coding.code {
                self.set(column, Some(code));
                self.set("code_system", coding.system.map(system_name));
            }
        }
        self
    }

    /// Adds a field to `extra`.
    pub(crate) fn extra(&mut self, key: &str, value: impl Into<Value>) -> &mut Row {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The finished (table, entity): provenance, the original resource (`original` is given
    /// for a primary row, and asked only once the row is known to be complete: in its column
    /// or in `extra.fhir`), `extra`, and the registry's required columns checked.
    fn finish(
        mut self,
        provenance: &Provenance,
        original: Option<impl FnOnce() -> Value>,
    ) -> R<(&'static str, Map<String, Value>)> {
        let entity_type = by_table(self.table)
            .ok_or_else(|| format!("internal: no canonical table {}", self.table))?;
        // The original (a JSON object) will fill its column.
        let original_column = self.original_column.filter(|_| original.is_some());
        if let Some(missing) = entity_type.columns().find(|c| {
            c.required
                && Some(c.name) != original_column
                && self.fields.get(c.name).is_none_or(Value::is_null)
        }) {
            return Err(format!(
                "nothing to fill the required column {}.{}",
                self.table, missing.name
            ));
        }
        match (original, self.original_column) {
            (Some(original), Some(column)) => {
                self.fields.insert(column.to_string(), original());
            }
            (Some(original), None) => {
                self.extra.insert("fhir".into(), original());
            }
            (None, _) => {
                self.extra.insert(
                    "fhir_source".into(),
                    Value::String(format!("{}/{}", provenance.resource_type, provenance.id)),
                );
            }
        }
        self.fields.insert("source_type".into(), "fhir".into());
        if let Some(system) = &provenance.source_system {
            self.fields
                .insert("source_system".into(), system.as_str().into());
        }
        self.fields.insert(
            "extra".into(),
            Value::Object(std::mem::take(&mut self.extra)),
        );
        Ok((self.table, self.fields))
    }
}

/// A required reference: its id, or a message naming the element and the expected types.
pub(crate) fn required<'a>(id: Option<&'a str>, element: &str, expected: &str) -> R<&'a str> {
    id.ok_or_else(|| format!("{element}: a reference to {expected} is required"))
}
