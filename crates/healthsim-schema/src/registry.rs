//! The entity registry: one declarative definition of the canonical entity types (40 today).
//!
//! Everything that needs to know about tables, columns, keys, aliases or references reads
//! [`ENTITY_TYPES`]: the DDL, the migrations check, persist's field mapping, the summaries,
//! the query sandbox, export/import and `describe_schema`. No other table list exists.

use serde::Serialize;

use crate::Error;

/// The product layer an entity type belongs to (docs/schema.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Shared reference entities: persons, providers, facilities.
    Core,
    /// Clinical data (FHIR R4 / US Core).
    PatientSim,
    /// Health-plan membership and medical claims (X12 834/837/835).
    MemberSim,
    /// Pharmacy benefit data (NCPDP D.0).
    RxMemberSim,
    /// Clinical trials (CDISC SDTM).
    TrialSim,
    /// Population health (CDC PLACES, SVI, ADI).
    PopulationSim,
    /// Provider networks (NPPES taxonomy).
    NetworkSim,
}

impl Layer {
    /// Every layer, in documentation order.
    pub const ALL: [Layer; 7] = [
        Layer::Core,
        Layer::PatientSim,
        Layer::MemberSim,
        Layer::RxMemberSim,
        Layer::TrialSim,
        Layer::PopulationSim,
        Layer::NetworkSim,
    ];

    /// The product name as users know it.
    pub fn label(self) -> &'static str {
        match self {
            Layer::Core => "Core",
            Layer::PatientSim => "PatientSim",
            Layer::MemberSim => "MemberSim",
            Layer::RxMemberSim => "RxMemberSim",
            Layer::TrialSim => "TrialSim",
            Layer::PopulationSim => "PopulationSim",
            Layer::NetworkSim => "NetworkSim",
        }
    }
}

/// What a column holds; decides its SQL type and how input values are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Free text.
    Text,
    /// A code from a terminology (ICD-10, CPT, LOINC, NDC, ...) or a small enumerated value.
    Code,
    /// A whole number.
    Integer,
    /// A measured quantity (lab value, percentage, score).
    Number,
    /// An amount of money in US dollars, stored exactly as `DECIMAL(18,2)`.
    Money,
    /// A calendar date (ISO 8601 `YYYY-MM-DD`).
    Date,
    /// A point in time, normalized to UTC.
    Timestamp,
    /// true / false.
    Boolean,
    /// Structured JSON (lists of codes, criteria).
    Json,
}

impl ColumnKind {
    /// The DuckDB type of a column of this kind.
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnKind::Text | ColumnKind::Code => "VARCHAR",
            ColumnKind::Integer => "BIGINT",
            ColumnKind::Number => "DOUBLE",
            ColumnKind::Money => "DECIMAL(18,2)",
            ColumnKind::Date => "DATE",
            ColumnKind::Timestamp => "TIMESTAMP",
            ColumnKind::Boolean => "BOOLEAN",
            ColumnKind::Json => "JSON",
        }
    }
}

/// One domain column of a canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Column name (snake_case, also the canonical input field name).
    pub name: &'static str,
    /// What the column holds.
    pub kind: ColumnKind,
    /// NOT NULL: the domain requires a value.
    pub required: bool,
}

/// A foreign key: `column` of this table holds a primary key of `target`, inside the same scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// The referencing column in this table.
    pub column: &'static str,
    /// The referenced table (its primary key).
    pub target: &'static str,
}

/// One canonical entity type and its table.
#[derive(Debug, Serialize)]
pub struct EntityType {
    /// Table name; also the plural type name (`patients`).
    pub table: &'static str,
    /// Singular type name (`patient`).
    pub singular: &'static str,
    /// Product layer.
    pub layer: Layer,
    /// The id column: with `scenario_id`, the table's logical key (unique per scenario). Not a
    /// constraint since V0005: the write path keeps it unique.
    pub primary_key: &'static str,
    /// Further accepted names (`vital_signs`, `labs`, ...), lowercase with underscores.
    pub aliases: &'static [&'static str],
    /// The standard the columns follow.
    pub standard: &'static str,
    /// Domain columns, grouped so shared groups (demographics) are defined once.
    #[serde(skip)]
    pub column_groups: &'static [&'static [Column]],
    /// Foreign keys to other canonical tables, valid inside one scenario.
    pub references: &'static [Reference],
    /// The main categorical column, for generic profiles and stratified samples.
    pub category_column: Option<&'static str>,
    /// The main date or timestamp column, for date ranges and "recent" samples.
    pub date_column: Option<&'static str>,
    /// Major types get samples in a scenario summary.
    pub major: bool,
    /// Which statistics a scenario summary computes for this type.
    #[serde(skip)]
    pub summary: SummaryProfile,
}

/// Which statistics a scenario summary computes for an entity type, besides its count. The
/// registry chooses; `healthsim-summary` turns each profile into SQL aggregates over the columns
/// the type has, so a new entity type picks a profile here and needs no code in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryProfile {
    /// Person-like (inline demographics): age, gender shares, top states and counties, trial
    /// arms, the category and date columns.
    Person,
    /// The category column's shares, the date column's range, and without a category the range
    /// of the first numeric column.
    Generic,
    /// Class mix, date range, average inpatient length of stay.
    Encounters,
    /// Top codes with their description and share of patients.
    Diagnoses,
    /// Money totals and the average per claim, claim type and status mix, date range.
    Claims,
    /// Top drugs, money totals, date range.
    PharmacyClaims,
    /// Top drugs, quantity and days-supply totals, date range.
    Prescriptions,
    /// Top terms (decoded, else verbatim) and severity mix.
    AdverseEvents,
}

impl EntityType {
    /// Domain columns in table order (primary key first).
    pub fn columns(&self) -> impl Iterator<Item = &'static Column> + '_ {
        self.column_groups.iter().flat_map(|group| group.iter())
    }

    /// A domain column by exact name.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns().find(|c| c.name == name)
    }

    /// Person-like tables carry inline demographics (birth_date, gender, state, ...).
    pub fn is_person_like(&self) -> bool {
        self.column("birth_date").is_some()
    }
}

/// Columns every canonical table has besides its domain columns, in table order after them.
pub const SYSTEM_COLUMNS: &[SystemColumn] = &[
    SystemColumn {
        name: "source_type",
        sql_type: "VARCHAR",
        not_null: false,
    },
    SystemColumn {
        name: "source_system",
        sql_type: "VARCHAR",
        not_null: false,
    },
    SystemColumn {
        name: "skill_used",
        sql_type: "VARCHAR",
        not_null: false,
    },
    SystemColumn {
        name: "generation_seed",
        sql_type: "BIGINT",
        not_null: false,
    },
    SystemColumn {
        name: "extra",
        sql_type: "JSON",
        not_null: false,
    },
    SystemColumn {
        name: "created_at",
        sql_type: "TIMESTAMP",
        not_null: true,
    },
];

/// The scoping column, first in every canonical table.
pub const SCENARIO_COLUMN: &str = "scenario_id";

/// The provenance columns (a subset of [`SYSTEM_COLUMNS`]) that exports may leave out.
pub const PROVENANCE_COLUMNS: &[&str] = &[
    "source_type",
    "source_system",
    "skill_used",
    "generation_seed",
];

/// The column holding every input field that has no column of its own.
pub const EXTRA_COLUMN: &str = "extra";

/// A column that every canonical table has (not a domain column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SystemColumn {
    /// Column name.
    pub name: &'static str,
    /// DuckDB type.
    pub sql_type: &'static str,
    /// NOT NULL.
    pub not_null: bool,
}

// --- column constructors (private: the registry below is the only user) ---

const fn c(name: &'static str, kind: ColumnKind) -> Column {
    Column {
        name,
        kind,
        required: false,
    }
}

const fn req(name: &'static str, kind: ColumnKind) -> Column {
    Column {
        name,
        kind,
        required: true,
    }
}

const fn r(column: &'static str, target: &'static str) -> Reference {
    Reference { column, target }
}

use ColumnKind::{
    Boolean as B, Code as C, Date as D, Integer as I, Json as J, Money as M, Number as N,
    Text as T, Timestamp as TS,
};

/// Demographics carried inline by every person-like table (persons, patients, members, rx_members, subjects).
const DEMOGRAPHICS: &[Column] = &[
    c("given_name", T),
    c("middle_name", T),
    c("family_name", T),
    c("birth_date", D),
    c("gender", C),
    c("race", C),
    c("ethnicity", C),
    c("ssn", T),
    c("address", T),
    c("city", T),
    c("state", C),
    c("postal_code", T),
    c("county_fips", C),
    c("phone", T),
    c("email", T),
    c("deceased_date", D),
];

/// Postal address of an organization (providers, facilities, pharmacies).
const ORG_ADDRESS: &[Column] = &[
    c("address", T),
    c("city", T),
    c("state", C),
    c("postal_code", T),
    c("phone", T),
];

/// Every canonical entity type, grouped by layer (docs/schema.md).
pub static ENTITY_TYPES: &[EntityType] = &[
    // ---------------------------------------------------------------- Core
    EntityType {
        table: "persons",
        singular: "person",
        layer: Layer::Core,
        primary_key: "person_id",
        aliases: &["people", "individual", "individuals"],
        standard: "cross-product person record (correlated by person_id and ssn)",
        column_groups: &[&[req("person_id", T)], DEMOGRAPHICS],
        references: &[],
        category_column: Some("gender"),
        date_column: Some("birth_date"),
        major: true,
        summary: SummaryProfile::Person,
    },
    EntityType {
        table: "providers",
        singular: "provider",
        layer: Layer::Core,
        primary_key: "provider_id",
        aliases: &[
            "practitioner",
            "practitioners",
            "clinician",
            "clinicians",
            "physician",
            "physicians",
        ],
        standard: "FHIR R4 Practitioner, NPPES",
        column_groups: &[
            &[
                req("provider_id", T),
                c("npi", C),
                c("given_name", T),
                c("family_name", T),
                c("credential", C),
                c("gender", C),
                c("specialty", T),
                c("taxonomy_code", C),
                c("organization_name", T),
            ],
            ORG_ADDRESS,
        ],
        references: &[],
        category_column: Some("specialty"),
        date_column: None,
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "facilities",
        singular: "facility",
        layer: Layer::Core,
        primary_key: "facility_id",
        aliases: &[
            "location",
            "locations",
            "organization",
            "organizations",
            "hospital",
            "hospitals",
        ],
        standard: "FHIR R4 Location / Organization",
        column_groups: &[
            &[
                req("facility_id", T),
                c("name", T),
                c("facility_type", C),
                c("npi", C),
                c("county_fips", C),
                c("bed_count", I),
            ],
            ORG_ADDRESS,
        ],
        references: &[],
        category_column: Some("facility_type"),
        date_column: None,
        major: true,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- PatientSim
    EntityType {
        table: "patients",
        singular: "patient",
        layer: Layer::PatientSim,
        primary_key: "patient_id",
        aliases: &["pt", "pts"],
        standard: "FHIR R4 Patient / US Core",
        column_groups: &[
            &[req("patient_id", T), c("person_id", T), c("mrn", T)],
            DEMOGRAPHICS,
            &[
                c("marital_status", C),
                c("language", C),
                c("primary_care_provider_id", T),
            ],
        ],
        references: &[
            r("person_id", "persons"),
            r("primary_care_provider_id", "providers"),
        ],
        category_column: Some("gender"),
        date_column: Some("birth_date"),
        major: true,
        summary: SummaryProfile::Person,
    },
    EntityType {
        table: "encounters",
        singular: "encounter",
        layer: Layer::PatientSim,
        primary_key: "encounter_id",
        aliases: &["admission", "admissions"],
        standard: "FHIR R4 Encounter / US Core",
        column_groups: &[&[
            req("encounter_id", T),
            req("patient_id", T),
            c("facility_id", T),
            c("attending_provider_id", T),
            c("encounter_class", C),
            c("encounter_type", C),
            c("status", C),
            c("start_datetime", TS),
            c("end_datetime", TS),
            c("admission_source", C),
            c("chief_complaint", T),
            c("reason_code", C),
            c("drg_code", C),
            c("discharge_disposition", C),
        ]],
        references: &[
            r("patient_id", "patients"),
            r("facility_id", "facilities"),
            r("attending_provider_id", "providers"),
        ],
        category_column: Some("encounter_class"),
        date_column: Some("start_datetime"),
        major: true,
        summary: SummaryProfile::Encounters,
    },
    EntityType {
        table: "diagnoses",
        singular: "diagnosis",
        layer: Layer::PatientSim,
        primary_key: "diagnosis_id",
        aliases: &["condition", "conditions", "dx", "problem", "problems"],
        standard: "FHIR R4 Condition, ICD-10-CM",
        column_groups: &[&[
            req("diagnosis_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            req("code", C),
            c("code_system", C),
            c("description", T),
            c("diagnosis_type", C),
            c("clinical_status", C),
            c("present_on_admission", C),
            c("onset_date", D),
            c("abatement_date", D),
        ]],
        references: &[r("patient_id", "patients"), r("encounter_id", "encounters")],
        category_column: Some("code"),
        date_column: Some("onset_date"),
        major: true,
        summary: SummaryProfile::Diagnoses,
    },
    EntityType {
        table: "procedures",
        singular: "procedure",
        layer: Layer::PatientSim,
        primary_key: "procedure_id",
        aliases: &["px"],
        standard: "FHIR R4 Procedure, CPT / ICD-10-PCS / SNOMED CT",
        column_groups: &[&[
            req("procedure_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            req("code", C),
            c("code_system", C),
            c("description", T),
            c("status", C),
            c("performed_datetime", TS),
            c("performer_provider_id", T),
            c("body_site", T),
        ]],
        references: &[
            r("patient_id", "patients"),
            r("encounter_id", "encounters"),
            r("performer_provider_id", "providers"),
        ],
        category_column: Some("code"),
        date_column: Some("performed_datetime"),
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "lab_results",
        singular: "lab_result",
        layer: Layer::PatientSim,
        primary_key: "lab_result_id",
        aliases: &["lab", "labs", "lab_test", "lab_tests", "laboratory"],
        standard: "FHIR R4 Observation (laboratory), LOINC",
        column_groups: &[&[
            req("lab_result_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            req("loinc_code", C),
            c("test_name", T),
            c("value_numeric", N),
            c("value_text", T),
            c("unit", T),
            c("reference_low", N),
            c("reference_high", N),
            c("interpretation", C),
            c("status", C),
            c("collected_datetime", TS),
            c("resulted_datetime", TS),
        ]],
        references: &[r("patient_id", "patients"), r("encounter_id", "encounters")],
        category_column: Some("test_name"),
        date_column: Some("collected_datetime"),
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "medications",
        singular: "medication",
        layer: Layer::PatientSim,
        primary_key: "medication_id",
        aliases: &["med", "meds", "medication_request", "medication_requests"],
        standard: "FHIR R4 MedicationRequest, RxNorm",
        column_groups: &[&[
            req("medication_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            c("rxnorm_code", C),
            c("ndc", C),
            req("drug_name", T),
            c("dose", T),
            c("route", C),
            c("frequency", T),
            c("status", C),
            c("start_date", D),
            c("end_date", D),
            c("prescriber_provider_id", T),
            c("indication_code", C),
        ]],
        references: &[
            r("patient_id", "patients"),
            r("encounter_id", "encounters"),
            r("prescriber_provider_id", "providers"),
        ],
        category_column: Some("drug_name"),
        date_column: Some("start_date"),
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "allergies",
        singular: "allergy",
        layer: Layer::PatientSim,
        primary_key: "allergy_id",
        aliases: &["allergy_intolerance", "allergy_intolerances"],
        standard: "FHIR R4 AllergyIntolerance",
        column_groups: &[&[
            req("allergy_id", T),
            req("patient_id", T),
            req("allergen", T),
            c("allergen_code", C),
            c("category", C),
            c("reaction", T),
            c("severity", C),
            c("criticality", C),
            c("clinical_status", C),
            c("onset_date", D),
        ]],
        references: &[r("patient_id", "patients")],
        category_column: Some("category"),
        date_column: Some("onset_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "vitals",
        singular: "vital",
        layer: Layer::PatientSim,
        primary_key: "vital_id",
        aliases: &["vital_sign", "vital_signs", "vitalsigns"],
        standard: "FHIR R4 Observation (vital-signs), LOINC",
        column_groups: &[&[
            req("vital_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            c("observation_datetime", TS),
            c("height_cm", N),
            c("weight_kg", N),
            c("bmi", N),
            c("systolic_bp", I),
            c("diastolic_bp", I),
            c("heart_rate", I),
            c("respiratory_rate", I),
            c("temperature_c", N),
            c("spo2", N),
            c("pain_score", I),
        ]],
        references: &[r("patient_id", "patients"), r("encounter_id", "encounters")],
        category_column: None,
        date_column: Some("observation_datetime"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "immunizations",
        singular: "immunization",
        layer: Layer::PatientSim,
        primary_key: "immunization_id",
        aliases: &["vaccination", "vaccinations", "vaccine", "vaccines"],
        standard: "FHIR R4 Immunization, CVX",
        column_groups: &[&[
            req("immunization_id", T),
            req("patient_id", T),
            c("encounter_id", T),
            req("vaccine_code", C),
            c("code_system", C),
            c("vaccine_name", T),
            c("status", C),
            c("occurrence_datetime", TS),
            c("primary_source", B),
            c("lot_number", T),
            c("expiration_date", D),
            c("site", C),
            c("route", C),
            c("dose_quantity", N),
            c("performer_provider_id", T),
            c("facility_id", T),
        ]],
        references: &[
            r("patient_id", "patients"),
            r("encounter_id", "encounters"),
            r("performer_provider_id", "providers"),
            r("facility_id", "facilities"),
        ],
        category_column: Some("vaccine_name"),
        date_column: Some("occurrence_datetime"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "fhir_resources",
        singular: "fhir_resource",
        layer: Layer::PatientSim,
        primary_key: "resource_id",
        aliases: &["raw_fhir", "raw_resource", "raw_resources"],
        standard: "FHIR R4, any resource type kept whole",
        column_groups: &[&[
            req("resource_id", T),
            req("resource_type", C),
            c("patient_id", T),
            c("encounter_id", T),
            c("status", C),
            req("resource", J),
        ]],
        references: &[r("patient_id", "patients"), r("encounter_id", "encounters")],
        category_column: Some("resource_type"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- MemberSim
    EntityType {
        table: "members",
        singular: "member",
        layer: Layer::MemberSim,
        primary_key: "member_id",
        aliases: &["enrollee", "enrollees", "eligibility"],
        standard: "X12 834 enrollment",
        column_groups: &[
            &[
                req("member_id", T),
                c("person_id", T),
                c("patient_id", T),
                c("subscriber_id", T),
                c("relationship_code", C),
            ],
            DEMOGRAPHICS,
            &[
                c("line_of_business", C),
                c("plan_code", C),
                c("plan_type", C),
                c("group_number", T),
                c("coverage_start_date", D),
                c("coverage_end_date", D),
                c("pcp_provider_id", T),
            ],
        ],
        references: &[
            r("person_id", "persons"),
            r("patient_id", "patients"),
            r("pcp_provider_id", "providers"),
        ],
        category_column: Some("line_of_business"),
        date_column: Some("coverage_start_date"),
        major: true,
        summary: SummaryProfile::Person,
    },
    EntityType {
        table: "accumulators",
        singular: "accumulator",
        layer: Layer::MemberSim,
        primary_key: "accumulator_id",
        aliases: &[],
        standard: "benefit accumulators (deductible, out-of-pocket)",
        column_groups: &[&[
            req("accumulator_id", T),
            req("member_id", T),
            c("plan_year", I),
            c("accumulator_type", C),
            c("network_tier", C),
            c("applies_to", C),
            c("limit_amount", M),
            c("applied_amount", M),
            c("remaining_amount", M),
            c("as_of_date", D),
        ]],
        references: &[r("member_id", "members")],
        category_column: Some("accumulator_type"),
        date_column: Some("as_of_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "claims",
        singular: "claim",
        layer: Layer::MemberSim,
        primary_key: "claim_id",
        aliases: &["medical_claim", "medical_claims"],
        standard: "X12 837P/837I claims, 835 remittance",
        column_groups: &[&[
            req("claim_id", T),
            c("member_id", T),
            c("patient_id", T),
            c("encounter_id", T),
            c("billing_provider_id", T),
            c("rendering_provider_id", T),
            c("facility_id", T),
            c("claim_type", C),
            c("status", C),
            c("service_date", D),
            c("service_end_date", D),
            c("received_date", D),
            c("paid_date", D),
            c("place_of_service", C),
            c("bill_type", C),
            c("drg_code", C),
            c("principal_diagnosis", C),
            c("other_diagnoses", J),
            c("total_billed", M),
            c("total_allowed", M),
            c("total_paid", M),
            c("total_patient_resp", M),
        ]],
        references: &[
            r("member_id", "members"),
            r("patient_id", "patients"),
            r("encounter_id", "encounters"),
            r("billing_provider_id", "providers"),
            r("rendering_provider_id", "providers"),
            r("facility_id", "facilities"),
        ],
        category_column: Some("claim_type"),
        date_column: Some("service_date"),
        major: true,
        summary: SummaryProfile::Claims,
    },
    EntityType {
        table: "claim_lines",
        singular: "claim_line",
        layer: Layer::MemberSim,
        primary_key: "claim_line_id",
        aliases: &["service_line", "service_lines"],
        standard: "X12 837 service lines (SV1/SV2), 835 SVC",
        column_groups: &[&[
            req("claim_line_id", T),
            req("claim_id", T),
            req("line_number", I),
            c("service_date", D),
            c("procedure_code", C),
            c("procedure_modifiers", T),
            c("revenue_code", C),
            c("ndc", C),
            c("diagnosis_pointer", T),
            c("place_of_service", C),
            c("units", N),
            c("billed_amount", M),
            c("allowed_amount", M),
            c("paid_amount", M),
            c("deductible_applied", M),
            c("copay_applied", M),
            c("coinsurance_applied", M),
            c("adjustment_reason_code", C),
        ]],
        references: &[r("claim_id", "claims")],
        category_column: Some("procedure_code"),
        date_column: Some("service_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "authorizations",
        singular: "authorization",
        layer: Layer::MemberSim,
        primary_key: "authorization_id",
        aliases: &[
            "auth",
            "auths",
            "prior_auth",
            "prior_auths",
            "prior_authorization",
            "prior_authorizations",
        ],
        standard: "X12 278 prior authorization",
        column_groups: &[&[
            req("authorization_id", T),
            req("member_id", T),
            c("requesting_provider_id", T),
            c("service_type", C),
            c("procedure_code", C),
            c("diagnosis_code", C),
            c("status", C),
            c("request_date", D),
            c("decision_date", D),
            c("start_date", D),
            c("end_date", D),
            c("approved_units", I),
            c("denial_reason", T),
        ]],
        references: &[
            r("member_id", "members"),
            r("requesting_provider_id", "providers"),
        ],
        category_column: Some("status"),
        date_column: Some("request_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- RxMemberSim
    EntityType {
        table: "rx_members",
        singular: "rx_member",
        layer: Layer::RxMemberSim,
        primary_key: "rx_member_id",
        aliases: &["pharmacy_member", "pharmacy_members"],
        standard: "NCPDP D.0 cardholder / patient segments",
        column_groups: &[
            &[
                req("rx_member_id", T),
                c("person_id", T),
                c("member_id", T),
                c("cardholder_id", T),
                c("person_code", C),
            ],
            DEMOGRAPHICS,
            &[
                c("bin", C),
                c("pcn", C),
                c("rx_group", C),
                c("plan_code", C),
                c("coverage_start_date", D),
                c("coverage_end_date", D),
            ],
        ],
        references: &[r("person_id", "persons"), r("member_id", "members")],
        category_column: Some("plan_code"),
        date_column: Some("coverage_start_date"),
        major: true,
        summary: SummaryProfile::Person,
    },
    EntityType {
        table: "prescriptions",
        singular: "prescription",
        layer: Layer::RxMemberSim,
        primary_key: "prescription_id",
        aliases: &["rx", "rxs", "script", "scripts"],
        standard: "NCPDP SCRIPT / D.0 prescription, RxNorm / NDC",
        column_groups: &[&[
            req("prescription_id", T),
            c("rx_member_id", T),
            c("patient_id", T),
            c("prescriber_provider_id", T),
            c("pharmacy_id", T),
            c("rx_number", T),
            c("ndc", C),
            c("rxnorm_code", C),
            req("drug_name", T),
            c("strength", T),
            c("dosage_form", C),
            c("quantity", N),
            c("days_supply", I),
            c("refills_authorized", I),
            c("daw_code", C),
            c("written_date", D),
            c("status", C),
        ]],
        references: &[
            r("rx_member_id", "rx_members"),
            r("patient_id", "patients"),
            r("prescriber_provider_id", "providers"),
            r("pharmacy_id", "pharmacies"),
        ],
        category_column: Some("drug_name"),
        date_column: Some("written_date"),
        major: true,
        summary: SummaryProfile::Prescriptions,
    },
    EntityType {
        table: "pharmacy_claims",
        singular: "pharmacy_claim",
        layer: Layer::RxMemberSim,
        primary_key: "pharmacy_claim_id",
        aliases: &["rx_claim", "rx_claims", "drug_claim", "drug_claims"],
        standard: "NCPDP D.0 claim billing / response",
        column_groups: &[&[
            req("pharmacy_claim_id", T),
            c("rx_member_id", T),
            c("prescription_id", T),
            c("pharmacy_id", T),
            c("ndc", C),
            c("drug_name", T),
            c("fill_date", D),
            c("fill_number", I),
            c("quantity_dispensed", N),
            c("days_supply", I),
            c("formulary_tier", C),
            c("ingredient_cost", M),
            c("dispensing_fee", M),
            c("gross_amount_due", M),
            c("patient_pay_amount", M),
            c("plan_paid_amount", M),
            c("claim_status", C),
            c("reject_code", C),
        ]],
        references: &[
            r("rx_member_id", "rx_members"),
            r("prescription_id", "prescriptions"),
            r("pharmacy_id", "pharmacies"),
        ],
        category_column: Some("drug_name"),
        date_column: Some("fill_date"),
        major: true,
        summary: SummaryProfile::PharmacyClaims,
    },
    EntityType {
        table: "dur_alerts",
        singular: "dur_alert",
        layer: Layer::RxMemberSim,
        primary_key: "dur_alert_id",
        aliases: &["dur", "drug_utilization_review", "drug_utilization_reviews"],
        standard: "NCPDP D.0 DUR/PPS segment",
        column_groups: &[&[
            req("dur_alert_id", T),
            c("pharmacy_claim_id", T),
            c("prescription_id", T),
            c("rx_member_id", T),
            c("reason_code", C),
            c("severity", C),
            c("professional_service_code", C),
            c("result_code", C),
            c("conflicting_ndc", C),
            c("message", T),
            c("alert_datetime", TS),
        ]],
        references: &[
            r("pharmacy_claim_id", "pharmacy_claims"),
            r("prescription_id", "prescriptions"),
            r("rx_member_id", "rx_members"),
        ],
        category_column: Some("reason_code"),
        date_column: Some("alert_datetime"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "pharmacies",
        singular: "pharmacy",
        layer: Layer::RxMemberSim,
        primary_key: "pharmacy_id",
        aliases: &["drugstore", "drugstores"],
        standard: "NCPDP pharmacy (NCPDP ID, NPI)",
        column_groups: &[
            &[
                req("pharmacy_id", T),
                c("ncpdp_id", C),
                c("npi", C),
                c("name", T),
                c("pharmacy_type", C),
                c("chain_name", T),
            ],
            ORG_ADDRESS,
        ],
        references: &[],
        category_column: Some("pharmacy_type"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- TrialSim
    EntityType {
        table: "studies",
        singular: "study",
        layer: Layer::TrialSim,
        primary_key: "study_id",
        aliases: &["trial", "trials", "protocol", "protocols"],
        standard: "CDISC SDTM TS (trial summary)",
        column_groups: &[&[
            req("study_id", T),
            c("protocol_number", T),
            c("title", T),
            c("phase", C),
            c("therapeutic_area", T),
            c("indication", T),
            c("sponsor", T),
            c("status", C),
            c("start_date", D),
            c("end_date", D),
            c("planned_enrollment", I),
        ]],
        references: &[],
        category_column: Some("phase"),
        date_column: Some("start_date"),
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "sites",
        singular: "site",
        layer: Layer::TrialSim,
        primary_key: "site_id",
        aliases: &["study_site", "study_sites"],
        standard: "CDISC SDTM site / investigator",
        column_groups: &[&[
            req("site_id", T),
            req("study_id", T),
            c("facility_id", T),
            c("investigator_provider_id", T),
            c("site_number", T),
            c("name", T),
            c("city", T),
            c("state", C),
            c("country", C),
            c("status", C),
            c("activation_date", D),
        ]],
        references: &[
            r("study_id", "studies"),
            r("facility_id", "facilities"),
            r("investigator_provider_id", "providers"),
        ],
        category_column: Some("status"),
        date_column: Some("activation_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "treatment_arms",
        singular: "treatment_arm",
        layer: Layer::TrialSim,
        primary_key: "arm_id",
        aliases: &["arm", "arms"],
        standard: "CDISC SDTM TA (trial arms)",
        column_groups: &[&[
            req("arm_id", T),
            req("study_id", T),
            c("arm_code", C),
            c("name", T),
            c("arm_type", C),
            c("description", T),
            c("planned_size", I),
        ]],
        references: &[r("study_id", "studies")],
        category_column: Some("arm_type"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "subjects",
        singular: "subject",
        layer: Layer::TrialSim,
        primary_key: "subject_id",
        aliases: &[
            "participant",
            "participants",
            "trial_subject",
            "trial_subjects",
        ],
        standard: "CDISC SDTM DM (demographics)",
        column_groups: &[
            &[
                req("subject_id", T),
                req("study_id", T),
                c("site_id", T),
                c("arm_id", T),
                c("usubjid", T),
                c("person_id", T),
                c("patient_id", T),
            ],
            DEMOGRAPHICS,
            &[
                c("screening_date", D),
                c("enrollment_date", D),
                c("randomization_date", D),
                c("status", C),
            ],
        ],
        references: &[
            r("study_id", "studies"),
            r("site_id", "sites"),
            r("arm_id", "treatment_arms"),
            r("person_id", "persons"),
            r("patient_id", "patients"),
        ],
        category_column: Some("status"),
        date_column: Some("enrollment_date"),
        major: true,
        summary: SummaryProfile::Person,
    },
    EntityType {
        table: "adverse_events",
        singular: "adverse_event",
        layer: Layer::TrialSim,
        primary_key: "ae_id",
        aliases: &["ae", "aes"],
        standard: "CDISC SDTM AE, MedDRA, CTCAE",
        column_groups: &[&[
            req("ae_id", T),
            req("subject_id", T),
            c("study_id", T),
            req("aeterm", T),
            c("aedecod", T),
            c("aebodsys", T),
            c("aesev", C),
            c("aeser", C),
            c("aerel", C),
            c("aeacn", C),
            c("aeout", C),
            c("ctcae_grade", I),
            c("aestdtc", D),
            c("aeendtc", D),
        ]],
        references: &[r("subject_id", "subjects"), r("study_id", "studies")],
        category_column: Some("aedecod"),
        date_column: Some("aestdtc"),
        major: true,
        summary: SummaryProfile::AdverseEvents,
    },
    EntityType {
        table: "visit_schedule",
        singular: "scheduled_visit",
        layer: Layer::TrialSim,
        primary_key: "scheduled_visit_id",
        aliases: &["scheduled_visits", "visit_schedules", "schedule"],
        standard: "CDISC SDTM TV (trial visits)",
        column_groups: &[&[
            req("scheduled_visit_id", T),
            req("study_id", T),
            c("arm_id", T),
            req("visit_name", T),
            c("visit_number", I),
            c("visit_type", C),
            c("planned_day", I),
            c("window_before_days", I),
            c("window_after_days", I),
        ]],
        references: &[r("study_id", "studies"), r("arm_id", "treatment_arms")],
        category_column: Some("visit_type"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "actual_visits",
        singular: "actual_visit",
        layer: Layer::TrialSim,
        primary_key: "actual_visit_id",
        aliases: &["trial_visit", "trial_visits"],
        standard: "CDISC SDTM SV (subject visits)",
        column_groups: &[&[
            req("actual_visit_id", T),
            req("subject_id", T),
            c("scheduled_visit_id", T),
            c("site_id", T),
            c("visit_name", T),
            c("visit_date", D),
            c("study_day", I),
            c("status", C),
            c("out_of_window", B),
        ]],
        references: &[
            r("subject_id", "subjects"),
            r("scheduled_visit_id", "visit_schedule"),
            r("site_id", "sites"),
        ],
        category_column: Some("status"),
        date_column: Some("visit_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "disposition_events",
        singular: "disposition_event",
        layer: Layer::TrialSim,
        primary_key: "disposition_id",
        aliases: &["disposition", "dispositions"],
        standard: "CDISC SDTM DS (disposition)",
        column_groups: &[&[
            req("disposition_id", T),
            req("subject_id", T),
            c("dsterm", T),
            c("dsdecod", C),
            c("dscat", C),
            c("epoch", C),
            c("dsstdtc", D),
        ]],
        references: &[r("subject_id", "subjects")],
        category_column: Some("dsdecod"),
        date_column: Some("dsstdtc"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- PopulationSim
    EntityType {
        table: "geographic_entities",
        singular: "geographic_entity",
        layer: Layer::PopulationSim,
        primary_key: "geo_id",
        aliases: &[
            "geography",
            "geographies",
            "geo",
            "geos",
            "region",
            "regions",
        ],
        standard: "Census geographies (FIPS state / county / tract, ZCTA)",
        column_groups: &[&[
            req("geo_id", T),
            req("geo_level", C),
            c("geo_code", C),
            c("name", T),
            c("state", C),
            c("parent_geo_id", T),
            c("population", I),
            c("land_area_sq_mi", N),
            c("latitude", N),
            c("longitude", N),
        ]],
        references: &[r("parent_geo_id", "geographic_entities")],
        category_column: Some("geo_level"),
        date_column: None,
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "population_profiles",
        singular: "population_profile",
        layer: Layer::PopulationSim,
        primary_key: "profile_id",
        aliases: &["population", "populations"],
        standard: "Census ACS population profile",
        column_groups: &[&[
            req("profile_id", T),
            c("geo_id", T),
            c("year", I),
            c("total_population", I),
            c("median_age", N),
            c("pct_female", N),
            c("pct_over_65", N),
            c("pct_under_18", N),
            c("median_household_income", M),
            c("pct_below_poverty", N),
            c("pct_uninsured", N),
            c("race_distribution", J),
        ]],
        references: &[r("geo_id", "geographic_entities")],
        category_column: Some("year"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "health_indicators",
        singular: "health_indicator",
        layer: Layer::PopulationSim,
        primary_key: "indicator_id",
        aliases: &["indicator", "indicators", "measure", "measures"],
        standard: "CDC PLACES / BRFSS measures",
        column_groups: &[&[
            req("indicator_id", T),
            c("geo_id", T),
            req("measure_id", C),
            c("measure_name", T),
            c("data_value", N),
            c("data_value_type", C),
            c("low_confidence_limit", N),
            c("high_confidence_limit", N),
            c("year", I),
            c("source", C),
        ]],
        references: &[r("geo_id", "geographic_entities")],
        category_column: Some("measure_id"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "sdoh_indices",
        singular: "sdoh_index",
        layer: Layer::PopulationSim,
        primary_key: "sdoh_id",
        aliases: &["sdoh", "sdoh_indexes", "svi", "adi"],
        standard: "CDC/ATSDR SVI, Area Deprivation Index",
        column_groups: &[&[
            req("sdoh_id", T),
            c("geo_id", T),
            req("index_type", C),
            c("year", I),
            c("overall_score", N),
            c("percentile", N),
            c("theme_socioeconomic", N),
            c("theme_household", N),
            c("theme_minority", N),
            c("theme_housing_transport", N),
            c("state_decile", I),
        ]],
        references: &[r("geo_id", "geographic_entities")],
        category_column: Some("index_type"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "cohort_specifications",
        singular: "cohort_specification",
        layer: Layer::PopulationSim,
        primary_key: "cohort_id",
        aliases: &["cohort", "cohorts"],
        standard: "cohort definition (inclusion / exclusion criteria)",
        column_groups: &[&[
            req("cohort_id", T),
            req("name", T),
            c("description", T),
            c("geo_id", T),
            c("age_min", I),
            c("age_max", I),
            c("gender", C),
            c("condition_codes", J),
            c("inclusion_criteria", J),
            c("exclusion_criteria", J),
            c("target_size", I),
            c("status", C),
        ]],
        references: &[r("geo_id", "geographic_entities")],
        category_column: Some("status"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
    // ---------------------------------------------------------------- NetworkSim
    EntityType {
        table: "networks",
        singular: "network",
        layer: Layer::NetworkSim,
        primary_key: "network_id",
        aliases: &["provider_network", "provider_networks"],
        standard: "health-plan provider networks",
        column_groups: &[&[
            req("network_id", T),
            req("name", T),
            c("network_type", C),
            c("line_of_business", C),
            c("state", C),
            c("status", C),
            c("effective_date", D),
            c("termination_date", D),
        ]],
        references: &[],
        category_column: Some("network_type"),
        date_column: Some("effective_date"),
        major: true,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "network_providers",
        singular: "network_provider",
        layer: Layer::NetworkSim,
        primary_key: "network_provider_id",
        aliases: &[],
        standard: "network participation (provider)",
        column_groups: &[&[
            req("network_provider_id", T),
            req("network_id", T),
            req("provider_id", T),
            c("tier", C),
            c("accepting_new_patients", B),
            c("status", C),
            c("effective_date", D),
            c("termination_date", D),
        ]],
        references: &[r("network_id", "networks"), r("provider_id", "providers")],
        category_column: Some("tier"),
        date_column: Some("effective_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "network_facilities",
        singular: "network_facility",
        layer: Layer::NetworkSim,
        primary_key: "network_facility_id",
        aliases: &[],
        standard: "network participation (facility)",
        column_groups: &[&[
            req("network_facility_id", T),
            req("network_id", T),
            req("facility_id", T),
            c("tier", C),
            c("status", C),
            c("effective_date", D),
            c("termination_date", D),
        ]],
        references: &[r("network_id", "networks"), r("facility_id", "facilities")],
        category_column: Some("tier"),
        date_column: Some("effective_date"),
        major: false,
        summary: SummaryProfile::Generic,
    },
    EntityType {
        table: "provider_specialties",
        singular: "provider_specialty",
        layer: Layer::NetworkSim,
        primary_key: "specialty_id",
        aliases: &["specialty", "specialties", "taxonomy", "taxonomies"],
        standard: "NPPES healthcare provider taxonomy",
        column_groups: &[&[
            req("specialty_id", T),
            req("provider_id", T),
            req("taxonomy_code", C),
            c("specialty_name", T),
            c("classification", T),
            c("is_primary", B),
            c("board_certified", B),
        ]],
        references: &[r("provider_id", "providers")],
        category_column: Some("specialty_name"),
        date_column: None,
        major: false,
        summary: SummaryProfile::Generic,
    },
];

/// The five state tables: scenarios, their per-type entity counts, tags, the running statistics
/// of their summaries, and the one-row guard table `scenario_namespace` (see
/// `ddl::STATE_TABLE_DEFS`).
pub const STATE_TABLES: &[&str] = &[
    "scenarios",
    "scenario_entities",
    "scenario_tags",
    "scenario_statistics",
    "scenario_namespace",
];

/// The system table that records applied migrations (not counted among the 44).
pub const MIGRATIONS_TABLE: &str = "schema_migrations";

/// Normalizes a user-given type name: trimmed, lowercase, `-` and spaces as `_`.
fn normalize_type_name(given: &str) -> String {
    given
        .trim()
        .chars()
        .map(|ch| match ch {
            '-' | ' ' => '_',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Resolves an entity type from its table name, singular form or an alias, case-insensitively.
///
/// ```
/// use healthsim_schema::entity_type;
/// assert_eq!(entity_type("Vital-Signs").unwrap().table, "vitals");
/// assert!(entity_type("spaceships").is_err());
/// ```
pub fn entity_type(given: &str) -> Result<&'static EntityType, Error> {
    let wanted = normalize_type_name(given);
    ENTITY_TYPES
        .iter()
        .find(|t| t.table == wanted || t.singular == wanted || t.aliases.contains(&wanted.as_str()))
        .ok_or_else(|| Error::UnknownEntityType {
            given: given.to_string(),
            valid: ENTITY_TYPES.iter().map(|t| t.table).collect(),
        })
}

/// The entity type whose table is exactly `table` (no alias resolution).
pub fn by_table(table: &str) -> Option<&'static EntityType> {
    ENTITY_TYPES.iter().find(|t| t.table == table)
}

/// Every reference in the registry that points at `table`, as (referencing type, reference).
pub fn references_to(
    table: &str,
) -> impl Iterator<Item = (&'static EntityType, &'static Reference)> + '_ {
    ENTITY_TYPES
        .iter()
        .flat_map(|t| t.references.iter().map(move |r| (t, r)))
        .filter(move |(_, r)| r.target == table)
}
