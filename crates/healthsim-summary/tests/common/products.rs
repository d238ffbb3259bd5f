//! One small, realistic fixture per product layer, as plain SQL (`:sid` is the scenario id).

/// Every product fixture, by layer label.
pub(crate) const ALL: &[(&str, &str)] = &[
    ("Core", CORE),
    ("PatientSim", PATIENT_SIM),
    ("MemberSim", MEMBER_SIM),
    ("RxMemberSim", RX_MEMBER_SIM),
    ("TrialSim", TRIAL_SIM),
    ("PopulationSim", POPULATION_SIM),
    ("NetworkSim", NETWORK_SIM),
];

pub(crate) const CORE: &str = "
INSERT INTO persons (scenario_id, person_id, given_name, family_name, birth_date, gender, race, ethnicity, ssn, city, state, postal_code, county_fips) VALUES
 (:sid, 'PER-001', 'Maria', 'Lopez', DATE '1948-03-12', 'female', 'white', 'hispanic', '900-11-0001', 'Phoenix', 'AZ', '85001', '04013'),
 (:sid, 'PER-002', 'James', 'Carter', DATE '1955-11-02', 'male', 'black', 'not hispanic', '900-11-0002', 'Mesa', 'AZ', '85201', '04013'),
 (:sid, 'PER-003', 'Linh', 'Nguyen', DATE '1962-07-19', 'female', 'asian', 'not hispanic', '900-11-0003', 'Tucson', 'AZ', '85701', '04019'),
 (:sid, 'PER-004', 'Robert', 'Miller', DATE '1990-01-30', 'male', 'white', 'not hispanic', '900-11-0004', 'Las Vegas', 'NV', '89101', '32003');
INSERT INTO providers (scenario_id, provider_id, npi, given_name, family_name, credential, gender, specialty, taxonomy_code, city, state) VALUES
 (:sid, 'PRV-01', '1000000001', 'Ana', 'Reyes', 'MD', 'female', 'Endocrinology', '207RE0101X', 'Phoenix', 'AZ'),
 (:sid, 'PRV-02', '1000000002', 'Tom', 'Baker', 'MD', 'male', 'Internal Medicine', '207R00000X', 'Phoenix', 'AZ'),
 (:sid, 'PRV-03', '1000000003', 'Sara', 'Kim', 'DO', 'female', 'Internal Medicine', '207R00000X', 'Mesa', 'AZ'),
 (:sid, 'PRV-04', '1000000004', 'Omar', 'Haddad', 'MD', 'male', 'Cardiology', '207RC0000X', 'Tucson', 'AZ');
INSERT INTO facilities (scenario_id, facility_id, name, facility_type, npi, county_fips, bed_count, city, state) VALUES
 (:sid, 'FAC-01', 'Desert Valley Medical Center', 'hospital', '1200000001', '04013', 412, 'Phoenix', 'AZ'),
 (:sid, 'FAC-02', 'Camelback Family Clinic', 'clinic', '1200000002', '04013', NULL, 'Phoenix', 'AZ'),
 (:sid, 'FAC-03', 'Saguaro Urgent Care', 'urgent_care', '1200000003', '04019', NULL, 'Tucson', 'AZ');
";

pub(crate) const PATIENT_SIM: &str = "
INSERT INTO patients (scenario_id, patient_id, mrn, given_name, family_name, birth_date, gender, race, address, city, state, postal_code, county_fips, marital_status, language) VALUES
 (:sid, 'PAT-001', 'MRN1001', 'Maria', 'Lopez', DATE '1948-03-12', 'female', 'white', '12 Palm St', 'Phoenix', 'AZ', '85001', '04013', 'M', 'es'),
 (:sid, 'PAT-002', 'MRN1002', 'James', 'Carter', DATE '1955-11-02', 'male', 'black', '80 Main St', 'Mesa', 'AZ', '85201', '04013', 'W', 'en'),
 (:sid, 'PAT-003', 'MRN1003', 'Linh', 'Nguyen', DATE '1962-07-19', 'female', 'asian', '5 Cactus Rd', 'Tucson', 'AZ', '85701', '04019', 'M', 'vi'),
 (:sid, 'PAT-004', 'MRN1004', 'Robert', 'Miller', DATE '1971-01-30', 'male', 'white', '9 Strip Ave', 'Las Vegas', 'NV', '89101', '32003', 'S', 'en'),
 (:sid, 'PAT-005', 'MRN1005', 'Aisha', 'Khan', DATE '1980-05-05', 'female', 'asian', '77 Bay Blvd', 'San Diego', 'CA', '92101', '06073', 'M', 'en'),
 (:sid, 'PAT-006', 'MRN1006', 'Walter', 'Brooks', DATE '1939-12-25', 'male', 'white', '3 Elm Ct', 'Phoenix', 'AZ', '85004', '04013', 'W', 'en');
INSERT INTO encounters (scenario_id, encounter_id, patient_id, facility_id, attending_provider_id, encounter_class, encounter_type, status, start_datetime, end_datetime, chief_complaint, drg_code, discharge_disposition) VALUES
 (:sid, 'ENC-001', 'PAT-001', 'FAC-01', 'PRV-02', 'inpatient', 'admission', 'finished', TIMESTAMP '2024-02-01 08:00:00', TIMESTAMP '2024-02-05 12:00:00', 'Shortness of breath', '291', 'home'),
 (:sid, 'ENC-002', 'PAT-002', 'FAC-01', 'PRV-04', 'inpatient', 'admission', 'finished', TIMESTAMP '2024-03-10 14:00:00', TIMESTAMP '2024-03-12 10:00:00', 'Chest pain', '313', 'home'),
 (:sid, 'ENC-003', 'PAT-001', 'FAC-02', 'PRV-01', 'outpatient', 'office visit', 'finished', TIMESTAMP '2024-01-15 09:00:00', TIMESTAMP '2024-01-15 09:30:00', 'Diabetes follow-up', NULL, NULL),
 (:sid, 'ENC-004', 'PAT-003', 'FAC-02', 'PRV-01', 'outpatient', 'office visit', 'finished', TIMESTAMP '2024-04-02 10:00:00', TIMESTAMP '2024-04-02 10:20:00', 'Annual wellness visit', NULL, NULL),
 (:sid, 'ENC-005', 'PAT-004', 'FAC-03', 'PRV-03', 'emergency', 'ED visit', 'finished', TIMESTAMP '2024-05-20 22:15:00', TIMESTAMP '2024-05-21 03:40:00', 'Headache and high blood pressure', NULL, 'home'),
 (:sid, 'ENC-006', 'PAT-005', 'FAC-02', 'PRV-02', 'outpatient', 'telehealth', 'finished', TIMESTAMP '2024-06-11 16:00:00', TIMESTAMP '2024-06-11 16:15:00', 'Cholesterol results', NULL, NULL),
 (:sid, 'ENC-007', 'PAT-006', 'FAC-01', 'PRV-04', 'inpatient', 'admission', 'finished', TIMESTAMP '2024-06-01 07:00:00', TIMESTAMP '2024-06-08 15:00:00', 'Acute kidney injury', '683', 'skilled nursing'),
 (:sid, 'ENC-008', 'PAT-002', 'FAC-03', 'PRV-03', 'emergency', 'ED visit', 'finished', TIMESTAMP '2024-09-30 19:00:00', TIMESTAMP '2024-09-30 23:30:00', 'Hypoglycemia', NULL, 'home');
INSERT INTO diagnoses (scenario_id, diagnosis_id, patient_id, encounter_id, code, code_system, description, diagnosis_type, clinical_status, onset_date) VALUES
 (:sid, 'DX-001', 'PAT-001', 'ENC-003', 'E11.9', 'ICD-10-CM', 'Type 2 diabetes mellitus without complications', 'chronic', 'active', DATE '2015-04-01'),
 (:sid, 'DX-002', 'PAT-002', 'ENC-002', 'E11.9', 'ICD-10-CM', 'Type 2 diabetes mellitus without complications', 'chronic', 'active', DATE '2010-09-12'),
 (:sid, 'DX-003', 'PAT-003', 'ENC-004', 'E11.9', 'ICD-10-CM', 'Type 2 diabetes mellitus without complications', 'chronic', 'active', DATE '2019-02-20'),
 (:sid, 'DX-004', 'PAT-006', 'ENC-007', 'E11.9', 'ICD-10-CM', 'Type 2 diabetes mellitus without complications', 'chronic', 'active', DATE '2001-06-30'),
 (:sid, 'DX-005', 'PAT-001', 'ENC-001', 'I10', 'ICD-10-CM', 'Essential (primary) hypertension', 'chronic', 'active', DATE '2012-01-10'),
 (:sid, 'DX-006', 'PAT-002', 'ENC-002', 'I10', 'ICD-10-CM', 'Essential (primary) hypertension', 'chronic', 'active', DATE '2008-03-03'),
 (:sid, 'DX-007', 'PAT-004', 'ENC-005', 'I10', 'ICD-10-CM', 'Essential (primary) hypertension', 'encounter', 'active', DATE '2024-05-20'),
 (:sid, 'DX-008', 'PAT-003', 'ENC-004', 'E78.5', 'ICD-10-CM', 'Hyperlipidemia, unspecified', 'chronic', 'active', DATE '2020-08-14'),
 (:sid, 'DX-009', 'PAT-001', 'ENC-001', 'J44.9', 'ICD-10-CM', 'Chronic obstructive pulmonary disease, unspecified', 'chronic', 'active', DATE '2018-11-01'),
 (:sid, 'DX-010', 'PAT-006', 'ENC-007', 'N18.3', 'ICD-10-CM', 'Chronic kidney disease, stage 3 (moderate)', 'chronic', 'active', DATE '2022-02-02'),
 (:sid, 'DX-011', 'PAT-001', 'ENC-001', 'E11.9', 'ICD-10-CM', 'Type 2 diabetes mellitus without complications', 'encounter', 'active', DATE '2015-04-01');
INSERT INTO procedures (scenario_id, procedure_id, patient_id, encounter_id, code, code_system, description, status, performed_datetime) VALUES
 (:sid, 'PX-001', 'PAT-001', 'ENC-003', '83036', 'CPT', 'Hemoglobin A1c', 'completed', TIMESTAMP '2024-01-15 09:10:00'),
 (:sid, 'PX-002', 'PAT-002', 'ENC-002', '93000', 'CPT', 'Electrocardiogram, complete', 'completed', TIMESTAMP '2024-03-10 15:00:00'),
 (:sid, 'PX-003', 'PAT-006', 'ENC-007', '90935', 'CPT', 'Hemodialysis, single evaluation', 'completed', TIMESTAMP '2024-06-03 09:00:00');
INSERT INTO lab_results (scenario_id, lab_result_id, patient_id, encounter_id, loinc_code, test_name, value_numeric, unit, reference_low, reference_high, interpretation, status, collected_datetime) VALUES
 (:sid, 'LAB-001', 'PAT-001', 'ENC-003', '4548-4', 'Hemoglobin A1c', 8.1, '%', 4.0, 5.6, 'H', 'final', TIMESTAMP '2024-01-15 09:05:00'),
 (:sid, 'LAB-002', 'PAT-003', 'ENC-004', '4548-4', 'Hemoglobin A1c', 7.2, '%', 4.0, 5.6, 'H', 'final', TIMESTAMP '2024-04-02 10:05:00'),
 (:sid, 'LAB-003', 'PAT-005', 'ENC-006', '2093-3', 'Cholesterol, total', 242, 'mg/dL', 0, 200, 'H', 'final', TIMESTAMP '2024-06-05 08:00:00'),
 (:sid, 'LAB-004', 'PAT-006', 'ENC-007', '2160-0', 'Creatinine', 2.4, 'mg/dL', 0.7, 1.3, 'H', 'final', TIMESTAMP '2024-06-01 08:00:00');
INSERT INTO medications (scenario_id, medication_id, patient_id, encounter_id, rxnorm_code, drug_name, dose, route, frequency, status, start_date) VALUES
 (:sid, 'MED-001', 'PAT-001', 'ENC-003', '860975', 'metformin 500 MG Oral Tablet', '500 mg', 'oral', 'twice daily', 'active', DATE '2015-04-01'),
 (:sid, 'MED-002', 'PAT-002', 'ENC-002', '314076', 'lisinopril 10 MG Oral Tablet', '10 mg', 'oral', 'daily', 'active', DATE '2008-03-03'),
 (:sid, 'MED-003', 'PAT-005', 'ENC-006', '617312', 'atorvastatin 20 MG Oral Tablet', '20 mg', 'oral', 'daily', 'active', DATE '2024-06-11');
INSERT INTO allergies (scenario_id, allergy_id, patient_id, allergen, category, reaction, severity, criticality, clinical_status) VALUES
 (:sid, 'ALG-001', 'PAT-001', 'Penicillin', 'medication', 'Hives', 'moderate', 'low', 'active'),
 (:sid, 'ALG-002', 'PAT-004', 'Peanuts', 'food', 'Anaphylaxis', 'severe', 'high', 'active');
INSERT INTO vitals (scenario_id, vital_id, patient_id, encounter_id, observation_datetime, height_cm, weight_kg, bmi, systolic_bp, diastolic_bp, heart_rate) VALUES
 (:sid, 'VIT-001', 'PAT-001', 'ENC-003', TIMESTAMP '2024-01-15 09:02:00', 160.0, 82.5, 32.2, 142, 88, 78),
 (:sid, 'VIT-002', 'PAT-004', 'ENC-005', TIMESTAMP '2024-05-20 22:20:00', 180.5, 95.0, 29.2, 178, 104, 96),
 (:sid, 'VIT-003', 'PAT-005', 'ENC-006', TIMESTAMP '2024-06-11 16:01:00', 165.0, 61.0, 22.4, 118, 76, 70);
";

pub(crate) const MEMBER_SIM: &str = "
INSERT INTO members (scenario_id, member_id, subscriber_id, relationship_code, given_name, family_name, birth_date, gender, city, state, county_fips, line_of_business, plan_code, plan_type, group_number, coverage_start_date) VALUES
 (:sid, 'MEM-001', 'SUB-001', '18', 'Maria', 'Lopez', DATE '1948-03-12', 'female', 'Phoenix', 'AZ', '04013', 'medicare', 'MA-HMO-1', 'HMO', 'G100', DATE '2024-01-01'),
 (:sid, 'MEM-002', 'SUB-002', '18', 'James', 'Carter', DATE '1955-11-02', 'male', 'Mesa', 'AZ', '04013', 'medicare', 'MA-PPO-2', 'PPO', 'G100', DATE '2024-01-01'),
 (:sid, 'MEM-003', 'SUB-003', '18', 'Dana', 'White', DATE '1985-08-08', 'female', 'Phoenix', 'AZ', '04013', 'commercial', 'COM-PPO-1', 'PPO', 'G200', DATE '2023-07-01'),
 (:sid, 'MEM-004', 'SUB-003', '19', 'Eli', 'White', DATE '2012-02-14', 'male', 'Phoenix', 'AZ', '04013', 'commercial', 'COM-PPO-1', 'PPO', 'G200', DATE '2023-07-01'),
 (:sid, 'MEM-005', 'SUB-005', '18', 'Grace', 'Young', DATE '1970-10-10', 'female', 'Tucson', 'AZ', '04019', 'medicaid', 'MCD-1', 'HMO', 'G300', DATE '2024-03-01');
INSERT INTO accumulators (scenario_id, accumulator_id, member_id, plan_year, accumulator_type, network_tier, applies_to, limit_amount, applied_amount, remaining_amount, as_of_date) VALUES
 (:sid, 'ACC-001', 'MEM-003', 2024, 'deductible', 'in_network', 'individual', 1500.00, 620.00, 880.00, DATE '2024-09-30'),
 (:sid, 'ACC-002', 'MEM-003', 2024, 'out_of_pocket', 'in_network', 'individual', 6000.00, 1240.50, 4759.50, DATE '2024-09-30');
INSERT INTO claims (scenario_id, claim_id, member_id, claim_type, status, service_date, principal_diagnosis, total_billed, total_allowed, total_paid, total_patient_resp) VALUES
 (:sid, 'CLM-001', 'MEM-001', 'institutional', 'paid', DATE '2024-02-01', 'J44.1', 18250.00, 9800.00, 9300.00, 500.00),
 (:sid, 'CLM-002', 'MEM-001', 'professional', 'paid', DATE '2024-01-15', 'E11.9', 180.00, 112.40, 92.40, 20.00),
 (:sid, 'CLM-003', 'MEM-002', 'institutional', 'paid', DATE '2024-03-10', 'I20.9', 12400.00, 7150.00, 6900.00, 250.00),
 (:sid, 'CLM-004', 'MEM-003', 'professional', 'denied', DATE '2024-04-22', 'M54.5', 350.00, 0.00, 0.00, 0.00),
 (:sid, 'CLM-005', 'MEM-003', 'professional', 'paid', DATE '2024-05-05', 'J06.9', 145.00, 98.75, 68.75, 30.00),
 (:sid, 'CLM-006', 'MEM-005', 'professional', 'pending', DATE '2024-10-01', 'E78.5', 220.00, NULL, NULL, NULL);
INSERT INTO claim_lines (scenario_id, claim_line_id, claim_id, line_number, service_date, procedure_code, units, billed_amount, allowed_amount, paid_amount, deductible_applied, copay_applied, coinsurance_applied) VALUES
 (:sid, 'CL-001-1', 'CLM-001', 1, DATE '2024-02-01', '99223', 1, 650.00, 400.00, 400.00, 0.00, 0.00, 0.00),
 (:sid, 'CL-001-2', 'CLM-001', 2, DATE '2024-02-02', '94640', 6, 1200.00, 600.00, 100.00, 0.00, 0.00, 500.00),
 (:sid, 'CL-002-1', 'CLM-002', 1, DATE '2024-01-15', '99214', 1, 150.00, 92.40, 72.40, 0.00, 20.00, 0.00),
 (:sid, 'CL-002-2', 'CLM-002', 2, DATE '2024-01-15', '83036', 1, 30.00, 20.00, 20.00, 0.00, 0.00, 0.00),
 (:sid, 'CL-003-1', 'CLM-003', 1, DATE '2024-03-10', '93000', 1, 400.00, 150.00, 150.00, 0.00, 0.00, 0.00),
 (:sid, 'CL-004-1', 'CLM-004', 1, DATE '2024-04-22', '72148', 1, 350.00, 0.00, 0.00, 0.00, 0.00, 0.00),
 (:sid, 'CL-005-1', 'CLM-005', 1, DATE '2024-05-05', '99213', 1, 145.00, 98.75, 68.75, 0.00, 30.00, 0.00),
 (:sid, 'CL-006-1', 'CLM-006', 1, DATE '2024-10-01', '80061', 1, 220.00, NULL, NULL, NULL, NULL, NULL);
INSERT INTO authorizations (scenario_id, authorization_id, member_id, service_type, procedure_code, diagnosis_code, status, request_date, decision_date, approved_units) VALUES
 (:sid, 'AUTH-001', 'MEM-003', 'imaging', '72148', 'M54.5', 'denied', DATE '2024-04-10', DATE '2024-04-12', NULL),
 (:sid, 'AUTH-002', 'MEM-001', 'home_health', 'G0151', 'J44.1', 'approved', DATE '2024-02-06', DATE '2024-02-07', 12);
";

pub(crate) const RX_MEMBER_SIM: &str = "
INSERT INTO rx_members (scenario_id, rx_member_id, member_id, cardholder_id, person_code, given_name, family_name, birth_date, gender, state, bin, pcn, rx_group, plan_code, coverage_start_date) VALUES
 (:sid, 'RXM-001', 'MEM-001', 'CH001', '01', 'Maria', 'Lopez', DATE '1948-03-12', 'female', 'AZ', '610014', 'MEDDPRIME', 'RXG1', 'PARTD-1', DATE '2024-01-01'),
 (:sid, 'RXM-002', 'MEM-002', 'CH002', '01', 'James', 'Carter', DATE '1955-11-02', 'male', 'AZ', '610014', 'MEDDPRIME', 'RXG1', 'PARTD-1', DATE '2024-01-01'),
 (:sid, 'RXM-003', 'MEM-003', 'CH003', '01', 'Dana', 'White', DATE '1985-08-08', 'female', 'AZ', '004336', 'ADV', 'RXG2', 'COMM-RX', DATE '2023-07-01'),
 (:sid, 'RXM-004', 'MEM-005', 'CH005', '01', 'Grace', 'Young', DATE '1970-10-10', 'female', 'NM', '610591', 'MCD', 'RXG3', 'MCD-RX', DATE '2024-03-01');
INSERT INTO pharmacies (scenario_id, pharmacy_id, ncpdp_id, npi, name, pharmacy_type, chain_name, city, state) VALUES
 (:sid, 'PHA-01', '0312345', '1300000001', 'Sonoran Drug #12', 'retail', 'Sonoran Drug', 'Phoenix', 'AZ'),
 (:sid, 'PHA-02', '0398765', '1300000002', 'MailMeds Central', 'mail_order', NULL, 'Tempe', 'AZ');
INSERT INTO prescriptions (scenario_id, prescription_id, rx_member_id, pharmacy_id, rx_number, ndc, drug_name, strength, dosage_form, quantity, days_supply, refills_authorized, written_date, status) VALUES
 (:sid, 'RX-001', 'RXM-001', 'PHA-01', '7000001', '00093-1048-01', 'metformin', '500 mg', 'tablet', 60, 30, 5, DATE '2024-01-15', 'active'),
 (:sid, 'RX-002', 'RXM-002', 'PHA-01', '7000002', '00093-1048-01', 'metformin', '500 mg', 'tablet', 180, 90, 3, DATE '2024-03-12', 'active'),
 (:sid, 'RX-003', 'RXM-002', 'PHA-02', '7000003', '68180-0514-01', 'lisinopril', '10 mg', 'tablet', 90, 90, 3, DATE '2024-03-12', 'active'),
 (:sid, 'RX-004', 'RXM-003', 'PHA-01', '7000004', '00071-0155-23', 'atorvastatin', '20 mg', 'tablet', 30, 30, 11, DATE '2024-05-05', 'active'),
 (:sid, 'RX-005', 'RXM-004', 'PHA-02', '7000005', '00088-2220-33', 'insulin glargine', '100 units/mL', 'injection', 15, 30, 2, DATE '2024-10-01', 'active');
INSERT INTO pharmacy_claims (scenario_id, pharmacy_claim_id, rx_member_id, prescription_id, pharmacy_id, ndc, drug_name, fill_date, fill_number, quantity_dispensed, days_supply, formulary_tier, ingredient_cost, dispensing_fee, gross_amount_due, patient_pay_amount, plan_paid_amount, claim_status) VALUES
 (:sid, 'PC-001', 'RXM-001', 'RX-001', 'PHA-01', '00093-1048-01', 'metformin', DATE '2024-01-16', 0, 60, 30, '1', 4.20, 1.75, 5.95, 0.00, 5.95, 'paid'),
 (:sid, 'PC-002', 'RXM-001', 'RX-001', 'PHA-01', '00093-1048-01', 'metformin', DATE '2024-02-15', 1, 60, 30, '1', 4.20, 1.75, 5.95, 0.00, 5.95, 'paid'),
 (:sid, 'PC-003', 'RXM-002', 'RX-002', 'PHA-01', '00093-1048-01', 'metformin', DATE '2024-03-13', 0, 180, 90, '1', 11.10, 1.75, 12.85, 0.00, 12.85, 'paid'),
 (:sid, 'PC-004', 'RXM-002', 'RX-003', 'PHA-02', '68180-0514-01', 'lisinopril', DATE '2024-03-14', 0, 90, 90, '1', 6.30, 0.00, 6.30, 0.00, 6.30, 'paid'),
 (:sid, 'PC-005', 'RXM-003', 'RX-004', 'PHA-01', '00071-0155-23', 'atorvastatin', DATE '2024-05-06', 0, 30, 30, '2', 18.40, 1.75, 20.15, 10.00, 10.15, 'paid'),
 (:sid, 'PC-006', 'RXM-004', 'RX-005', 'PHA-02', '00088-2220-33', 'insulin glargine', DATE '2024-10-02', 0, 15, 30, '3', 298.00, 2.00, 300.00, 47.00, 253.00, 'paid');
INSERT INTO dur_alerts (scenario_id, dur_alert_id, pharmacy_claim_id, prescription_id, rx_member_id, reason_code, severity, professional_service_code, result_code, message, alert_datetime) VALUES
 (:sid, 'DUR-001', 'PC-004', 'RX-003', 'RXM-002', 'DD', '2', 'M0', '1G', 'Drug-drug interaction: lisinopril with potassium supplement', TIMESTAMP '2024-03-14 11:00:00'),
 (:sid, 'DUR-002', 'PC-003', 'RX-002', 'RXM-002', 'ER', '3', 'R0', '1B', 'Early refill', TIMESTAMP '2024-03-13 10:00:00');
";

pub(crate) const TRIAL_SIM: &str = "
INSERT INTO studies (scenario_id, study_id, protocol_number, title, phase, therapeutic_area, indication, sponsor, status, start_date, planned_enrollment) VALUES
 (:sid, 'STU-01', 'HS-DM-301', 'A Phase 3 Study of Drug X in Adults with Type 2 Diabetes', 'Phase 3', 'Endocrinology', 'Type 2 diabetes mellitus', 'HealthSim Pharma', 'recruiting', DATE '2024-01-08', 300);
INSERT INTO sites (scenario_id, site_id, study_id, facility_id, site_number, name, city, state, country, status, activation_date) VALUES
 (:sid, 'SITE-01', 'STU-01', 'FAC-01', '101', 'Desert Valley Research', 'Phoenix', 'AZ', 'USA', 'active', DATE '2024-01-08'),
 (:sid, 'SITE-02', 'STU-01', NULL, '102', 'Rio Grande Clinical Trials', 'Albuquerque', 'NM', 'USA', 'active', DATE '2024-02-01');
INSERT INTO treatment_arms (scenario_id, arm_id, study_id, arm_code, name, arm_type, description, planned_size) VALUES
 (:sid, 'ARM-A', 'STU-01', 'A', 'Drug X 10 mg', 'experimental', 'Drug X 10 mg once daily', 150),
 (:sid, 'ARM-B', 'STU-01', 'B', 'Placebo', 'placebo_comparator', 'Matching placebo once daily', 150);
INSERT INTO subjects (scenario_id, subject_id, study_id, site_id, arm_id, usubjid, birth_date, gender, race, state, screening_date, enrollment_date, randomization_date, status) VALUES
 (:sid, 'SUBJ-001', 'STU-01', 'SITE-01', 'ARM-A', 'HS-DM-301-101-001', DATE '1960-04-04', 'female', 'white', 'AZ', DATE '2024-01-10', DATE '2024-01-20', DATE '2024-01-20', 'on_treatment'),
 (:sid, 'SUBJ-002', 'STU-01', 'SITE-01', 'ARM-B', 'HS-DM-301-101-002', DATE '1958-09-09', 'male', 'black', 'AZ', DATE '2024-01-11', DATE '2024-01-21', DATE '2024-01-21', 'on_treatment'),
 (:sid, 'SUBJ-003', 'STU-01', 'SITE-01', 'ARM-A', 'HS-DM-301-101-003', DATE '1971-12-01', 'male', 'white', 'AZ', DATE '2024-01-15', DATE '2024-01-25', DATE '2024-01-25', 'discontinued'),
 (:sid, 'SUBJ-004', 'STU-01', 'SITE-02', 'ARM-B', 'HS-DM-301-102-001', DATE '1966-06-16', 'female', 'white', 'NM', DATE '2024-02-05', DATE '2024-02-15', DATE '2024-02-15', 'on_treatment'),
 (:sid, 'SUBJ-005', 'STU-01', 'SITE-02', 'ARM-A', 'HS-DM-301-102-002', DATE '1980-03-03', 'female', 'asian', 'NM', DATE '2024-02-06', DATE '2024-02-16', DATE '2024-02-16', 'on_treatment'),
 (:sid, 'SUBJ-006', 'STU-01', 'SITE-02', NULL, 'HS-DM-301-102-003', DATE '1975-07-07', 'male', 'white', 'NM', DATE '2024-02-10', NULL, NULL, 'screen_failed');
INSERT INTO adverse_events (scenario_id, ae_id, subject_id, study_id, aeterm, aedecod, aebodsys, aesev, aeser, aerel, ctcae_grade, aestdtc, aeendtc) VALUES
 (:sid, 'AE-001', 'SUBJ-001', 'STU-01', 'upset stomach', 'Nausea', 'Gastrointestinal disorders', 'MILD', 'N', 'PROBABLE', 1, DATE '2024-02-01', DATE '2024-02-04'),
 (:sid, 'AE-002', 'SUBJ-003', 'STU-01', 'throwing up', 'Vomiting', 'Gastrointestinal disorders', 'MODERATE', 'N', 'PROBABLE', 2, DATE '2024-02-10', DATE '2024-02-12'),
 (:sid, 'AE-003', 'SUBJ-003', 'STU-01', 'feeling sick', 'Nausea', 'Gastrointestinal disorders', 'MODERATE', 'N', 'PROBABLE', 2, DATE '2024-02-14', DATE '2024-02-20'),
 (:sid, 'AE-004', 'SUBJ-005', 'STU-01', 'headache', 'Headache', 'Nervous system disorders', 'MILD', 'N', 'UNLIKELY', 1, DATE '2024-03-01', DATE '2024-03-02'),
 (:sid, 'AE-005', 'SUBJ-002', 'STU-01', 'low sugar episode', NULL, 'Metabolism and nutrition disorders', 'SEVERE', 'Y', 'POSSIBLE', 3, DATE '2024-03-05', DATE '2024-03-06');
INSERT INTO visit_schedule (scenario_id, scheduled_visit_id, study_id, arm_id, visit_name, visit_number, visit_type, planned_day, window_before_days, window_after_days) VALUES
 (:sid, 'VS-01', 'STU-01', NULL, 'Screening', 1, 'screening', -14, 0, 0),
 (:sid, 'VS-02', 'STU-01', NULL, 'Baseline', 2, 'treatment', 1, 0, 0),
 (:sid, 'VS-03', 'STU-01', NULL, 'Week 12', 3, 'treatment', 84, 3, 3);
INSERT INTO actual_visits (scenario_id, actual_visit_id, subject_id, scheduled_visit_id, site_id, visit_name, visit_date, study_day, status, out_of_window) VALUES
 (:sid, 'AV-001', 'SUBJ-001', 'VS-01', 'SITE-01', 'Screening', DATE '2024-01-10', -10, 'completed', false),
 (:sid, 'AV-002', 'SUBJ-001', 'VS-02', 'SITE-01', 'Baseline', DATE '2024-01-20', 1, 'completed', false),
 (:sid, 'AV-003', 'SUBJ-002', 'VS-01', 'SITE-01', 'Screening', DATE '2024-01-11', -10, 'completed', false),
 (:sid, 'AV-004', 'SUBJ-003', 'VS-03', 'SITE-01', 'Week 12', DATE '2024-04-25', 92, 'completed', true);
INSERT INTO disposition_events (scenario_id, disposition_id, subject_id, dsterm, dsdecod, dscat, epoch, dsstdtc) VALUES
 (:sid, 'DS-001', 'SUBJ-003', 'Adverse event: vomiting', 'ADVERSE EVENT', 'DISPOSITION EVENT', 'TREATMENT', DATE '2024-02-21'),
 (:sid, 'DS-002', 'SUBJ-006', 'Did not meet HbA1c criterion', 'SCREEN FAILURE', 'DISPOSITION EVENT', 'SCREENING', DATE '2024-02-12');
";

pub(crate) const POPULATION_SIM: &str = "
INSERT INTO geographic_entities (scenario_id, geo_id, geo_level, geo_code, name, state, parent_geo_id, population, land_area_sq_mi, latitude, longitude) VALUES
 (:sid, 'GEO-04', 'state', '04', 'Arizona', 'AZ', NULL, 7431344, 113594.1, 34.2, -111.7),
 (:sid, 'GEO-04013', 'county', '04013', 'Maricopa County', 'AZ', 'GEO-04', 4551524, 9200.1, 33.35, -112.49),
 (:sid, 'GEO-04019', 'county', '04019', 'Pima County', 'AZ', 'GEO-04', 1063162, 9188.8, 32.1, -111.8);
INSERT INTO population_profiles (scenario_id, profile_id, geo_id, year, total_population, median_age, pct_female, pct_over_65, pct_under_18, median_household_income, pct_below_poverty, pct_uninsured, race_distribution) VALUES
 (:sid, 'POP-04013-2022', 'GEO-04013', 2022, 4551524, 37.1, 50.2, 16.0, 22.9, 80675.00, 11.6, 10.4, '{\"white\": 0.73, \"black\": 0.06, \"asian\": 0.04}'),
 (:sid, 'POP-04019-2022', 'GEO-04019', 2022, 1063162, 39.9, 50.7, 20.8, 19.7, 64323.00, 15.7, 9.8, '{\"white\": 0.75, \"black\": 0.04, \"asian\": 0.03}');
INSERT INTO health_indicators (scenario_id, indicator_id, geo_id, measure_id, measure_name, data_value, data_value_type, low_confidence_limit, high_confidence_limit, year, source) VALUES
 (:sid, 'HI-001', 'GEO-04013', 'DIABETES', 'Diagnosed diabetes among adults', 10.9, 'crude prevalence', 10.4, 11.4, 2022, 'PLACES'),
 (:sid, 'HI-002', 'GEO-04019', 'DIABETES', 'Diagnosed diabetes among adults', 11.3, 'crude prevalence', 10.7, 11.9, 2022, 'PLACES'),
 (:sid, 'HI-003', 'GEO-04013', 'OBESITY', 'Obesity among adults', 31.2, 'crude prevalence', 30.1, 32.3, 2022, 'PLACES'),
 (:sid, 'HI-004', 'GEO-04013', 'BPHIGH', 'High blood pressure among adults', 29.8, 'crude prevalence', 29.0, 30.6, 2021, 'PLACES');
INSERT INTO sdoh_indices (scenario_id, sdoh_id, geo_id, index_type, year, overall_score, percentile, state_decile) VALUES
 (:sid, 'SDOH-001', 'GEO-04013', 'SVI', 2022, 0.62, 62.0, 6),
 (:sid, 'SDOH-002', 'GEO-04019', 'ADI', 2021, 71.0, 71.0, 7);
INSERT INTO cohort_specifications (scenario_id, cohort_id, name, description, geo_id, age_min, age_max, gender, condition_codes, target_size, status) VALUES
 (:sid, 'COH-001', 'Maricopa diabetic seniors', 'Adults 65+ with type 2 diabetes in Maricopa County', 'GEO-04013', 65, NULL, NULL, '[\"E11.9\", \"E11.65\"]', 500, 'active');
";

pub(crate) const NETWORK_SIM: &str = "
INSERT INTO networks (scenario_id, network_id, name, network_type, line_of_business, state, status, effective_date) VALUES
 (:sid, 'NET-01', 'Valley Select HMO', 'HMO', 'medicare', 'AZ', 'active', DATE '2024-01-01'),
 (:sid, 'NET-02', 'Southwest Choice PPO', 'PPO', 'commercial', 'AZ', 'active', DATE '2023-01-01');
INSERT INTO network_providers (scenario_id, network_provider_id, network_id, provider_id, tier, accepting_new_patients, status, effective_date) VALUES
 (:sid, 'NP-001', 'NET-01', 'PRV-01', 'tier_1', true, 'active', DATE '2024-01-01'),
 (:sid, 'NP-002', 'NET-01', 'PRV-02', 'tier_1', false, 'active', DATE '2024-01-01'),
 (:sid, 'NP-003', 'NET-02', 'PRV-03', 'tier_2', true, 'active', DATE '2023-01-01'),
 (:sid, 'NP-004', 'NET-02', 'PRV-04', 'tier_1', true, 'active', DATE '2023-06-01');
INSERT INTO network_facilities (scenario_id, network_facility_id, network_id, facility_id, tier, status, effective_date) VALUES
 (:sid, 'NF-001', 'NET-01', 'FAC-01', 'tier_1', 'active', DATE '2024-01-01'),
 (:sid, 'NF-002', 'NET-02', 'FAC-03', 'tier_2', 'active', DATE '2023-01-01');
INSERT INTO provider_specialties (scenario_id, specialty_id, provider_id, taxonomy_code, specialty_name, classification, is_primary, board_certified) VALUES
 (:sid, 'SPEC-001', 'PRV-01', '207RE0101X', 'Endocrinology, Diabetes & Metabolism', 'Internal Medicine', true, true),
 (:sid, 'SPEC-002', 'PRV-02', '207R00000X', 'Internal Medicine', 'Internal Medicine', true, true),
 (:sid, 'SPEC-003', 'PRV-04', '207RC0000X', 'Cardiovascular Disease', 'Internal Medicine', true, false);
";
