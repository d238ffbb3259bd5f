-- Python HealthSim schema 1.7: ALL_DDL of packages/core/src/healthsim/db/schema.py,
-- written by make_fixtures.py (see its header). Do not edit by hand.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version         VARCHAR PRIMARY KEY,
    description     VARCHAR,
    applied_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE SEQUENCE IF NOT EXISTS cohort_entities_seq START 1;
CREATE SEQUENCE IF NOT EXISTS cohort_tags_seq START 1;
CREATE TABLE IF NOT EXISTS cohorts (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    description     VARCHAR,
    created_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata        JSON
);
CREATE TABLE IF NOT EXISTS cohort_entities (
    id              INTEGER PRIMARY KEY DEFAULT nextval('cohort_entities_seq'),
    cohort_id       VARCHAR NOT NULL REFERENCES cohorts(id),
    entity_type     VARCHAR NOT NULL,  -- 'patient', 'encounter', 'claim', etc.
    entity_id       VARCHAR NOT NULL,
    entity_data     JSON,              -- Full entity JSON for export
    created_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(cohort_id, entity_type, entity_id)
);
CREATE TABLE IF NOT EXISTS cohort_tags (
    id              INTEGER PRIMARY KEY DEFAULT nextval('cohort_tags_seq'),
    cohort_id       VARCHAR NOT NULL REFERENCES cohorts(id),
    tag             VARCHAR NOT NULL,
    UNIQUE(cohort_id, tag)
);
CREATE SEQUENCE IF NOT EXISTS profiles_seq START 1;
CREATE TABLE IF NOT EXISTS profiles (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    description     VARCHAR,
    version         INTEGER DEFAULT 1,
    profile_spec    JSON NOT NULL,          -- Full ProfileSpecification as JSON
    product         VARCHAR,                -- 'patientsim', 'membersim', etc.
    tags            JSON,                   -- Array of tags for filtering
    created_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata        JSON                    -- Additional metadata
);
CREATE TABLE IF NOT EXISTS profile_executions (
    id              INTEGER PRIMARY KEY DEFAULT nextval('profiles_seq'),
    profile_id      VARCHAR NOT NULL REFERENCES profiles(id),
    cohort_id       VARCHAR REFERENCES cohorts(id),
    executed_at     TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    seed            INTEGER,                -- Random seed used
    count           INTEGER,                -- Number of entities generated
    duration_ms     INTEGER,                -- Execution time in milliseconds
    status          VARCHAR DEFAULT 'completed',  -- 'completed', 'failed', 'partial'
    error_message   VARCHAR,                -- Error details if failed
    metadata        JSON                    -- Execution metadata (timings, etc.)
);
CREATE SEQUENCE IF NOT EXISTS journeys_seq START 1;
CREATE TABLE IF NOT EXISTS journeys (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL UNIQUE,
    description     VARCHAR,
    version         INTEGER DEFAULT 1,
    journey_spec    JSON NOT NULL,          -- Full JourneySpecification as JSON
    products        JSON,                   -- Array of products this applies to
    tags            JSON,                   -- Array of tags for filtering
    duration_days   INTEGER,                -- Journey duration
    event_count     INTEGER,                -- Number of events in journey
    created_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at      TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata        JSON                    -- Additional metadata
);
CREATE TABLE IF NOT EXISTS journey_executions (
    id              INTEGER PRIMARY KEY DEFAULT nextval('journeys_seq'),
    journey_id      VARCHAR NOT NULL REFERENCES journeys(id),
    profile_id      VARCHAR REFERENCES profiles(id),
    cohort_id       VARCHAR REFERENCES cohorts(id),
    entity_id       VARCHAR,                -- The entity (patient, member) this was executed for
    executed_at     TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    start_date      DATE,                   -- Journey start date
    end_date        DATE,                   -- Journey end date
    events_generated INTEGER,               -- Number of events generated
    duration_ms     INTEGER,                -- Execution time in milliseconds
    status          VARCHAR DEFAULT 'completed',
    error_message   VARCHAR,
    metadata        JSON
);
CREATE TABLE IF NOT EXISTS patients (
    id              VARCHAR PRIMARY KEY,
    mrn             VARCHAR NOT NULL,
    ssn             VARCHAR,
    given_name      VARCHAR NOT NULL,
    middle_name     VARCHAR,
    family_name     VARCHAR NOT NULL,
    suffix          VARCHAR,
    prefix          VARCHAR,
    birth_date      DATE NOT NULL,
    gender          VARCHAR NOT NULL,
    race            VARCHAR,
    ethnicity       VARCHAR,
    language        VARCHAR DEFAULT 'en',
    street_address  VARCHAR,
    street_address_2 VARCHAR,
    city            VARCHAR,
    state           VARCHAR,
    postal_code     VARCHAR,
    country         VARCHAR DEFAULT 'US',
    phone           VARCHAR,
    phone_mobile    VARCHAR,
    email           VARCHAR,
    deceased        BOOLEAN DEFAULT FALSE,
    death_date      DATE,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS encounters (
    encounter_id    VARCHAR PRIMARY KEY,
    patient_mrn     VARCHAR NOT NULL,
    class_code      VARCHAR NOT NULL,  -- I, O, E, U, OBS
    status          VARCHAR NOT NULL,
    admission_time  TIMESTAMP NOT NULL,
    discharge_time  TIMESTAMP,
    facility        VARCHAR,
    department      VARCHAR,
    room            VARCHAR,
    bed             VARCHAR,
    chief_complaint VARCHAR,
    admitting_diagnosis VARCHAR,
    discharge_disposition VARCHAR,
    attending_physician VARCHAR,
    admitting_physician VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS diagnoses (
    id              VARCHAR PRIMARY KEY,
    code            VARCHAR NOT NULL,
    description     VARCHAR,
    type            VARCHAR DEFAULT 'final',  -- admitting, working, final, differential
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    diagnosed_date  DATE NOT NULL,
    resolved_date   DATE,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS medications (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    code            VARCHAR,           -- RxNorm or NDC
    dose            VARCHAR NOT NULL,
    route           VARCHAR NOT NULL,
    frequency       VARCHAR NOT NULL,
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    start_date      TIMESTAMP NOT NULL,
    end_date        TIMESTAMP,
    status          VARCHAR DEFAULT 'active',
    prescriber      VARCHAR,
    indication      VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS lab_results (
    id              VARCHAR PRIMARY KEY,
    test_name       VARCHAR NOT NULL,
    loinc_code      VARCHAR,
    value           VARCHAR NOT NULL,
    unit            VARCHAR,
    reference_range VARCHAR,
    abnormal_flag   VARCHAR,  -- H, L, HH, LL, A, N
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    collected_time  TIMESTAMP NOT NULL,
    resulted_time   TIMESTAMP,
    performing_lab  VARCHAR,
    ordering_provider VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS vital_signs (
    id              VARCHAR PRIMARY KEY,
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    observation_time TIMESTAMP NOT NULL,
    temperature     DECIMAL(5,2),
    heart_rate      INTEGER,
    respiratory_rate INTEGER,
    systolic_bp     INTEGER,
    diastolic_bp    INTEGER,
    spo2            INTEGER,
    height_cm       DECIMAL(5,2),
    weight_kg       DECIMAL(6,2),
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS orders (
    order_id        VARCHAR PRIMARY KEY,
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    order_type      VARCHAR NOT NULL,  -- LAB, RAD, MEDICATION, PROCEDURE
    code            VARCHAR NOT NULL,
    code_system     VARCHAR DEFAULT 'CPT',
    description     VARCHAR,
    priority        VARCHAR DEFAULT 'routine',
    status          VARCHAR DEFAULT 'new',
    ordered_datetime TIMESTAMP NOT NULL,
    scheduled_datetime TIMESTAMP,
    collected_datetime TIMESTAMP,
    resulted_datetime TIMESTAMP,
    ordering_provider_npi VARCHAR,
    ordering_provider_name VARCHAR,
    clinical_indication VARCHAR,
    specimen_type   VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS clinical_notes (
    id              VARCHAR PRIMARY KEY,
    patient_mrn     VARCHAR NOT NULL,
    encounter_id    VARCHAR,
    note_type       VARCHAR NOT NULL,
    note_datetime   TIMESTAMP NOT NULL,
    author          VARCHAR,
    content         TEXT,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS members (
    id              VARCHAR PRIMARY KEY,
    member_id       VARCHAR NOT NULL,
    subscriber_id   VARCHAR,
    relationship_code VARCHAR DEFAULT '18',  -- 18=Self, 01=Spouse, 19=Child
    ssn             VARCHAR,
    given_name      VARCHAR NOT NULL,
    middle_name     VARCHAR,
    family_name     VARCHAR NOT NULL,
    birth_date      DATE NOT NULL,
    gender          VARCHAR NOT NULL,
    street_address  VARCHAR,
    city            VARCHAR,
    state           VARCHAR,
    postal_code     VARCHAR,
    phone           VARCHAR,
    email           VARCHAR,
    group_id        VARCHAR NOT NULL,
    plan_code       VARCHAR NOT NULL,
    coverage_start  DATE NOT NULL,
    coverage_end    DATE,
    pcp_npi         VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS claims (
    claim_id        VARCHAR PRIMARY KEY,
    claim_type      VARCHAR NOT NULL,  -- PROFESSIONAL, INSTITUTIONAL, DENTAL, RX
    member_id       VARCHAR NOT NULL,
    subscriber_id   VARCHAR,
    provider_npi    VARCHAR NOT NULL,
    facility_npi    VARCHAR,
    service_date    DATE NOT NULL,
    admission_date  DATE,
    discharge_date  DATE,
    place_of_service VARCHAR DEFAULT '11',
    principal_diagnosis VARCHAR NOT NULL,
    other_diagnoses JSON,
    authorization_number VARCHAR,
    total_charge    DECIMAL(12,2),
    total_allowed   DECIMAL(12,2),
    total_paid      DECIMAL(12,2),
    member_responsibility DECIMAL(12,2),
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS claim_lines (
    id              VARCHAR PRIMARY KEY,
    claim_id        VARCHAR NOT NULL,
    line_number     INTEGER NOT NULL,
    procedure_code  VARCHAR NOT NULL,
    procedure_modifiers JSON,
    service_date    DATE NOT NULL,
    units           DECIMAL(6,2) DEFAULT 1,
    charge_amount   DECIMAL(12,2) NOT NULL,
    allowed_amount  DECIMAL(12,2),
    paid_amount     DECIMAL(12,2),
    diagnosis_pointers JSON,
    revenue_code    VARCHAR,
    ndc_code        VARCHAR,
    place_of_service VARCHAR DEFAULT '11',
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS prescriptions (
    prescription_number VARCHAR PRIMARY KEY,
    patient_mrn     VARCHAR,           -- Link to PatientSim if available
    member_id       VARCHAR,           -- Link to RxMember
    ndc             VARCHAR NOT NULL,
    drug_name       VARCHAR NOT NULL,
    quantity_prescribed DECIMAL(10,2) NOT NULL,
    days_supply     INTEGER NOT NULL,
    refills_authorized INTEGER DEFAULT 0,
    refills_remaining INTEGER DEFAULT 0,
    prescriber_npi  VARCHAR NOT NULL,
    prescriber_name VARCHAR,
    prescriber_dea  VARCHAR,
    written_date    DATE NOT NULL,
    expiration_date DATE NOT NULL,
    daw_code        VARCHAR DEFAULT '0',
    directions      TEXT,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS pharmacy_claims (
    claim_id        VARCHAR PRIMARY KEY,
    transaction_code VARCHAR NOT NULL,  -- B1=Billing, B2=Reversal, B3=Rebill
    service_date    DATE NOT NULL,
    pharmacy_npi    VARCHAR NOT NULL,
    pharmacy_ncpdp  VARCHAR,
    member_id       VARCHAR NOT NULL,
    cardholder_id   VARCHAR NOT NULL,
    person_code     VARCHAR,
    bin             VARCHAR NOT NULL,
    pcn             VARCHAR NOT NULL,
    group_number    VARCHAR NOT NULL,
    prescription_number VARCHAR NOT NULL,
    fill_number     INTEGER DEFAULT 0,
    ndc             VARCHAR NOT NULL,
    quantity_dispensed DECIMAL(10,2) NOT NULL,
    days_supply     INTEGER NOT NULL,
    daw_code        VARCHAR,
    prescriber_npi  VARCHAR NOT NULL,
    ingredient_cost_submitted DECIMAL(12,2),
    dispensing_fee_submitted DECIMAL(12,2),
    usual_customary_charge DECIMAL(12,2),
    gross_amount_due DECIMAL(12,2),
    patient_pay_amount DECIMAL(12,2),
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS subjects (
    id              VARCHAR PRIMARY KEY,
    subject_id      VARCHAR NOT NULL,
    usubjid         VARCHAR NOT NULL,  -- STUDYID-SITEID-SUBJID
    study_id        VARCHAR NOT NULL,
    site_id         VARCHAR NOT NULL,
    patient_ref     VARCHAR,           -- Reference to PatientSim MRN
    ssn             VARCHAR,
    given_name      VARCHAR NOT NULL,
    family_name     VARCHAR NOT NULL,
    birth_date      DATE NOT NULL,
    gender          VARCHAR NOT NULL,
    race            VARCHAR,
    ethnicity       VARCHAR,
    screening_id    VARCHAR,
    screening_date  DATE,
    informed_consent_date DATE NOT NULL,
    randomization_date DATE,
    treatment_arm   VARCHAR,
    status          VARCHAR NOT NULL,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS trial_visits (
    id              VARCHAR PRIMARY KEY,
    usubjid         VARCHAR NOT NULL,
    visit_num       DECIMAL(5,1) NOT NULL,
    visit_name      VARCHAR,
    visit_date      DATE NOT NULL,
    study_day       INTEGER,
    visit_status    VARCHAR,
    window_deviation_days INTEGER DEFAULT 0,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS adverse_events (
    id              VARCHAR PRIMARY KEY,
    usubjid         VARCHAR NOT NULL,
    aeseq           INTEGER,
    aeterm          VARCHAR NOT NULL,
    aedecod         VARCHAR,           -- MedDRA Preferred Term
    aebodsys        VARCHAR,           -- MedDRA System Organ Class
    aestdtc         DATE NOT NULL,
    aeendtc         DATE,
    aesev           VARCHAR,           -- Mild, Moderate, Severe
    aetoxgr         VARCHAR,           -- CTCAE grade 1-5
    aeser           VARCHAR,           -- Y/N
    aerel           VARCHAR,           -- Relationship to treatment
    aeacn           VARCHAR,           -- Action taken
    aeout           VARCHAR,           -- Outcome
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
CREATE TABLE IF NOT EXISTS exposures (
    id              VARCHAR PRIMARY KEY,
    usubjid         VARCHAR NOT NULL,
    exseq           INTEGER,
    extrt           VARCHAR NOT NULL,
    exdose          DECIMAL(12,4),
    exdosu          VARCHAR,
    exdosfrq        VARCHAR,
    exroute         VARCHAR,
    exstdtc         DATE NOT NULL,
    exendtc         DATE,
    exadj           VARCHAR,
    dose_modification VARCHAR,
    
    cohort_id           VARCHAR,   -- Links to cohorts table for auto-persist
    created_at          TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    source_type         VARCHAR,   -- 'generated', 'loaded', 'derived'
    source_system       VARCHAR,   -- 'patientsim', 'membersim', etc.
    skill_used          VARCHAR,   -- 'diabetes-management', etc.
    generation_seed     INTEGER

);
-- Patient lookups
CREATE INDEX IF NOT EXISTS idx_patients_ssn ON patients(ssn);
CREATE INDEX IF NOT EXISTS idx_patients_mrn ON patients(mrn);
CREATE INDEX IF NOT EXISTS idx_patients_cohort ON patients(cohort_id);

-- Encounter lookups
CREATE INDEX IF NOT EXISTS idx_encounters_patient ON encounters(patient_mrn);
CREATE INDEX IF NOT EXISTS idx_encounters_admission ON encounters(admission_time);
CREATE INDEX IF NOT EXISTS idx_encounters_cohort ON encounters(cohort_id);

-- Diagnosis lookups
CREATE INDEX IF NOT EXISTS idx_diagnoses_patient ON diagnoses(patient_mrn);
CREATE INDEX IF NOT EXISTS idx_diagnoses_code ON diagnoses(code);
CREATE INDEX IF NOT EXISTS idx_diagnoses_cohort ON diagnoses(cohort_id);

-- Medication lookups
CREATE INDEX IF NOT EXISTS idx_medications_patient ON medications(patient_mrn);
CREATE INDEX IF NOT EXISTS idx_medications_cohort ON medications(cohort_id);

-- Lab results lookups
CREATE INDEX IF NOT EXISTS idx_lab_results_patient ON lab_results(patient_mrn);
CREATE INDEX IF NOT EXISTS idx_lab_results_loinc ON lab_results(loinc_code);
CREATE INDEX IF NOT EXISTS idx_lab_results_cohort ON lab_results(cohort_id);

-- Member lookups
CREATE INDEX IF NOT EXISTS idx_members_ssn ON members(ssn);
CREATE INDEX IF NOT EXISTS idx_members_subscriber ON members(subscriber_id);
CREATE INDEX IF NOT EXISTS idx_members_cohort ON members(cohort_id);

-- Claim lookups
CREATE INDEX IF NOT EXISTS idx_claims_member ON claims(member_id);
CREATE INDEX IF NOT EXISTS idx_claims_service_date ON claims(service_date);
CREATE INDEX IF NOT EXISTS idx_claims_cohort ON claims(cohort_id);
CREATE INDEX IF NOT EXISTS idx_claim_lines_claim ON claim_lines(claim_id);
CREATE INDEX IF NOT EXISTS idx_claim_lines_cohort ON claim_lines(cohort_id);

-- Pharmacy claim lookups
CREATE INDEX IF NOT EXISTS idx_pharmacy_claims_member ON pharmacy_claims(member_id);
CREATE INDEX IF NOT EXISTS idx_pharmacy_claims_ndc ON pharmacy_claims(ndc);
CREATE INDEX IF NOT EXISTS idx_pharmacy_claims_cohort ON pharmacy_claims(cohort_id);

-- Prescription lookups
CREATE INDEX IF NOT EXISTS idx_prescriptions_patient ON prescriptions(patient_mrn);
CREATE INDEX IF NOT EXISTS idx_prescriptions_member ON prescriptions(member_id);
CREATE INDEX IF NOT EXISTS idx_prescriptions_cohort ON prescriptions(cohort_id);

-- Subject lookups
CREATE INDEX IF NOT EXISTS idx_subjects_study ON subjects(study_id);
CREATE INDEX IF NOT EXISTS idx_subjects_site ON subjects(site_id);
CREATE INDEX IF NOT EXISTS idx_subjects_ssn ON subjects(ssn);
CREATE INDEX IF NOT EXISTS idx_subjects_cohort ON subjects(cohort_id);

-- Trial visit lookups
CREATE INDEX IF NOT EXISTS idx_trial_visits_subject ON trial_visits(usubjid);
CREATE INDEX IF NOT EXISTS idx_trial_visits_cohort ON trial_visits(cohort_id);

-- Adverse event lookups
CREATE INDEX IF NOT EXISTS idx_adverse_events_subject ON adverse_events(usubjid);
CREATE INDEX IF NOT EXISTS idx_adverse_events_cohort ON adverse_events(cohort_id);

-- Exposure lookups
CREATE INDEX IF NOT EXISTS idx_exposures_cohort ON exposures(cohort_id);

-- Cohort entity lookups
CREATE INDEX IF NOT EXISTS idx_cohort_entities_cohort ON cohort_entities(cohort_id);
CREATE INDEX IF NOT EXISTS idx_cohort_entities_type ON cohort_entities(entity_type);
CREATE INDEX IF NOT EXISTS idx_cohort_tags_cohort ON cohort_tags(cohort_id);
CREATE INDEX IF NOT EXISTS idx_cohort_tags_tag ON cohort_tags(tag);
INSERT INTO schema_migrations (version, description) VALUES ('1.7', 'fixture: initial schema');
INSERT INTO cohorts (id, name, description, created_at, updated_at, metadata) VALUES ('S-DIAB', 'Diabetes Cohort Phoenix', 'Type 2 diabetes patients seen in Phoenix clinics', '2024-01-01 12:00:00', '2024-01-02 12:00:00', '{"fixture": true, "product": "healthsim"}');
INSERT INTO cohort_tags (cohort_id, tag) VALUES ('S-DIAB', 'diabetes');
INSERT INTO cohort_tags (cohort_id, tag) VALUES ('S-DIAB', 'Arizona');
INSERT INTO patients (id, mrn, ssn, given_name, middle_name, family_name, birth_date, gender, race, ethnicity, language, street_address, city, state, postal_code, phone, deceased, cohort_id, source_type, source_system) VALUES ('p-001', 'MRN001', '123456789', 'Ana', 'L', 'Diaz', '1950-06-01', 'F', 'White', 'Hispanic', 'es', '12 Palm St', 'Phoenix', 'AZ', '85001', '602-555-0101', FALSE, 'S-DIAB', 'generated', 'patientsim');
INSERT INTO patients (id, mrn, given_name, family_name, birth_date, gender, street_address, street_address_2, city, state, postal_code, deceased, death_date, cohort_id, source_type, source_system) VALUES ('p-002', 'MRN002', 'Ben', 'Okafor', '1962-11-30', 'M', '4 Elm Ave', 'Apt 2', 'Tempe', 'AZ', '85281', TRUE, '2023-02-14', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO patients (id, mrn, given_name, family_name, birth_date, gender, city, state, cohort_id, source_type, source_system) VALUES ('p-003', 'MRN003', 'Chloe', 'Ng', '1988-03-09', 'F', 'Mesa', 'AZ', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO encounters (encounter_id, patient_mrn, class_code, status, admission_time, discharge_time, facility, chief_complaint, attending_physician, cohort_id, source_type, source_system) VALUES ('e-001', 'MRN001', 'O', 'finished', '2024-01-10 09:00:00', '2024-01-10 09:40:00', 'Phoenix Family Clinic', 'follow-up', 'DR-7', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO encounters (encounter_id, patient_mrn, class_code, status, admission_time, discharge_time, discharge_disposition, room, cohort_id, source_type, source_system) VALUES ('e-002', 'MRN001', 'I', 'finished', '2024-03-02 22:15:00', '2024-03-05 11:00:00', 'home', '412', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO encounters (encounter_id, patient_mrn, class_code, status, admission_time, cohort_id, source_type, source_system) VALUES ('e-003', 'MRN002', 'E', 'finished', '2023-02-13 03:30:00', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO diagnoses (id, code, description, type, patient_mrn, encounter_id, diagnosed_date, cohort_id, source_type, source_system) VALUES ('d-001', 'E11.9', 'Type 2 diabetes mellitus', 'final', 'MRN001', 'e-001', '2019-05-01', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO diagnoses (id, code, description, type, patient_mrn, encounter_id, diagnosed_date, resolved_date, cohort_id, source_type, source_system) VALUES ('d-002', 'I10', 'Essential hypertension', 'working', 'MRN002', 'e-003', '2023-02-13', '2023-06-01', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO medications (id, name, code, dose, route, frequency, patient_mrn, encounter_id, start_date, status, prescriber, cohort_id, source_type, source_system) VALUES ('rx-m-001', 'Metformin', '860975', '500 mg', 'PO', 'BID', 'MRN001', 'e-001', '2024-01-10 10:00:00', 'active', 'DR-7', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO lab_results (id, test_name, loinc_code, value, unit, reference_range, abnormal_flag, patient_mrn, encounter_id, collected_time, cohort_id, source_type, source_system) VALUES ('l-001', 'Hemoglobin A1c', '4548-4', '7.2', '%', '4.0-5.6', 'H', 'MRN001', 'e-001', '2024-01-10 09:10:00', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO lab_results (id, test_name, loinc_code, value, patient_mrn, collected_time, cohort_id, source_type, source_system) VALUES ('l-002', 'Urine ketones', '2514-8', 'negative', 'MRN002', '2023-02-13 04:00:00', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO vital_signs (id, patient_mrn, encounter_id, observation_time, temperature, heart_rate, respiratory_rate, systolic_bp, diastolic_bp, spo2, height_cm, weight_kg, cohort_id, source_type, source_system) VALUES ('v-001', 'MRN001', 'e-001', '2024-01-10 09:05:00', 98.6, 72, 14, 138, 86, 97, 162.5, 81.2, 'S-DIAB', 'generated', 'patientsim');
INSERT INTO orders (order_id, patient_mrn, encounter_id, order_type, code, description, ordered_datetime, cohort_id, source_type, source_system) VALUES ('o-001', 'MRN001', 'e-001', 'LAB', '83036', 'HbA1c', '2024-01-10 09:02:00', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO clinical_notes (id, patient_mrn, encounter_id, note_type, note_datetime, content, cohort_id, source_type, source_system) VALUES ('n-001', 'MRN001', 'e-001', 'progress', '2024-01-10 09:45:00', 'Stable; continue metformin.', 'S-DIAB', 'generated', 'patientsim');
INSERT INTO cohort_entities (cohort_id, entity_type, entity_id, entity_data) VALUES ('S-DIAB', 'patient', 'p-001', '{"birth_date": "1950-06-01", "gender": "F", "id": "p-001", "mrn": "MRN001", "name": {"family_name": "Diaz", "given_name": "Ana"}}');
INSERT INTO cohort_entities (cohort_id, entity_type, entity_id, entity_data) VALUES ('S-DIAB', 'patient', 'p-004', '{"address": {"city": "Scottsdale", "country": "US", "postal_code": "85251", "state": "AZ", "street_address": "77 Saguaro Rd"}, "birth_date": "1979-12-24", "contact": {"email": "dev@example.com", "phone": "480-555-0144"}, "gender": "M", "id": "p-004", "mrn": "MRN004", "name": {"family_name": "Patel", "given_name": "Dev", "middle_name": "R", "suffix": "Jr"}}');
INSERT INTO cohort_entities (cohort_id, entity_type, entity_id, entity_data) VALUES ('S-DIAB', 'pcp_assignment', 'pcp-1', '{"id": "pcp-1", "patient_mrn": "MRN001", "provider_npi": "1234567893"}');
INSERT INTO cohorts (id, name, description, created_at, updated_at, metadata) VALUES ('S-MEMB', 'medicare-members', 'Medicare Advantage members with claims and pharmacy fills', '2024-02-01 12:00:00', '2024-02-02 12:00:00', '{"fixture": true, "product": "healthsim"}');
INSERT INTO cohort_tags (cohort_id, tag) VALUES ('S-MEMB', 'claims');
INSERT INTO members (id, member_id, subscriber_id, relationship_code, given_name, family_name, birth_date, gender, city, state, group_id, plan_code, coverage_start, cohort_id, source_type, source_system) VALUES ('mb-1', 'MEM001', 'SUB001', '18', 'Dora', 'Quinn', '1948-02-02', 'F', 'Tucson', 'AZ', 'GRP-9', 'MA-PPO', '2024-01-01', 'S-MEMB', 'generated', 'patientsim');
INSERT INTO members (id, member_id, subscriber_id, given_name, family_name, birth_date, gender, group_id, plan_code, coverage_start, coverage_end, cohort_id, source_type, source_system) VALUES ('mb-2', 'MEM002', 'SUB002', 'Eli', 'Ross', '1951-07-19', 'M', 'GRP-9', 'MA-HMO', '2024-01-01', '2024-12-31', 'S-MEMB', 'generated', 'patientsim');
INSERT INTO claims (claim_id, claim_type, member_id, provider_npi, service_date, principal_diagnosis, other_diagnoses, total_charge, total_allowed, total_paid, member_responsibility, cohort_id, source_type, source_system) VALUES ('c-001', 'PROFESSIONAL', 'MEM001', '1234567893', '2024-02-01', 'E11.9', '["I10"]', 250.0, 180.0, 150.0, 30.0, 'S-MEMB', 'generated', 'patientsim');
INSERT INTO claims (claim_id, claim_type, member_id, provider_npi, facility_npi, service_date, admission_date, discharge_date, place_of_service, principal_diagnosis, total_charge, cohort_id, source_type, source_system) VALUES ('c-002', 'INSTITUTIONAL', 'MEM002', '1234567893', '1987654320', '2024-03-02', '2024-03-02', '2024-03-05', '21', 'I10', 12000.5, 'S-MEMB', 'generated', 'patientsim');
INSERT INTO claim_lines (id, claim_id, line_number, procedure_code, procedure_modifiers, service_date, units, charge_amount, allowed_amount, paid_amount, diagnosis_pointers, cohort_id, source_type, source_system) VALUES ('cl-001', 'c-001', 1, '99214', '["25"]', '2024-02-01', 1, 200.0, 150.0, 125.0, '[1, 2]', 'S-MEMB', 'generated', 'patientsim');
INSERT INTO claim_lines (id, claim_id, line_number, procedure_code, service_date, units, charge_amount, cohort_id, source_type, source_system) VALUES ('cl-002', 'c-001', 2, '83036', '2024-02-01', 1, 50.0, 'S-MEMB', 'generated', 'patientsim');
INSERT INTO claim_lines (id, claim_id, line_number, procedure_code, revenue_code, service_date, units, charge_amount, cohort_id, source_type, source_system) VALUES ('cl-003', 'c-002', 1, '0120', '0120', '2024-03-02', 3, 12000.5, 'S-MEMB', 'generated', 'patientsim');
INSERT INTO prescriptions (prescription_number, member_id, ndc, drug_name, quantity_prescribed, days_supply, refills_authorized, refills_remaining, prescriber_npi, written_date, expiration_date, daw_code, directions, cohort_id, source_type, source_system) VALUES ('RX-1001', 'MEM001', '00093-1048-01', 'Lisinopril 10 mg', 30, 30, 5, 4, '1234567893', '2024-02-01', '2025-02-01', '0', 'Take one tablet daily', 'S-MEMB', 'generated', 'patientsim');
INSERT INTO pharmacy_claims (claim_id, transaction_code, service_date, pharmacy_npi, member_id, cardholder_id, bin, pcn, group_number, prescription_number, fill_number, ndc, quantity_dispensed, days_supply, prescriber_npi, ingredient_cost_submitted, dispensing_fee_submitted, patient_pay_amount, cohort_id, source_type, source_system) VALUES ('pc-001', 'B1', '2024-02-02', '1112223339', 'MEM001', 'MEM001', '610014', 'MEDDPRIME', 'GRP-9', 'RX-1001', 0, '00093-1048-01', 30, 30, '1234567893', 4.12, 1.75, 2.0, 'S-MEMB', 'generated', 'patientsim');
INSERT INTO cohorts (id, name, description, created_at, updated_at, metadata) VALUES ('S-ONCO', 'Oncology Trial 2024', NULL, '2024-03-01 12:00:00', '2024-03-02 12:00:00', '{"fixture": true, "product": "healthsim"}');
INSERT INTO subjects (id, subject_id, usubjid, study_id, site_id, given_name, family_name, birth_date, gender, informed_consent_date, randomization_date, treatment_arm, status, cohort_id, source_type, source_system) VALUES ('sub-1', '001', 'ONC-301-01-001', 'ONC-301', '01', 'Fay', 'Kim', '1970-04-04', 'F', '2024-01-05', '2024-01-12', 'A', 'enrolled', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO subjects (id, subject_id, usubjid, study_id, site_id, given_name, family_name, birth_date, gender, informed_consent_date, status, cohort_id, source_type, source_system) VALUES ('sub-2', '002', 'ONC-301-01-002', 'ONC-301', '01', 'Gus', 'Lee', '1965-09-21', 'M', '2024-01-06', 'screen_failed', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO adverse_events (id, usubjid, aeseq, aeterm, aedecod, aebodsys, aestdtc, aesev, aetoxgr, aeser, cohort_id, source_type, source_system) VALUES ('ae-1', 'ONC-301-01-001', 1, 'Nausea', 'Nausea', 'Gastrointestinal disorders', '2024-02-01', 'MILD', '1', 'N', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO adverse_events (id, usubjid, aeseq, aeterm, aestdtc, aeendtc, aetoxgr, aeser, cohort_id, source_type, source_system) VALUES ('ae-2', 'ONC-301-01-001', 2, 'Fatigue', '2024-02-10', '2024-02-20', '2', 'N', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO trial_visits (id, usubjid, visit_num, visit_name, visit_date, study_day, visit_status, cohort_id, source_type, source_system) VALUES ('tv-1', 'ONC-301-01-001', 1.0, 'Screening', '2024-01-05', -7, 'completed', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO trial_visits (id, usubjid, visit_num, visit_name, visit_date, study_day, visit_status, cohort_id, source_type, source_system) VALUES ('tv-2', 'ONC-301-01-001', 2.0, 'Cycle 1 Day 1', '2024-01-12', 1, 'completed', 'S-ONCO', 'generated', 'patientsim');
INSERT INTO exposures (id, usubjid, exseq, extrt, exdose, exdosu, exstdtc, cohort_id, source_type, source_system) VALUES ('ex-1', 'ONC-301-01-001', 1, 'ONC-301 study drug', 200.0, 'mg', '2024-01-12', 'S-ONCO', 'generated', 'patientsim');
