-- V0005: no PRIMARY KEY or UNIQUE constraint on any table, and the guard table
-- scenario_namespace.
--
-- Every key becomes a *logical* key that the write path of healthsim-persist keeps unique itself
-- (explicit checks and anti-joins in the writing transaction): (scenario_id, <id>) of each
-- canonical table, scenarios.scenario_id and its unique name, (scenario_id, entity_type) of
-- scenario_entities, (scenario_id, tag) of scenario_tags, schema_migrations.version. Why:
-- - a DuckLake catalog refuses PRIMARY KEY, UNIQUE and indexes, and one write path should serve
--   it and the local file alike;
-- - on the local file, the (scenario_id, <id>) ART index was the largest single cost of persist,
--   clone and peak memory (docs/performance.md), and the file has one writer at a time anyway
--   (DuckDB's file lock).
-- scenario_namespace holds exactly one row: every transaction that creates, renames or deletes
-- a scenario increments it first, so two such transactions on a DuckLake catalog conflict at
-- commit instead of both taking one name (ARCHITECTURE.md, "Logical keys and guard rows").
--
-- DuckDB cannot drop a constraint, so each table is rebuilt: the constraint-free table is
-- created under a temporary name, the rows copied, the old table (with its ART indexes and the
-- tag index idx_scenario_tags_tag) dropped, and the new one renamed. Column order, types,
-- NOT NULL, defaults and rows are kept.

CREATE TABLE schema_migrations__v5 (
    version INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO schema_migrations__v5 SELECT * FROM schema_migrations;
DROP TABLE schema_migrations;
ALTER TABLE schema_migrations__v5 RENAME TO schema_migrations;

CREATE TABLE scenarios__v5 (
    scenario_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    description VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    metadata JSON
);
INSERT INTO scenarios__v5 SELECT * FROM scenarios;
DROP TABLE scenarios;
ALTER TABLE scenarios__v5 RENAME TO scenarios;

CREATE TABLE scenario_entities__v5 (
    scenario_id VARCHAR NOT NULL,
    entity_type VARCHAR NOT NULL,
    entity_count BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO scenario_entities__v5 SELECT * FROM scenario_entities;
DROP TABLE scenario_entities;
ALTER TABLE scenario_entities__v5 RENAME TO scenario_entities;

DROP INDEX idx_scenario_tags_tag;
CREATE TABLE scenario_tags__v5 (
    scenario_id VARCHAR NOT NULL,
    tag VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO scenario_tags__v5 SELECT * FROM scenario_tags;
DROP TABLE scenario_tags;
ALTER TABLE scenario_tags__v5 RENAME TO scenario_tags;

CREATE TABLE persons__v5 (
    scenario_id VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    given_name VARCHAR,
    middle_name VARCHAR,
    family_name VARCHAR,
    birth_date DATE,
    gender VARCHAR,
    race VARCHAR,
    ethnicity VARCHAR,
    ssn VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    county_fips VARCHAR,
    phone VARCHAR,
    email VARCHAR,
    deceased_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO persons__v5 SELECT * FROM persons;
DROP TABLE persons;
ALTER TABLE persons__v5 RENAME TO persons;

CREATE TABLE providers__v5 (
    scenario_id VARCHAR NOT NULL,
    provider_id VARCHAR NOT NULL,
    npi VARCHAR,
    given_name VARCHAR,
    family_name VARCHAR,
    credential VARCHAR,
    gender VARCHAR,
    specialty VARCHAR,
    taxonomy_code VARCHAR,
    organization_name VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    phone VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO providers__v5 SELECT * FROM providers;
DROP TABLE providers;
ALTER TABLE providers__v5 RENAME TO providers;

CREATE TABLE facilities__v5 (
    scenario_id VARCHAR NOT NULL,
    facility_id VARCHAR NOT NULL,
    name VARCHAR,
    facility_type VARCHAR,
    npi VARCHAR,
    county_fips VARCHAR,
    bed_count BIGINT,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    phone VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO facilities__v5 SELECT * FROM facilities;
DROP TABLE facilities;
ALTER TABLE facilities__v5 RENAME TO facilities;

CREATE TABLE patients__v5 (
    scenario_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    person_id VARCHAR,
    mrn VARCHAR,
    given_name VARCHAR,
    middle_name VARCHAR,
    family_name VARCHAR,
    birth_date DATE,
    gender VARCHAR,
    race VARCHAR,
    ethnicity VARCHAR,
    ssn VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    county_fips VARCHAR,
    phone VARCHAR,
    email VARCHAR,
    deceased_date DATE,
    marital_status VARCHAR,
    language VARCHAR,
    primary_care_provider_id VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO patients__v5 SELECT * FROM patients;
DROP TABLE patients;
ALTER TABLE patients__v5 RENAME TO patients;

CREATE TABLE encounters__v5 (
    scenario_id VARCHAR NOT NULL,
    encounter_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    facility_id VARCHAR,
    attending_provider_id VARCHAR,
    encounter_class VARCHAR,
    encounter_type VARCHAR,
    status VARCHAR,
    start_datetime TIMESTAMP,
    end_datetime TIMESTAMP,
    admission_source VARCHAR,
    chief_complaint VARCHAR,
    reason_code VARCHAR,
    drg_code VARCHAR,
    discharge_disposition VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO encounters__v5 SELECT * FROM encounters;
DROP TABLE encounters;
ALTER TABLE encounters__v5 RENAME TO encounters;

CREATE TABLE diagnoses__v5 (
    scenario_id VARCHAR NOT NULL,
    diagnosis_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    code VARCHAR NOT NULL,
    code_system VARCHAR,
    description VARCHAR,
    diagnosis_type VARCHAR,
    clinical_status VARCHAR,
    present_on_admission VARCHAR,
    onset_date DATE,
    abatement_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO diagnoses__v5 SELECT * FROM diagnoses;
DROP TABLE diagnoses;
ALTER TABLE diagnoses__v5 RENAME TO diagnoses;

CREATE TABLE procedures__v5 (
    scenario_id VARCHAR NOT NULL,
    procedure_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    code VARCHAR NOT NULL,
    code_system VARCHAR,
    description VARCHAR,
    status VARCHAR,
    performed_datetime TIMESTAMP,
    performer_provider_id VARCHAR,
    body_site VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO procedures__v5 SELECT * FROM procedures;
DROP TABLE procedures;
ALTER TABLE procedures__v5 RENAME TO procedures;

CREATE TABLE lab_results__v5 (
    scenario_id VARCHAR NOT NULL,
    lab_result_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    loinc_code VARCHAR NOT NULL,
    test_name VARCHAR,
    value_numeric DOUBLE,
    value_text VARCHAR,
    unit VARCHAR,
    reference_low DOUBLE,
    reference_high DOUBLE,
    interpretation VARCHAR,
    status VARCHAR,
    collected_datetime TIMESTAMP,
    resulted_datetime TIMESTAMP,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO lab_results__v5 SELECT * FROM lab_results;
DROP TABLE lab_results;
ALTER TABLE lab_results__v5 RENAME TO lab_results;

CREATE TABLE medications__v5 (
    scenario_id VARCHAR NOT NULL,
    medication_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    rxnorm_code VARCHAR,
    ndc VARCHAR,
    drug_name VARCHAR NOT NULL,
    dose VARCHAR,
    route VARCHAR,
    frequency VARCHAR,
    status VARCHAR,
    start_date DATE,
    end_date DATE,
    prescriber_provider_id VARCHAR,
    indication_code VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO medications__v5 SELECT * FROM medications;
DROP TABLE medications;
ALTER TABLE medications__v5 RENAME TO medications;

CREATE TABLE allergies__v5 (
    scenario_id VARCHAR NOT NULL,
    allergy_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    allergen VARCHAR NOT NULL,
    allergen_code VARCHAR,
    category VARCHAR,
    reaction VARCHAR,
    severity VARCHAR,
    criticality VARCHAR,
    clinical_status VARCHAR,
    onset_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO allergies__v5 SELECT * FROM allergies;
DROP TABLE allergies;
ALTER TABLE allergies__v5 RENAME TO allergies;

CREATE TABLE vitals__v5 (
    scenario_id VARCHAR NOT NULL,
    vital_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    observation_datetime TIMESTAMP,
    height_cm DOUBLE,
    weight_kg DOUBLE,
    bmi DOUBLE,
    systolic_bp BIGINT,
    diastolic_bp BIGINT,
    heart_rate BIGINT,
    respiratory_rate BIGINT,
    temperature_c DOUBLE,
    spo2 DOUBLE,
    pain_score BIGINT,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO vitals__v5 SELECT * FROM vitals;
DROP TABLE vitals;
ALTER TABLE vitals__v5 RENAME TO vitals;

CREATE TABLE immunizations__v5 (
    scenario_id VARCHAR NOT NULL,
    immunization_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    encounter_id VARCHAR,
    vaccine_code VARCHAR NOT NULL,
    code_system VARCHAR,
    vaccine_name VARCHAR,
    status VARCHAR,
    occurrence_datetime TIMESTAMP,
    primary_source BOOLEAN,
    lot_number VARCHAR,
    expiration_date DATE,
    site VARCHAR,
    route VARCHAR,
    dose_quantity DOUBLE,
    performer_provider_id VARCHAR,
    facility_id VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO immunizations__v5 SELECT * FROM immunizations;
DROP TABLE immunizations;
ALTER TABLE immunizations__v5 RENAME TO immunizations;

CREATE TABLE fhir_resources__v5 (
    scenario_id VARCHAR NOT NULL,
    resource_id VARCHAR NOT NULL,
    resource_type VARCHAR NOT NULL,
    patient_id VARCHAR,
    encounter_id VARCHAR,
    status VARCHAR,
    resource JSON NOT NULL,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO fhir_resources__v5 SELECT * FROM fhir_resources;
DROP TABLE fhir_resources;
ALTER TABLE fhir_resources__v5 RENAME TO fhir_resources;

CREATE TABLE members__v5 (
    scenario_id VARCHAR NOT NULL,
    member_id VARCHAR NOT NULL,
    person_id VARCHAR,
    patient_id VARCHAR,
    subscriber_id VARCHAR,
    relationship_code VARCHAR,
    given_name VARCHAR,
    middle_name VARCHAR,
    family_name VARCHAR,
    birth_date DATE,
    gender VARCHAR,
    race VARCHAR,
    ethnicity VARCHAR,
    ssn VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    county_fips VARCHAR,
    phone VARCHAR,
    email VARCHAR,
    deceased_date DATE,
    line_of_business VARCHAR,
    plan_code VARCHAR,
    plan_type VARCHAR,
    group_number VARCHAR,
    coverage_start_date DATE,
    coverage_end_date DATE,
    pcp_provider_id VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO members__v5 SELECT * FROM members;
DROP TABLE members;
ALTER TABLE members__v5 RENAME TO members;

CREATE TABLE accumulators__v5 (
    scenario_id VARCHAR NOT NULL,
    accumulator_id VARCHAR NOT NULL,
    member_id VARCHAR NOT NULL,
    plan_year BIGINT,
    accumulator_type VARCHAR,
    network_tier VARCHAR,
    applies_to VARCHAR,
    limit_amount DECIMAL(18,2),
    applied_amount DECIMAL(18,2),
    remaining_amount DECIMAL(18,2),
    as_of_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO accumulators__v5 SELECT * FROM accumulators;
DROP TABLE accumulators;
ALTER TABLE accumulators__v5 RENAME TO accumulators;

CREATE TABLE claims__v5 (
    scenario_id VARCHAR NOT NULL,
    claim_id VARCHAR NOT NULL,
    member_id VARCHAR,
    patient_id VARCHAR,
    encounter_id VARCHAR,
    billing_provider_id VARCHAR,
    rendering_provider_id VARCHAR,
    facility_id VARCHAR,
    claim_type VARCHAR,
    status VARCHAR,
    service_date DATE,
    service_end_date DATE,
    received_date DATE,
    paid_date DATE,
    place_of_service VARCHAR,
    bill_type VARCHAR,
    drg_code VARCHAR,
    principal_diagnosis VARCHAR,
    other_diagnoses JSON,
    total_billed DECIMAL(18,2),
    total_allowed DECIMAL(18,2),
    total_paid DECIMAL(18,2),
    total_patient_resp DECIMAL(18,2),
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO claims__v5 SELECT * FROM claims;
DROP TABLE claims;
ALTER TABLE claims__v5 RENAME TO claims;

CREATE TABLE claim_lines__v5 (
    scenario_id VARCHAR NOT NULL,
    claim_line_id VARCHAR NOT NULL,
    claim_id VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    service_date DATE,
    procedure_code VARCHAR,
    procedure_modifiers VARCHAR,
    revenue_code VARCHAR,
    ndc VARCHAR,
    diagnosis_pointer VARCHAR,
    place_of_service VARCHAR,
    units DOUBLE,
    billed_amount DECIMAL(18,2),
    allowed_amount DECIMAL(18,2),
    paid_amount DECIMAL(18,2),
    deductible_applied DECIMAL(18,2),
    copay_applied DECIMAL(18,2),
    coinsurance_applied DECIMAL(18,2),
    adjustment_reason_code VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO claim_lines__v5 SELECT * FROM claim_lines;
DROP TABLE claim_lines;
ALTER TABLE claim_lines__v5 RENAME TO claim_lines;

CREATE TABLE authorizations__v5 (
    scenario_id VARCHAR NOT NULL,
    authorization_id VARCHAR NOT NULL,
    member_id VARCHAR NOT NULL,
    requesting_provider_id VARCHAR,
    service_type VARCHAR,
    procedure_code VARCHAR,
    diagnosis_code VARCHAR,
    status VARCHAR,
    request_date DATE,
    decision_date DATE,
    start_date DATE,
    end_date DATE,
    approved_units BIGINT,
    denial_reason VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO authorizations__v5 SELECT * FROM authorizations;
DROP TABLE authorizations;
ALTER TABLE authorizations__v5 RENAME TO authorizations;

CREATE TABLE rx_members__v5 (
    scenario_id VARCHAR NOT NULL,
    rx_member_id VARCHAR NOT NULL,
    person_id VARCHAR,
    member_id VARCHAR,
    cardholder_id VARCHAR,
    person_code VARCHAR,
    given_name VARCHAR,
    middle_name VARCHAR,
    family_name VARCHAR,
    birth_date DATE,
    gender VARCHAR,
    race VARCHAR,
    ethnicity VARCHAR,
    ssn VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    county_fips VARCHAR,
    phone VARCHAR,
    email VARCHAR,
    deceased_date DATE,
    bin VARCHAR,
    pcn VARCHAR,
    rx_group VARCHAR,
    plan_code VARCHAR,
    coverage_start_date DATE,
    coverage_end_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO rx_members__v5 SELECT * FROM rx_members;
DROP TABLE rx_members;
ALTER TABLE rx_members__v5 RENAME TO rx_members;

CREATE TABLE prescriptions__v5 (
    scenario_id VARCHAR NOT NULL,
    prescription_id VARCHAR NOT NULL,
    rx_member_id VARCHAR,
    patient_id VARCHAR,
    prescriber_provider_id VARCHAR,
    pharmacy_id VARCHAR,
    rx_number VARCHAR,
    ndc VARCHAR,
    rxnorm_code VARCHAR,
    drug_name VARCHAR NOT NULL,
    strength VARCHAR,
    dosage_form VARCHAR,
    quantity DOUBLE,
    days_supply BIGINT,
    refills_authorized BIGINT,
    daw_code VARCHAR,
    written_date DATE,
    status VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO prescriptions__v5 SELECT * FROM prescriptions;
DROP TABLE prescriptions;
ALTER TABLE prescriptions__v5 RENAME TO prescriptions;

CREATE TABLE pharmacy_claims__v5 (
    scenario_id VARCHAR NOT NULL,
    pharmacy_claim_id VARCHAR NOT NULL,
    rx_member_id VARCHAR,
    prescription_id VARCHAR,
    pharmacy_id VARCHAR,
    ndc VARCHAR,
    drug_name VARCHAR,
    fill_date DATE,
    fill_number BIGINT,
    quantity_dispensed DOUBLE,
    days_supply BIGINT,
    formulary_tier VARCHAR,
    ingredient_cost DECIMAL(18,2),
    dispensing_fee DECIMAL(18,2),
    gross_amount_due DECIMAL(18,2),
    patient_pay_amount DECIMAL(18,2),
    plan_paid_amount DECIMAL(18,2),
    claim_status VARCHAR,
    reject_code VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO pharmacy_claims__v5 SELECT * FROM pharmacy_claims;
DROP TABLE pharmacy_claims;
ALTER TABLE pharmacy_claims__v5 RENAME TO pharmacy_claims;

CREATE TABLE dur_alerts__v5 (
    scenario_id VARCHAR NOT NULL,
    dur_alert_id VARCHAR NOT NULL,
    pharmacy_claim_id VARCHAR,
    prescription_id VARCHAR,
    rx_member_id VARCHAR,
    reason_code VARCHAR,
    severity VARCHAR,
    professional_service_code VARCHAR,
    result_code VARCHAR,
    conflicting_ndc VARCHAR,
    message VARCHAR,
    alert_datetime TIMESTAMP,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO dur_alerts__v5 SELECT * FROM dur_alerts;
DROP TABLE dur_alerts;
ALTER TABLE dur_alerts__v5 RENAME TO dur_alerts;

CREATE TABLE pharmacies__v5 (
    scenario_id VARCHAR NOT NULL,
    pharmacy_id VARCHAR NOT NULL,
    ncpdp_id VARCHAR,
    npi VARCHAR,
    name VARCHAR,
    pharmacy_type VARCHAR,
    chain_name VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    phone VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO pharmacies__v5 SELECT * FROM pharmacies;
DROP TABLE pharmacies;
ALTER TABLE pharmacies__v5 RENAME TO pharmacies;

CREATE TABLE studies__v5 (
    scenario_id VARCHAR NOT NULL,
    study_id VARCHAR NOT NULL,
    protocol_number VARCHAR,
    title VARCHAR,
    phase VARCHAR,
    therapeutic_area VARCHAR,
    indication VARCHAR,
    sponsor VARCHAR,
    status VARCHAR,
    start_date DATE,
    end_date DATE,
    planned_enrollment BIGINT,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO studies__v5 SELECT * FROM studies;
DROP TABLE studies;
ALTER TABLE studies__v5 RENAME TO studies;

CREATE TABLE sites__v5 (
    scenario_id VARCHAR NOT NULL,
    site_id VARCHAR NOT NULL,
    study_id VARCHAR NOT NULL,
    facility_id VARCHAR,
    investigator_provider_id VARCHAR,
    site_number VARCHAR,
    name VARCHAR,
    city VARCHAR,
    state VARCHAR,
    country VARCHAR,
    status VARCHAR,
    activation_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO sites__v5 SELECT * FROM sites;
DROP TABLE sites;
ALTER TABLE sites__v5 RENAME TO sites;

CREATE TABLE treatment_arms__v5 (
    scenario_id VARCHAR NOT NULL,
    arm_id VARCHAR NOT NULL,
    study_id VARCHAR NOT NULL,
    arm_code VARCHAR,
    name VARCHAR,
    arm_type VARCHAR,
    description VARCHAR,
    planned_size BIGINT,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO treatment_arms__v5 SELECT * FROM treatment_arms;
DROP TABLE treatment_arms;
ALTER TABLE treatment_arms__v5 RENAME TO treatment_arms;

CREATE TABLE subjects__v5 (
    scenario_id VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL,
    study_id VARCHAR NOT NULL,
    site_id VARCHAR,
    arm_id VARCHAR,
    usubjid VARCHAR,
    person_id VARCHAR,
    patient_id VARCHAR,
    given_name VARCHAR,
    middle_name VARCHAR,
    family_name VARCHAR,
    birth_date DATE,
    gender VARCHAR,
    race VARCHAR,
    ethnicity VARCHAR,
    ssn VARCHAR,
    address VARCHAR,
    city VARCHAR,
    state VARCHAR,
    postal_code VARCHAR,
    county_fips VARCHAR,
    phone VARCHAR,
    email VARCHAR,
    deceased_date DATE,
    screening_date DATE,
    enrollment_date DATE,
    randomization_date DATE,
    status VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO subjects__v5 SELECT * FROM subjects;
DROP TABLE subjects;
ALTER TABLE subjects__v5 RENAME TO subjects;

CREATE TABLE adverse_events__v5 (
    scenario_id VARCHAR NOT NULL,
    ae_id VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL,
    study_id VARCHAR,
    aeterm VARCHAR NOT NULL,
    aedecod VARCHAR,
    aebodsys VARCHAR,
    aesev VARCHAR,
    aeser VARCHAR,
    aerel VARCHAR,
    aeacn VARCHAR,
    aeout VARCHAR,
    ctcae_grade BIGINT,
    aestdtc DATE,
    aeendtc DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO adverse_events__v5 SELECT * FROM adverse_events;
DROP TABLE adverse_events;
ALTER TABLE adverse_events__v5 RENAME TO adverse_events;

CREATE TABLE visit_schedule__v5 (
    scenario_id VARCHAR NOT NULL,
    scheduled_visit_id VARCHAR NOT NULL,
    study_id VARCHAR NOT NULL,
    arm_id VARCHAR,
    visit_name VARCHAR NOT NULL,
    visit_number BIGINT,
    visit_type VARCHAR,
    planned_day BIGINT,
    window_before_days BIGINT,
    window_after_days BIGINT,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO visit_schedule__v5 SELECT * FROM visit_schedule;
DROP TABLE visit_schedule;
ALTER TABLE visit_schedule__v5 RENAME TO visit_schedule;

CREATE TABLE actual_visits__v5 (
    scenario_id VARCHAR NOT NULL,
    actual_visit_id VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL,
    scheduled_visit_id VARCHAR,
    site_id VARCHAR,
    visit_name VARCHAR,
    visit_date DATE,
    study_day BIGINT,
    status VARCHAR,
    out_of_window BOOLEAN,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO actual_visits__v5 SELECT * FROM actual_visits;
DROP TABLE actual_visits;
ALTER TABLE actual_visits__v5 RENAME TO actual_visits;

CREATE TABLE disposition_events__v5 (
    scenario_id VARCHAR NOT NULL,
    disposition_id VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL,
    dsterm VARCHAR,
    dsdecod VARCHAR,
    dscat VARCHAR,
    epoch VARCHAR,
    dsstdtc DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO disposition_events__v5 SELECT * FROM disposition_events;
DROP TABLE disposition_events;
ALTER TABLE disposition_events__v5 RENAME TO disposition_events;

CREATE TABLE geographic_entities__v5 (
    scenario_id VARCHAR NOT NULL,
    geo_id VARCHAR NOT NULL,
    geo_level VARCHAR NOT NULL,
    geo_code VARCHAR,
    name VARCHAR,
    state VARCHAR,
    parent_geo_id VARCHAR,
    population BIGINT,
    land_area_sq_mi DOUBLE,
    latitude DOUBLE,
    longitude DOUBLE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO geographic_entities__v5 SELECT * FROM geographic_entities;
DROP TABLE geographic_entities;
ALTER TABLE geographic_entities__v5 RENAME TO geographic_entities;

CREATE TABLE population_profiles__v5 (
    scenario_id VARCHAR NOT NULL,
    profile_id VARCHAR NOT NULL,
    geo_id VARCHAR,
    year BIGINT,
    total_population BIGINT,
    median_age DOUBLE,
    pct_female DOUBLE,
    pct_over_65 DOUBLE,
    pct_under_18 DOUBLE,
    median_household_income DECIMAL(18,2),
    pct_below_poverty DOUBLE,
    pct_uninsured DOUBLE,
    race_distribution JSON,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO population_profiles__v5 SELECT * FROM population_profiles;
DROP TABLE population_profiles;
ALTER TABLE population_profiles__v5 RENAME TO population_profiles;

CREATE TABLE health_indicators__v5 (
    scenario_id VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    geo_id VARCHAR,
    measure_id VARCHAR NOT NULL,
    measure_name VARCHAR,
    data_value DOUBLE,
    data_value_type VARCHAR,
    low_confidence_limit DOUBLE,
    high_confidence_limit DOUBLE,
    year BIGINT,
    source VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO health_indicators__v5 SELECT * FROM health_indicators;
DROP TABLE health_indicators;
ALTER TABLE health_indicators__v5 RENAME TO health_indicators;

CREATE TABLE sdoh_indices__v5 (
    scenario_id VARCHAR NOT NULL,
    sdoh_id VARCHAR NOT NULL,
    geo_id VARCHAR,
    index_type VARCHAR NOT NULL,
    year BIGINT,
    overall_score DOUBLE,
    percentile DOUBLE,
    theme_socioeconomic DOUBLE,
    theme_household DOUBLE,
    theme_minority DOUBLE,
    theme_housing_transport DOUBLE,
    state_decile BIGINT,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO sdoh_indices__v5 SELECT * FROM sdoh_indices;
DROP TABLE sdoh_indices;
ALTER TABLE sdoh_indices__v5 RENAME TO sdoh_indices;

CREATE TABLE cohort_specifications__v5 (
    scenario_id VARCHAR NOT NULL,
    cohort_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    description VARCHAR,
    geo_id VARCHAR,
    age_min BIGINT,
    age_max BIGINT,
    gender VARCHAR,
    condition_codes JSON,
    inclusion_criteria JSON,
    exclusion_criteria JSON,
    target_size BIGINT,
    status VARCHAR,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO cohort_specifications__v5 SELECT * FROM cohort_specifications;
DROP TABLE cohort_specifications;
ALTER TABLE cohort_specifications__v5 RENAME TO cohort_specifications;

CREATE TABLE networks__v5 (
    scenario_id VARCHAR NOT NULL,
    network_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    network_type VARCHAR,
    line_of_business VARCHAR,
    state VARCHAR,
    status VARCHAR,
    effective_date DATE,
    termination_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO networks__v5 SELECT * FROM networks;
DROP TABLE networks;
ALTER TABLE networks__v5 RENAME TO networks;

CREATE TABLE network_providers__v5 (
    scenario_id VARCHAR NOT NULL,
    network_provider_id VARCHAR NOT NULL,
    network_id VARCHAR NOT NULL,
    provider_id VARCHAR NOT NULL,
    tier VARCHAR,
    accepting_new_patients BOOLEAN,
    status VARCHAR,
    effective_date DATE,
    termination_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO network_providers__v5 SELECT * FROM network_providers;
DROP TABLE network_providers;
ALTER TABLE network_providers__v5 RENAME TO network_providers;

CREATE TABLE network_facilities__v5 (
    scenario_id VARCHAR NOT NULL,
    network_facility_id VARCHAR NOT NULL,
    network_id VARCHAR NOT NULL,
    facility_id VARCHAR NOT NULL,
    tier VARCHAR,
    status VARCHAR,
    effective_date DATE,
    termination_date DATE,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO network_facilities__v5 SELECT * FROM network_facilities;
DROP TABLE network_facilities;
ALTER TABLE network_facilities__v5 RENAME TO network_facilities;

CREATE TABLE provider_specialties__v5 (
    scenario_id VARCHAR NOT NULL,
    specialty_id VARCHAR NOT NULL,
    provider_id VARCHAR NOT NULL,
    taxonomy_code VARCHAR NOT NULL,
    specialty_name VARCHAR,
    classification VARCHAR,
    is_primary BOOLEAN,
    board_certified BOOLEAN,
    source_type VARCHAR,
    source_system VARCHAR,
    skill_used VARCHAR,
    generation_seed BIGINT,
    extra JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
INSERT INTO provider_specialties__v5 SELECT * FROM provider_specialties;
DROP TABLE provider_specialties;
ALTER TABLE provider_specialties__v5 RENAME TO provider_specialties;

CREATE TABLE scenario_namespace (
    version BIGINT NOT NULL
);
INSERT INTO scenario_namespace (version) VALUES (0);
