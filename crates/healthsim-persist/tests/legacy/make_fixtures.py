#!/usr/bin/env python3
"""Writes the legacy fixtures of tests/legacy.rs from the Python HealthSim's own schema.

The Python HealthSim (github.com/mark64oswald/healthsim-workspace) keeps its schema as DDL
strings in packages/core/src/healthsim/db/schema.py. This script reads that file from a git
copy of the repository at two pinned commits, one per schema era, runs it with a stand-in
`duckdb` module (plain python3, nothing to install) and takes its `ALL_DDL` list, its
`SCHEMA_VERSION` and its state table names. It then writes, per era, one SQL file: that DDL
verbatim, the version row, and a small data set (three scenarios/cohorts with entities of
several types, tags, references by MRN, member id, claim id, USUBJID and prescription number,
rows in tables we have no type for, and entities kept only as JSON in the state table).
The Rust tests build DuckDB files from these SQL files with our own DuckDB at test time, so
no DuckDB file format is committed.

It also writes two JSON files in the Python shapes: an exported scenario (name, description,
tags, entities by type) and a saved workspace (metadata + entities wrapped with provenance).

Regenerate (from the repository root):

    python3 crates/healthsim-persist/tests/legacy/make_fixtures.py [GIT_DIR]

GIT_DIR defaults to /work/.mirror/mark64oswald+healthsim-workspace/repo (any clone works).
Pinned commits:
    v1.2 (scenarios era): 1bd52ec  "[Auto-Persist] Phase 1.1 complete - Service modules ..."
    v1.7 (cohorts era):   a76bd35  "Pre-UAT audit fixes: migration 1.5 bug ..." (the last
                                   commit that changed schema.py)
"""

import json
import re
import subprocess
import sys
import types
from pathlib import Path

SCHEMA_PATH = "packages/core/src/healthsim/db/schema.py"
ERAS = {"v1_2": "1bd52ec", "v1_7": "a76bd35"}
OUT = Path(__file__).resolve().parent


def python_schema(git_dir, commit):
    """The schema module of `commit`, executed with a stand-in duckdb module."""
    source = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{commit}:{SCHEMA_PATH}"],
        check=True, capture_output=True, text=True,
    ).stdout
    stub = types.ModuleType("duckdb")
    stub.DuckDBPyConnection = object
    sys.modules["duckdb"] = stub
    module = types.ModuleType(f"schema_{commit}")
    exec(compile(source, f"{commit}:{SCHEMA_PATH}", "exec"), module.__dict__)
    return module


def literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    return "'" + str(value).replace("'", "''") + "'"


def insert(table, row):
    columns = ", ".join(row)
    values = ", ".join(literal(v) for v in row.values())
    return f"INSERT INTO {table} ({columns}) VALUES ({values});"


# ---------------------------------------------------------------------------------------------
# The data set: the same in both eras, written into each era's tables.
# ---------------------------------------------------------------------------------------------

SCENARIOS = [
    {
        "key": "S-DIAB",
        "name": "Diabetes Cohort Phoenix",
        "description": "Type 2 diabetes patients seen in Phoenix clinics",
        "tags": ["diabetes", "Arizona"],
    },
    {
        "key": "S-MEMB",
        "name": "medicare-members",
        "description": "Medicare Advantage members with claims and pharmacy fills",
        "tags": ["claims"],
    },
    {
        "key": "S-ONCO",
        "name": "Oncology Trial 2024",
        "description": None,
        "tags": [],
    },
]

PATIENTS = [
    dict(id="p-001", mrn="MRN001", ssn="123456789", given_name="Ana", middle_name="L",
         family_name="Diaz", birth_date="1950-06-01", gender="F", race="White",
         ethnicity="Hispanic", language="es", street_address="12 Palm St", city="Phoenix",
         state="AZ", postal_code="85001", phone="602-555-0101", deceased=False),
    dict(id="p-002", mrn="MRN002", given_name="Ben", family_name="Okafor",
         birth_date="1962-11-30", gender="M", street_address="4 Elm Ave",
         street_address_2="Apt 2", city="Tempe", state="AZ", postal_code="85281",
         deceased=True, death_date="2023-02-14"),
    dict(id="p-003", mrn="MRN003", given_name="Chloe", family_name="Ng",
         birth_date="1988-03-09", gender="F", city="Mesa", state="AZ"),
]
ENCOUNTERS = [
    dict(encounter_id="e-001", patient_mrn="MRN001", class_code="O", status="finished",
         admission_time="2024-01-10 09:00:00", discharge_time="2024-01-10 09:40:00",
         facility="Phoenix Family Clinic", chief_complaint="follow-up",
         attending_physician="DR-7"),
    dict(encounter_id="e-002", patient_mrn="MRN001", class_code="I", status="finished",
         admission_time="2024-03-02 22:15:00", discharge_time="2024-03-05 11:00:00",
         discharge_disposition="home", room="412"),
    dict(encounter_id="e-003", patient_mrn="MRN002", class_code="E", status="finished",
         admission_time="2023-02-13 03:30:00"),
]
DIAGNOSES = [
    dict(id="d-001", code="E11.9", description="Type 2 diabetes mellitus", type="final",
         patient_mrn="MRN001", encounter_id="e-001", diagnosed_date="2019-05-01"),
    dict(id="d-002", code="I10", description="Essential hypertension", type="working",
         patient_mrn="MRN002", encounter_id="e-003", diagnosed_date="2023-02-13",
         resolved_date="2023-06-01"),
]
MEDICATIONS = [
    dict(id="rx-m-001", name="Metformin", code="860975", dose="500 mg", route="PO",
         frequency="BID", patient_mrn="MRN001", encounter_id="e-001",
         start_date="2024-01-10 10:00:00", status="active", prescriber="DR-7"),
]
LAB_RESULTS = [
    dict(id="l-001", test_name="Hemoglobin A1c", loinc_code="4548-4", value="7.2", unit="%",
         reference_range="4.0-5.6", abnormal_flag="H", patient_mrn="MRN001",
         encounter_id="e-001", collected_time="2024-01-10 09:10:00"),
    dict(id="l-002", test_name="Urine ketones", loinc_code="2514-8", value="negative",
         patient_mrn="MRN002", collected_time="2023-02-13 04:00:00"),
]
VITAL_SIGNS = [
    dict(id="v-001", patient_mrn="MRN001", encounter_id="e-001",
         observation_time="2024-01-10 09:05:00", temperature=98.6, heart_rate=72,
         respiratory_rate=14, systolic_bp=138, diastolic_bp=86, spo2=97, height_cm=162.5,
         weight_kg=81.2),
]
ORDERS = [
    dict(order_id="o-001", patient_mrn="MRN001", encounter_id="e-001", order_type="LAB",
         code="83036", description="HbA1c", ordered_datetime="2024-01-10 09:02:00"),
]
CLINICAL_NOTES = [
    dict(id="n-001", patient_mrn="MRN001", encounter_id="e-001", note_type="progress",
         note_datetime="2024-01-10 09:45:00", content="Stable; continue metformin."),
]
MEMBERS = [
    dict(id="mb-1", member_id="MEM001", subscriber_id="SUB001", relationship_code="18",
         given_name="Dora", family_name="Quinn", birth_date="1948-02-02", gender="F",
         city="Tucson", state="AZ", group_id="GRP-9", plan_code="MA-PPO",
         coverage_start="2024-01-01"),
    dict(id="mb-2", member_id="MEM002", subscriber_id="SUB002", given_name="Eli",
         family_name="Ross", birth_date="1951-07-19", gender="M", group_id="GRP-9",
         plan_code="MA-HMO", coverage_start="2024-01-01", coverage_end="2024-12-31"),
]
CLAIMS = [
    dict(claim_id="c-001", claim_type="PROFESSIONAL", member_id="MEM001",
         provider_npi="1234567893", service_date="2024-02-01", principal_diagnosis="E11.9",
         other_diagnoses=["I10"], total_charge=250.0, total_allowed=180.0, total_paid=150.0,
         member_responsibility=30.0),
    dict(claim_id="c-002", claim_type="INSTITUTIONAL", member_id="MEM002",
         provider_npi="1234567893", facility_npi="1987654320", service_date="2024-03-02",
         admission_date="2024-03-02", discharge_date="2024-03-05", place_of_service="21",
         principal_diagnosis="I10", total_charge=12000.5),
]
CLAIM_LINES = [
    dict(id="cl-001", claim_id="c-001", line_number=1, procedure_code="99214",
         procedure_modifiers=["25"], service_date="2024-02-01", units=1, charge_amount=200.0,
         allowed_amount=150.0, paid_amount=125.0, diagnosis_pointers=[1, 2]),
    dict(id="cl-002", claim_id="c-001", line_number=2, procedure_code="83036",
         service_date="2024-02-01", units=1, charge_amount=50.0),
    dict(id="cl-003", claim_id="c-002", line_number=1, procedure_code="0120",
         revenue_code="0120", service_date="2024-03-02", units=3, charge_amount=12000.5),
]
PRESCRIPTIONS = [
    dict(prescription_number="RX-1001", member_id="MEM001", ndc="00093-1048-01",
         drug_name="Lisinopril 10 mg", quantity_prescribed=30, days_supply=30,
         refills_authorized=5, refills_remaining=4, prescriber_npi="1234567893",
         written_date="2024-02-01", expiration_date="2025-02-01", daw_code="0",
         directions="Take one tablet daily"),
]
PHARMACY_CLAIMS = [
    dict(claim_id="pc-001", transaction_code="B1", service_date="2024-02-02",
         pharmacy_npi="1112223339", member_id="MEM001", cardholder_id="MEM001",
         bin="610014", pcn="MEDDPRIME", group_number="GRP-9", prescription_number="RX-1001",
         fill_number=0, ndc="00093-1048-01", quantity_dispensed=30, days_supply=30,
         prescriber_npi="1234567893", ingredient_cost_submitted=4.12,
         dispensing_fee_submitted=1.75, patient_pay_amount=2.0),
]
SUBJECTS = [
    dict(id="sub-1", subject_id="001", usubjid="ONC-301-01-001", study_id="ONC-301",
         site_id="01", given_name="Fay", family_name="Kim", birth_date="1970-04-04",
         gender="F", informed_consent_date="2024-01-05", randomization_date="2024-01-12",
         treatment_arm="A", status="enrolled"),
    dict(id="sub-2", subject_id="002", usubjid="ONC-301-01-002", study_id="ONC-301",
         site_id="01", given_name="Gus", family_name="Lee", birth_date="1965-09-21",
         gender="M", informed_consent_date="2024-01-06", status="screen_failed"),
]
ADVERSE_EVENTS = [
    dict(id="ae-1", usubjid="ONC-301-01-001", aeseq=1, aeterm="Nausea", aedecod="Nausea",
         aebodsys="Gastrointestinal disorders", aestdtc="2024-02-01", aesev="MILD",
         aetoxgr="1", aeser="N"),
    dict(id="ae-2", usubjid="ONC-301-01-001", aeseq=2, aeterm="Fatigue",
         aestdtc="2024-02-10", aeendtc="2024-02-20", aetoxgr="2", aeser="N"),
]
TRIAL_VISITS = [
    dict(id="tv-1", usubjid="ONC-301-01-001", visit_num=1.0, visit_name="Screening",
         visit_date="2024-01-05", study_day=-7, visit_status="completed"),
    dict(id="tv-2", usubjid="ONC-301-01-001", visit_num=2.0, visit_name="Cycle 1 Day 1",
         visit_date="2024-01-12", study_day=1, visit_status="completed"),
]
EXPOSURES = [
    dict(id="ex-1", usubjid="ONC-301-01-001", exseq=1, extrt="ONC-301 study drug",
         exdose=200.0, exdosu="mg", exstdtc="2024-01-12"),
]

CANONICAL = {
    "S-DIAB": [("patients", PATIENTS), ("encounters", ENCOUNTERS), ("diagnoses", DIAGNOSES),
               ("medications", MEDICATIONS), ("lab_results", LAB_RESULTS),
               ("vital_signs", VITAL_SIGNS), ("orders", ORDERS),
               ("clinical_notes", CLINICAL_NOTES)],
    "S-MEMB": [("members", MEMBERS), ("claims", CLAIMS), ("claim_lines", CLAIM_LINES),
               ("prescriptions", PRESCRIPTIONS), ("pharmacy_claims", PHARMACY_CLAIMS)],
    "S-ONCO": [("subjects", SUBJECTS), ("adverse_events", ADVERSE_EVENTS),
               ("trial_visits", TRIAL_VISITS), ("exposures", EXPOSURES)],
}

# Entities the state table holds as JSON (what save_cohort keeps for the round trip): the
# first patient again (also in the canonical table: one entity, not two), a patient whose
# canonical insert did not happen (JSON only, in the model's nested shape), and a type the
# Python code never had a table for.
STATE_JSON = {
    "S-DIAB": [
        ("patient", "p-001", {"id": "p-001", "mrn": "MRN001",
                               "name": {"given_name": "Ana", "family_name": "Diaz"},
                               "birth_date": "1950-06-01", "gender": "F"}),
        ("patient", "p-004", {"id": "p-004", "mrn": "MRN004",
                               "name": {"given_name": "Dev", "middle_name": "R",
                                        "family_name": "Patel", "suffix": "Jr"},
                               "birth_date": "1979-12-24", "gender": "M",
                               "address": {"street_address": "77 Saguaro Rd",
                                           "city": "Scottsdale", "state": "AZ",
                                           "postal_code": "85251", "country": "US"},
                               "contact": {"phone": "480-555-0144",
                                           "email": "dev@example.com"}}),
        ("pcp_assignment", "pcp-1", {"id": "pcp-1", "patient_mrn": "MRN001",
                                     "provider_npi": "1234567893"}),
    ],
}


def era_sql(schema):
    provenance = schema.PROVENANCE_COLUMNS
    link = "cohort_id" if re.search(r"^\s*cohort_id\b", provenance, re.M) else "scenario_id"
    state, state_entities, state_tags = schema.get_state_tables()
    state_ddl = next(d for d in schema.ALL_DDL if f"CREATE TABLE IF NOT EXISTS {state} (" in d)
    state_key = re.search(r"\(\s*(\w+)\s+VARCHAR PRIMARY KEY", state_ddl).group(1)
    lines = [
        f"-- Python HealthSim schema {schema.SCHEMA_VERSION}: ALL_DDL of {SCHEMA_PATH},",
        "-- written by make_fixtures.py (see its header). Do not edit by hand.",
    ]
    lines += [ddl.strip() for ddl in schema.ALL_DDL]
    lines.append(insert("schema_migrations", {"version": schema.SCHEMA_VERSION,
                                              "description": "fixture: initial schema"}))
    for n, s in enumerate(SCENARIOS):
        metadata = {"product": "healthsim", "fixture": True}
        lines.append(insert(state, {state_key: s["key"], "name": s["name"],
                                    "description": s["description"],
                                    "created_at": f"2024-0{n + 1}-01 12:00:00",
                                    "updated_at": f"2024-0{n + 1}-02 12:00:00",
                                    "metadata": metadata}))
        for tag in s["tags"]:
            lines.append(insert(state_tags, {link: s["key"], "tag": tag}))
        for table, rows in CANONICAL[s["key"]]:
            for row in rows:
                lines.append(insert(table, {**row, link: s["key"],
                                            "source_type": "generated",
                                            "source_system": "patientsim"}))
        for entity_type, entity_id, data in STATE_JSON.get(s["key"], []):
            lines.append(insert(state_entities, {link: s["key"], "entity_type": entity_type,
                                                 "entity_id": entity_id, "entity_data": data}))
    return "\n".join(lines) + "\n"


def json_files():
    exported = {
        "name": "Heart Failure Readmissions",
        "description": "Exported from the Python HealthSim",
        "tags": ["cardiology", "readmissions"],
        "created_at": "2024-05-01T10:00:00",
        "entities": {
            "patients": [{"id": "hf-1", "mrn": "HF001",
                          "name": {"given_name": "Ivy", "family_name": "Moss"},
                          "birth_date": "1940-01-15", "gender": "F"}],
            "encounters": [{"encounter_id": "hf-e1", "patient_mrn": "HF001",
                            "class_code": "I", "status": "finished",
                            "admission_time": "2024-04-01T08:00:00"}],
            "diagnoses": [{"id": "hf-d1", "code": "I50.9", "description": "Heart failure",
                           "patient_mrn": "HF001", "encounter_id": "hf-e1",
                           "diagnosed_date": "2024-04-01"}],
        },
    }
    workspace = {
        "metadata": {"workspace_id": "ws-42", "name": "Rx Adherence Study",
                     "description": "Saved workspace", "tags": ["pharmacy"],
                     "product": "rxmembersim", "schema_version": "2.0"},
        "provenance_summary": {},
        "entities": {
            "members": [{"entity_id": "rm-1", "entity_type": "members",
                         "data": {"id": "rm-1", "member_id": "RXM1", "given_name": "Jo",
                                  "family_name": "Park", "birth_date": "1959-05-05",
                                  "gender": "M", "group_id": "G1", "plan_code": "PDP",
                                  "coverage_start": "2024-01-01"},
                         "provenance": {"source_type": "generated",
                                        "source_system": "rxmembersim"}}],
            "prescriptions": [{"entity_id": "RX-9", "entity_type": "prescriptions",
                               "data": {"prescription_number": "RX-9", "member_id": "RXM1",
                                        "ndc": "00071-0155-23", "drug_name": "Atorvastatin",
                                        "quantity_prescribed": 90, "days_supply": 90,
                                        "prescriber_npi": "1234567893",
                                        "written_date": "2024-01-03",
                                        "expiration_date": "2025-01-03"},
                               "provenance": {"source_type": "generated"}}],
        },
    }
    return exported, workspace


def main():
    git_dir = sys.argv[1] if len(sys.argv) > 1 else \
        "/work/.mirror/mark64oswald+healthsim-workspace/repo"
    for era, commit in ERAS.items():
        schema = python_schema(git_dir, commit)
        (OUT / f"python_{era}.sql").write_text(era_sql(schema))
    exported, workspace = json_files()
    (OUT / "json").mkdir(exist_ok=True)
    (OUT / "json" / "exported_scenario.json").write_text(json.dumps(exported, indent=2) + "\n")
    (OUT / "json" / "workspace.json").write_text(json.dumps(workspace, indent=2) + "\n")


if __name__ == "__main__":
    main()
