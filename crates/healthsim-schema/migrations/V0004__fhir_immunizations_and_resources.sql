-- V0004: two tables so a FHIR import keeps every resource it reads: immunizations (FHIR R4
-- Immunization) and fhir_resources (any other resource type, or Observation category, without a
-- table of its own, kept whole with its patient and encounter references).

CREATE TABLE immunizations (
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
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (scenario_id, immunization_id)
);

CREATE TABLE fhir_resources (
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
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (scenario_id, resource_id)
);
