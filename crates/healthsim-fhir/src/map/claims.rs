//! Coverage → members; Claim → claims + claim_lines; ExplanationOfBenefit → the adjudication
//! of its Claim (or, without one, claims + claim_lines of its own).

use serde_json::{Number, Value};

use super::super::values::{
    amount_at, choice_date, concept, concept_at, concepts_at, date_at, facility_at, integer_at,
    list_at, obj_at, objects_at, reference_at, reference_id, str_at, sys, within, Concept, R,
};
use super::{required, Outcome, Row, Source};

/// FHIR subscriber-relationship codes → X12 834 individual relationship codes.
const RELATIONSHIPS: &[(&str, &str)] = &[
    ("self", "18"),
    ("spouse", "01"),
    ("child", "19"),
    ("other", "G8"),
];

pub(crate) fn coverage(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("members", "member_id", src.id);
    let beneficiary = required(
        reference_at(v, &["beneficiary"], &["Patient"])?,
        "beneficiary",
        "a Patient",
    )?;
    row.set("patient_id", Some(beneficiary));
    row.set("person_id", Some(beneficiary));
    row.set("subscriber_id", str_at(v, &["subscriberId"])?);
    if let Some(relationship) = concept_at(v, &["relationship"])? {
        if let Some(code) = relationship.code() {
            let x12 = RELATIONSHIPS
                .iter()
                .find(|(fhir, _)| *fhir == code)
                .map_or(code, |(_, x12)| *x12);
            row.set("relationship_code", Some(x12));
            row.extra("relationship", code);
        }
    }
    row.set("coverage_start_date", date_at(v, &["period", "start"])?);
    row.set("coverage_end_date", date_at(v, &["period", "end"])?);
    for class in objects_at(v, &["class"])? {
        let in_class = within("class");
        let Some(kind) = obj_at(class, &["type"]).map_err(&in_class)? else {
            continue;
        };
        let kind = concept(kind, &["class", "type"])?;
        let value = str_at(class, &["value"]).map_err(&in_class)?;
        if kind.has_code("plan") && row.get("plan_code").is_none() {
            row.set("plan_code", value);
            if let Some(name) = str_at(class, &["name"]).map_err(&in_class)? {
                row.extra("plan_name", name);
            }
        } else if kind.has_code("group") && row.get("group_number").is_none() {
            row.set("group_number", value);
        }
    }
    if let Some(kind) = concept_at(v, &["type"])? {
        let plan = kind.in_system(sys::ACT_CODE).or_else(|| {
            kind.codings
                .iter()
                .find(|c| c.code.is_some() && c.system != Some(sys::SOPT))
                .copied()
        });
        row.set("plan_type", plan.and_then(|c| c.code));
        let line = kind
            .in_system(sys::SOPT)
            .and_then(|c| c.code)
            .and_then(line_of_business);
        row.set("line_of_business", line);
    }
    Ok(Outcome::Rows(vec![row]))
}

/// Source of Payment Typology code → line of business, by its top-level digit.
fn line_of_business(code: &str) -> Option<&'static str> {
    Some(match code.chars().next()? {
        '1' => "medicare",
        '2' => "medicaid",
        '3' | '4' => "government",
        '5' | '6' | '7' => "commercial",
        '8' => "self_pay",
        _ => "other",
    })
}

/// Claim (and the rows of an ExplanationOfBenefit).
pub(crate) fn claim(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let mut row = Row::primary("claims", "claim_id", src.id);
    row.set("patient_id", reference_at(v, &["patient"], &["Patient"])?);
    let insurances = objects_at(v, &["insurance"])?;
    let insurance = insurances
        .iter()
        .find(|i| i.get("focal") == Some(&Value::Bool(true)))
        .or(insurances.first());
    if let Some(insurance) = insurance {
        // Synthea's EOBs reference a contained Coverage (`#coverage`): no member to name.
        let contained = insurance
            .get("coverage")
            .and_then(|c| c.get("reference"))
            .and_then(Value::as_str)
            .is_some_and(|r| r.starts_with('#'));
        if !contained {
            row.set(
                "member_id",
                reference_at(insurance, &["coverage"], &["Coverage"])
                    .map_err(within("insurance"))?,
            );
        }
    }
    match reference_at(v, &["provider"], &["Practitioner"])? {
        Some(practitioner) => row.set("billing_provider_id", Some(practitioner)),
        None => row.set(
            "facility_id",
            facility_at(v, &["provider"], &["Organization"])?,
        ),
    };
    if let Some(facility) = facility_at(v, &["facility"], &["Location", "Organization"])? {
        row.set("facility_id", Some(facility));
    }
    row.set("rendering_provider_id", rendering_provider(v)?);
    if let Some(kind) = concept_at(v, &["type"])? {
        row.set("claim_type", kind.code());
    }
    row.set("status", str_at(v, &["status"])?);
    row.set("service_date", date_at(v, &["billablePeriod", "start"])?);
    row.set("service_end_date", date_at(v, &["billablePeriod", "end"])?);
    row.set("received_date", date_at(v, &["created"])?);
    row.set("paid_date", date_at(v, &["payment", "date"])?);
    diagnoses(v, &mut row)?;

    let items = objects_at(v, &["item"])?;
    if let Some(first) = items.first() {
        let encounters = objects_at(first, &["encounter"]).map_err(within("item"))?;
        for encounter in encounters {
            if let Some(id) = reference_id(encounter, &["item", "encounter"], &["Encounter"])? {
                row.set("encounter_id", Some(id));
                break;
            }
        }
        if let Some(place) =
            concept_at(first, &["locationCodeableConcept"]).map_err(within("item"))?
        {
            row.set("place_of_service", place.code());
        }
        if row.get("service_date").is_none() {
            row.set(
                "service_date",
                choice_date(first, "serviced").map_err(within("item"))?,
            );
        }
    }
    totals(v, &mut row)?;

    let mut rows = vec![row];
    for (index, item) in items.into_iter().enumerate() {
        rows.push(line(src.id, index, item).map_err(within(&format!("item[{index}]")))?);
    }
    Ok(Outcome::Rows(rows))
}

/// ExplanationOfBenefit: the adjudication of the Claim it names (`claim`), with the same rows
/// as a Claim (`outcome`, queued / complete / error / partial, as the status) to be written
/// when that Claim is not there or it names none.
pub(crate) fn explanation_of_benefit(src: &Source<'_>) -> R<Outcome> {
    let v = src.resource;
    let Outcome::Rows(mut rows) = claim(src)? else {
        return Err("internal: a claim maps to rows".into());
    };
    if let (Some(outcome), Some(first)) = (str_at(v, &["outcome"])?, rows.first_mut()) {
        first.set("status", Some(outcome));
    }
    Ok(Outcome::Adjudicates {
        claim_id: reference_at(v, &["claim"], &["Claim"])?.map(str::to_string),
        rows,
    })
}

/// careTeam member in a rendering / primary / performing role, else the first Practitioner.
fn rendering_provider(v: &Value) -> R<Option<&str>> {
    let mut fallback = None;
    for member in objects_at(v, &["careTeam"])? {
        let in_team = within("careTeam");
        let Some(id) = reference_at(member, &["provider"], &["Practitioner"]).map_err(&in_team)?
        else {
            continue;
        };
        let role = concept_at(member, &["role"]).map_err(&in_team)?;
        if role.is_some_and(|r| {
            ["rendering", "primary", "performing"]
                .iter()
                .any(|c| r.has_code(c))
        }) {
            return Ok(Some(id));
        }
        fallback = fallback.or(Some(id));
    }
    Ok(fallback)
}

/// diagnosis: principal (type principal, else sequence 1, else the first) → principal_diagnosis,
/// the other codes → other_diagnoses.
fn diagnoses(v: &Value, row: &mut Row) -> R<()> {
    let mut coded = Vec::new();
    for diagnosis in objects_at(v, &["diagnosis"])? {
        let in_diagnosis = within("diagnosis");
        let Some(code) =
            concept_at(diagnosis, &["diagnosisCodeableConcept"]).map_err(&in_diagnosis)?
        else {
            continue;
        };
        let Some(coding) = code.preferred(&[sys::ICD10CM, sys::ICD10]) else {
            continue;
        };
        let principal = concepts_at(diagnosis, &["type"])
            .map_err(&in_diagnosis)?
            .iter()
            .any(|t| t.has_code("principal"));
        let sequence = integer_at(diagnosis, &["sequence"]).map_err(&in_diagnosis)?;
        coded.push((principal, sequence, coding));
    }
    let principal = coded
        .iter()
        .position(|(principal, _, _)| *principal)
        .or_else(|| {
            coded
                .iter()
                .position(|(_, sequence, _)| *sequence == Some(1))
        })
        .or(if coded.is_empty() { None } else { Some(0) });
    if let Some(at) = principal {
        let (_, _, coding) = coded.remove(at);
        row.code("principal_diagnosis", Some(coding));
    }
    let others: Vec<Value> = coded
        .into_iter()
        .filter_map(|(_, _, c)| c.code.map(Value::from))
        .collect();
    if !others.is_empty() {
        row.set("other_diagnoses", Some(Value::Array(others)));
    }
    Ok(())
}

/// Claim.total, or the EOB's total[] by adjudication category; an EOB's payment.amount is the
/// paid total when total[] has no benefit.
fn totals(v: &Value, row: &mut Row) -> R<()> {
    match at_total(v)? {
        Total::Money(amount) => {
            row.set("total_billed", amount);
            // An EOB without total[] still says what was paid (a Claim has no payment).
            if let Some(paid) = amount_at(v, &["payment", "amount"])? {
                row.set("total_paid", Some(paid));
            }
        }
        Total::Categories(totals) => {
            let find = |codes: &[&str]| {
                totals
                    .iter()
                    .find(|(category, _)| codes.iter().any(|c| category.has_code(c)))
                    .map(|(_, amount)| amount.clone())
            };
            row.set("total_billed", find(&["submitted"]));
            row.set("total_allowed", find(&["eligible"]));
            let paid = match find(&["benefit"]) {
                Some(paid) => Some(paid),
                None => amount_at(v, &["payment", "amount"])?,
            };
            row.set("total_paid", paid);
            let patient = match find(&["memberliability"]) {
                Some(amount) => Some(amount),
                None => sum(["copay", "deductible", "coinsurance"]
                    .iter()
                    .filter_map(|c| find(&[c]))),
            };
            row.set("total_patient_resp", patient);
        }
    }
    Ok(())
}

enum Total<'a> {
    /// Claim.total: one Money (or none).
    Money(Option<Number>),
    /// ExplanationOfBenefit.total: (category, amount) pairs.
    Categories(Vec<(Concept<'a>, Number)>),
}

fn at_total(v: &Value) -> R<Total<'_>> {
    match v.get("total") {
        Some(Value::Array(_)) => {
            let mut totals = Vec::new();
            for total in objects_at(v, &["total"])? {
                let in_total = within("total");
                let category = concept_at(total, &["category"]).map_err(&in_total)?;
                let amount = amount_at(total, &["amount"]).map_err(&in_total)?;
                if let (Some(category), Some(amount)) = (category, amount) {
                    totals.push((category, amount));
                }
            }
            Ok(Total::Categories(totals))
        }
        _ => Ok(Total::Money(amount_at(v, &["total"])?)),
    }
}

/// The sum of amounts, rounded to cents; none when there are none.
fn sum(amounts: impl Iterator<Item = Number>) -> Option<Number> {
    let mut any = false;
    let mut total = 0.0;
    for amount in amounts {
        any = true;
        total += amount.as_f64().unwrap_or(0.0);
    }
    if any {
        Number::from_f64((total * 100.0).round() / 100.0)
    } else {
        None
    }
}

/// Item adjudication categories → claim-line columns: the FHIR adjudication codes, and the
/// CMS Blue Button variables Synthea writes.
const LINE_ADJUDICATIONS: &[(&str, &str)] = &[
    ("submitted", "billed_amount"),
    ("eligible", "allowed_amount"),
    ("benefit", "paid_amount"),
    ("copay", "copay_applied"),
    ("deductible", "deductible_applied"),
    ("coinsurance", "coinsurance_applied"),
    (
        "https://bluebutton.cms.gov/resources/variables/line_sbmtd_chrg_amt",
        "billed_amount",
    ),
    (
        "https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt",
        "allowed_amount",
    ),
    (
        "https://bluebutton.cms.gov/resources/variables/line_prvdr_pmt_amt",
        "paid_amount",
    ),
    (
        "https://bluebutton.cms.gov/resources/variables/line_bene_ptb_ddctbl_amt",
        "deductible_applied",
    ),
    (
        "https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt",
        "coinsurance_applied",
    ),
];

/// One item → one claim line `{claim_id}-{sequence}`.
fn line(claim_id: &str, index: usize, item: &Value) -> R<Row> {
    let sequence = match integer_at(item, &["sequence"])? {
        Some(sequence) => sequence,
        None => i64::try_from(index + 1).map_err(|_| "too many items".to_string())?,
    };
    let mut row = Row::derived(
        "claim_lines",
        "claim_line_id",
        &format!("{claim_id}-{sequence}"),
    );
    row.set("claim_id", Some(claim_id));
    row.set("line_number", Some(sequence));
    row.set("service_date", choice_date(item, "serviced")?);
    if let Some(product) = concept_at(item, &["productOrService"])? {
        row.set("ndc", product.in_system(sys::NDC).and_then(|c| c.code));
        let procedure = product.preferred(&[sys::CPT, sys::HCPCS]);
        if procedure.is_some_and(|c| c.system != Some(sys::NDC)) {
            row.code("procedure_code", procedure);
        }
    }
    let modifiers: Vec<&str> = concepts_at(item, &["modifier"])?
        .iter()
        .filter_map(Concept::code)
        .collect();
    if !modifiers.is_empty() {
        row.set("procedure_modifiers", Some(modifiers.join(",")));
    }
    if let Some(revenue) = concept_at(item, &["revenue"])? {
        row.set("revenue_code", revenue.code());
    }
    let pointers: Vec<String> = list_at(item, &["diagnosisSequence"])?
        .iter()
        .map(|p| {
            p.as_i64()
                .map(|p| p.to_string())
                .ok_or_else(|| "diagnosisSequence must be a list of whole numbers".to_string())
        })
        .collect::<R<_>>()?;
    if !pointers.is_empty() {
        row.set("diagnosis_pointer", Some(pointers.join(",")));
    }
    if let Some(place) = concept_at(item, &["locationCodeableConcept"])? {
        row.set("place_of_service", place.code());
    }
    let units = amount_at(item, &["quantity"])?;
    row.set("units", units.clone());
    let billed = match amount_at(item, &["net"])? {
        Some(net) => Some(net),
        None => amount_at(item, &["unitPrice"])?.and_then(|price| {
            let quantity = units.as_ref().and_then(Number::as_f64).unwrap_or(1.0);
            let total = price.as_f64()? * quantity;
            Number::from_f64((total * 100.0).round() / 100.0)
        }),
    };
    row.set("billed_amount", billed);
    for adjudication in objects_at(item, &["adjudication"])? {
        let in_adjudication = within("adjudication");
        let Some(category) = obj_at(adjudication, &["category"]).map_err(&in_adjudication)? else {
            continue;
        };
        let category = concept(category, &["adjudication", "category"])?;
        let amount = amount_at(adjudication, &["amount"]).map_err(&in_adjudication)?;
        let column = LINE_ADJUDICATIONS
            .iter()
            .copied()
            .find(|(code, _)| category.has_code(code))
            .map(|(_, column)| column);
        if let (Some(column), Some(amount)) = (column, amount) {
            if row.get(column).is_none() {
                row.set(column, Some(amount));
            }
        }
        if let Some(reason) = concept_at(adjudication, &["reason"]).map_err(&in_adjudication)? {
            if row.get("adjustment_reason_code").is_none() {
                row.set("adjustment_reason_code", reason.code());
            }
        }
    }
    Ok(row)
}
