//! A small generator of FHIR R4 in Synthea's export layout, for tests/data/synthea: one
//! transaction Bundle per patient (`urn:uuid:` fullUrls and references), plus the
//! `hospitalInformation<ts>.json` (Organizations, Locations) and
//! `practitionerInformation<ts>.json` (Practitioners, PractitionerRoles) batch Bundles that
//! patient bundles reference conditionally (`Organization?identifier=…|id`,
//! `Practitioner?identifier=…us-npi|npi`), as Synthea does. Each encounter has a Claim and an
//! ExplanationOfBenefit (Blue Button line adjudications, contained Coverage), an
//! Immunization, vitals, a lab, a survey Observation, a DiagnosticReport and a
//! DocumentReference; each patient a CarePlan, a CareTeam and a Provenance.
//!
//! The files are committed; `fhir_synthea.rs` checks they are this generator's output
//! (`HEALTHSIM_WRITE_SYNTHEA=1` rewrites them), and computes every expected number from them.

use serde_json::{json, Value as Json};

/// Patients, and encounters per patient.
pub(crate) const PATIENTS: usize = 3;
pub(crate) const ENCOUNTERS: usize = 3;
const ORGANIZATIONS: usize = 2;
const PRACTITIONERS: usize = 2;
const SYNTHEA: &str = "https://github.com/synthetichealth/synthea";
const NPI: &str = "http://hl7.org/fhir/sid/us-npi";
const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const CVX: &str = "http://hl7.org/fhir/sid/cvx";
const BLUE_BUTTON: &str = "https://bluebutton.cms.gov/resources/variables/";

/// A uuid-shaped id: `kind` names the resource type, `n` the instance.
fn uuid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

fn organization_id(i: usize) -> String {
    uuid(0x30, i)
}
fn location_id(i: usize) -> String {
    uuid(0x31, i)
}
fn npi(i: usize) -> String {
    format!("99999{i:05}")
}

fn entry(resource: Json, if_none_exist: Option<String>) -> Json {
    let kind = resource["resourceType"].clone();
    let mut request = json!({"method": "POST", "url": kind});
    if let Some(condition) = if_none_exist {
        request["ifNoneExist"] = json!(condition);
    }
    json!({"fullUrl": format!("urn:uuid:{}", resource["id"].as_str().unwrap_or_default()),
           "resource": resource, "request": request})
}

fn bundle(kind: &str, entries: Vec<Json>) -> Json {
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

fn synthea_ref(kind: &str, id: &str) -> Json {
    json!({"reference": format!("{kind}?identifier={SYNTHEA}|{id}")})
}

fn practitioner_ref(i: usize) -> Json {
    json!({"reference": format!("Practitioner?identifier={NPI}|{}", npi(i))})
}

fn urn(id: &str) -> Json {
    json!({"reference": format!("urn:uuid:{id}")})
}

fn coding(system: &str, code: &str, display: &str) -> Json {
    json!({"coding": [{"system": system, "code": code, "display": display}], "text": display})
}

/// Money from cents, as Synthea writes it (a JSON number with at most two decimals).
fn money(cents: i64) -> Json {
    json!({"value": cents as f64 / 100.0, "currency": "USD"})
}

fn adjudication(variable: &str, cents: i64) -> Json {
    json!({"category": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/adjudication",
                                    "code": format!("{BLUE_BUTTON}{variable}")}]},
           "amount": money(cents)})
}

fn hospital_information() -> Json {
    let mut entries = Vec::new();
    for i in 0..ORGANIZATIONS {
        let id = organization_id(i);
        let condition = format!("identifier={SYNTHEA}|{id}");
        entries.push(entry(
            json!({"resourceType": "Organization", "id": id,
                   "identifier": [{"system": SYNTHEA, "value": id}], "active": true,
                   "type": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")],
                   "name": format!("Hospital {i}"),
                   "telecom": [{"system": "phone", "value": format!("555-010{i}")}],
                   "address": [{"line": [format!("{i} Main St")], "city": "Boston", "state": "MA", "postalCode": "02110"}]}),
            Some(condition),
        ));
    }
    for i in 0..ORGANIZATIONS {
        let id = location_id(i);
        let condition = format!("identifier={SYNTHEA}|{id}");
        entries.push(entry(
            json!({"resourceType": "Location", "id": id, "status": "active",
                   "identifier": [{"system": SYNTHEA, "value": id}],
                   "name": format!("Hospital {i} main building"),
                   "address": {"line": [format!("{i} Main St")], "city": "Boston", "state": "MA", "postalCode": "02110"},
                   "managingOrganization": synthea_ref("Organization", &organization_id(i))}),
            Some(condition),
        ));
    }
    bundle("batch", entries)
}

fn practitioner_information() -> Json {
    let mut entries = Vec::new();
    for i in 0..PRACTITIONERS {
        entries.push(entry(
            json!({"resourceType": "Practitioner", "id": uuid(0x20, i),
                   "identifier": [{"system": NPI, "value": npi(i)}], "active": true,
                   "name": [{"family": format!("Doctor{i}"), "given": ["Ann"], "prefix": ["Dr."]}],
                   "gender": "female"}),
            Some(format!("identifier={NPI}|{}", npi(i))),
        ));
        entries.push(entry(
            json!({"resourceType": "PractitionerRole", "id": uuid(0x21, i),
                   "practitioner": practitioner_ref(i),
                   "organization": synthea_ref("Organization", &organization_id(i)),
                   "location": [synthea_ref("Location", &location_id(i))],
                   "specialty": [coding("http://nucc.org/provider-taxonomy", "208D00000X", "General Practice")]}),
            None,
        ));
    }
    bundle("batch", entries)
}

fn patient_bundle(p: usize) -> Json {
    let patient = uuid(0x01, p);
    let subject = urn(&patient);
    let mut entries = vec![entry(
        json!({"resourceType": "Patient", "id": patient,
               "identifier": [{"type": coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number"),
                               "value": format!("mrn-{p}")}],
               "name": [{"use": "official", "family": format!("Family{p}"), "given": [format!("Given{p}")]}],
               "gender": if p.is_multiple_of(2) { "female" } else { "male" },
               "birthDate": format!("19{}0-0{}-15", 5 + p, 1 + p),
               "address": [{"line": [format!("{p}0 Elm St")], "city": "Boston", "state": "MA", "postalCode": "02115"}]}),
        None,
    )];
    for e in 0..ENCOUNTERS {
        let n = p * ENCOUNTERS + e;
        let (site, doctor) = ((p + e) % ORGANIZATIONS, (p + e) % PRACTITIONERS);
        let encounter = uuid(0x02, n);
        let start = format!("2021-0{}-1{}T09:00:00-05:00", e + 1, p);
        let end = format!("2021-0{}-1{}T09:30:00-05:00", e + 1, p);
        let visit = coding(SNOMED, "185349003", "Encounter for check up");
        entries.push(entry(
            json!({"resourceType": "Encounter", "id": encounter, "status": "finished",
                   "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                   "type": [visit], "subject": subject, "period": {"start": start, "end": end},
                   "participant": [{"type": [coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")],
                                    "individual": practitioner_ref(doctor)}],
                   "location": [{"location": synthea_ref("Location", &location_id(site))}],
                   "serviceProvider": synthea_ref("Organization", &organization_id(site))}),
            None,
        ));
        let context = urn(&encounter);
        if e == 0 {
            entries.push(entry(
                json!({"resourceType": "Condition", "id": uuid(0x03, n),
                       "clinicalStatus": coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                       "category": [coding("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis", "Encounter Diagnosis")],
                       "code": coding(SNOMED, "44054006", "Diabetes"), "subject": subject,
                       "encounter": context, "onsetDateTime": start}),
                None,
            ));
        }
        let category = |code: &str| {
            json!([coding(
                "http://terminology.hl7.org/CodeSystem/observation-category",
                code,
                code
            )])
        };
        entries.push(entry(
            json!({"resourceType": "Observation", "id": uuid(0x04, n), "status": "final",
                   "category": category("vital-signs"), "code": coding(LOINC, "29463-7", "Body Weight"),
                   "subject": subject, "encounter": context, "effectiveDateTime": start,
                   "valueQuantity": {"value": 70 + n, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}),
            None,
        ));
        let lab = uuid(0x05, n);
        entries.push(entry(
            json!({"resourceType": "Observation", "id": lab, "status": "final",
                   "category": category("laboratory"), "code": coding(LOINC, "2339-0", "Glucose"),
                   "subject": subject, "encounter": context, "effectiveDateTime": start,
                   "valueQuantity": {"value": 90 + n, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}),
            None,
        ));
        entries.push(entry(
            json!({"resourceType": "Observation", "id": uuid(0x06, n), "status": "final",
                   "category": category("survey"), "code": coding(LOINC, "72166-2", "Tobacco smoking status"),
                   "subject": subject, "encounter": context, "effectiveDateTime": start,
                   "valueCodeableConcept": coding(SNOMED, "266919005", "Never smoked tobacco")}),
            None,
        ));
        if e == 1 {
            entries.push(entry(
                json!({"resourceType": "Procedure", "id": uuid(0x07, n), "status": "completed",
                       "code": coding(SNOMED, "430193006", "Medication Reconciliation"),
                       "subject": subject, "encounter": context,
                       "performedPeriod": {"start": start, "end": end}}),
                None,
            ));
        }
        if e == 2 {
            entries.push(entry(
                json!({"resourceType": "MedicationRequest", "id": uuid(0x08, n), "status": "active",
                       "intent": "order",
                       "medicationCodeableConcept": coding("http://www.nlm.nih.gov/research/umls/rxnorm", "860975", "24 HR Metformin 500 MG"),
                       "subject": subject, "encounter": context, "authoredOn": start,
                       "requester": practitioner_ref(doctor)}),
                None,
            ));
        }
        entries.push(entry(
            json!({"resourceType": "Immunization", "id": uuid(0x09, n), "status": "completed",
                   "vaccineCode": coding(CVX, "140", "Influenza, seasonal, injectable, preservative free"),
                   "patient": subject, "encounter": context, "occurrenceDateTime": start,
                   "primarySource": true}),
            None,
        ));
        entries.push(entry(
            json!({"resourceType": "DiagnosticReport", "id": uuid(0x0a, n), "status": "final",
                   "category": [coding("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
                   "code": coding(LOINC, "51990-0", "Basic metabolic panel"), "subject": subject,
                   "encounter": context, "effectiveDateTime": start, "issued": start,
                   "result": [urn(&lab)]}),
            None,
        ));
        entries.push(entry(
            json!({"resourceType": "DocumentReference", "id": uuid(0x0b, n), "status": "current",
                   "type": [coding(LOINC, "34117-2", "History and physical note")],
                   "subject": subject, "date": start,
                   "content": [{"attachment": {"contentType": "text/plain", "data": "Tm90ZQ=="}}],
                   "context": {"encounter": [context], "period": {"start": start, "end": end}}}),
            None,
        ));
        // The Claim and its EOB: two lines, the visit and the vaccine; the payer pays 80%.
        let claim = uuid(0x0c, n);
        let lines = [
            (12_550 + 1_000 * p as i64 + e as i64, visit.clone()),
            (
                14_052 + p as i64,
                coding(
                    CVX,
                    "140",
                    "Influenza, seasonal, injectable, preservative free",
                ),
            ),
        ];
        let paid = |cents: i64| cents * 8 / 10;
        let billed: i64 = lines.iter().map(|(c, _)| c).sum();
        let period = json!({"start": start, "end": end});
        entries.push(entry(
            json!({"resourceType": "Claim", "id": claim, "status": "active",
                   "type": coding("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
                   "use": "claim", "patient": subject, "billablePeriod": period, "created": end,
                   "provider": synthea_ref("Organization", &organization_id(site)),
                   "facility": synthea_ref("Location", &location_id(site)),
                   "priority": coding("http://terminology.hl7.org/CodeSystem/processpriority", "normal", "normal"),
                   "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "Medicaid"}}],
                   "item": lines.iter().enumerate().map(|(i, (cents, product))| json!({
                       "sequence": i + 1, "productOrService": product,
                       "encounter": [context], "net": money(*cents)})).collect::<Vec<_>>(),
                   "total": money(billed)}),
            None,
        ));
        entries.push(entry(
            json!({"resourceType": "ExplanationOfBenefit", "id": uuid(0x0d, n), "status": "active",
                   "contained": [{"resourceType": "Coverage", "id": "coverage", "status": "active",
                                  "type": {"text": "Medicaid"}, "beneficiary": subject,
                                  "payor": [{"display": "Medicaid"}]}],
                   "type": coding("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
                   "use": "claim", "patient": subject, "billablePeriod": period, "created": end,
                   "insurer": {"display": "Medicaid"}, "provider": practitioner_ref(doctor),
                   "facility": synthea_ref("Location", &location_id(site)),
                   "claim": urn(&claim), "outcome": "complete",
                   "careTeam": [{"sequence": 1, "provider": practitioner_ref(doctor),
                                 "role": coding("http://terminology.hl7.org/CodeSystem/claimcareteamrole", "primary", "Primary Care Practitioner")}],
                   "insurance": [{"focal": true, "coverage": {"reference": "#coverage", "display": "Medicaid"}}],
                   "item": lines.iter().enumerate().map(|(i, (cents, product))| json!({
                       "sequence": i + 1, "productOrService": product, "servicedPeriod": period,
                       "encounter": [context], "net": money(*cents),
                       "adjudication": [
                           adjudication("line_coinsrnc_amt", cents - paid(*cents)),
                           adjudication("line_prvdr_pmt_amt", paid(*cents)),
                           adjudication("line_sbmtd_chrg_amt", *cents),
                           adjudication("line_alowd_chrg_amt", *cents),
                           adjudication("line_bene_ptb_ddctbl_amt", 0)]})).collect::<Vec<_>>(),
                   "total": [{"category": coding("http://terminology.hl7.org/CodeSystem/adjudication", "submitted", "Submitted Amount"),
                              "amount": money(billed)}],
                   "payment": {"amount": money(lines.iter().map(|(c, _)| paid(*c)).sum())}}),
            None,
        ));
    }
    entries.push(entry(
        json!({"resourceType": "CarePlan", "id": uuid(0x0e, p), "status": "active", "intent": "order",
               "category": [coding(SNOMED, "698360004", "Diabetes self management plan")],
               "subject": subject, "period": {"start": "2021-01-10"}}),
        None,
    ));
    entries.push(entry(
        json!({"resourceType": "CareTeam", "id": uuid(0x0f, p), "status": "active",
               "subject": subject,
               "participant": [{"member": practitioner_ref(p % PRACTITIONERS)}]}),
        None,
    ));
    let targets: Vec<Json> = entries
        .iter()
        .map(|e| json!({"reference": e["fullUrl"].clone()}))
        .collect();
    entries.push(entry(
        json!({"resourceType": "Provenance", "id": uuid(0x10, p), "target": targets,
               "recorded": "2021-12-31T00:00:00Z",
               "agent": [{"who": synthea_ref("Organization", &organization_id(0))}]}),
        None,
    ));
    bundle("transaction", entries)
}

/// Every file of the fixture, by name, in Synthea's naming.
pub(crate) fn files() -> Vec<(String, Json)> {
    let mut files = vec![
        (
            "hospitalInformation1700000000000.json".to_string(),
            hospital_information(),
        ),
        (
            "practitionerInformation1700000000000.json".to_string(),
            practitioner_information(),
        ),
    ];
    for p in 0..PATIENTS {
        files.push((
            format!("Given{p}_Family{p}_{}.json", uuid(0x01, p)),
            patient_bundle(p),
        ));
    }
    files
}

/// The text a file is written with.
pub(crate) fn text(bundle: &Json) -> String {
    let mut text = serde_json::to_string_pretty(bundle).unwrap_or_default();
    text.push('\n');
    text
}
