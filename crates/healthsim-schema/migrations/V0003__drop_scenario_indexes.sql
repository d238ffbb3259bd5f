-- V0003: drop the scenario_id index of every canonical table (V0002).
--
-- DuckDB keeps every ART index in memory and rewrites it at each checkpoint, and an index on a
-- column with one value per scenario is almost all duplicates. Measured on 340,282 mixed
-- entities: persist 16 s -> 12 s at the default checkpoint threshold, clone 4.8 s -> 2.9 s,
-- peak RSS -35 MB, while scenario-scoped reads did not get slower: a scenario's rows are
-- appended together, so row-group zone maps on scenario_id already skip the other scenarios.
-- The primary keys (scenario_id, <pk>) stay and keep point lookups and upserts indexed.

DROP INDEX idx_persons_scenario;
DROP INDEX idx_providers_scenario;
DROP INDEX idx_facilities_scenario;
DROP INDEX idx_patients_scenario;
DROP INDEX idx_encounters_scenario;
DROP INDEX idx_diagnoses_scenario;
DROP INDEX idx_procedures_scenario;
DROP INDEX idx_lab_results_scenario;
DROP INDEX idx_medications_scenario;
DROP INDEX idx_allergies_scenario;
DROP INDEX idx_vitals_scenario;
DROP INDEX idx_members_scenario;
DROP INDEX idx_accumulators_scenario;
DROP INDEX idx_claims_scenario;
DROP INDEX idx_claim_lines_scenario;
DROP INDEX idx_authorizations_scenario;
DROP INDEX idx_rx_members_scenario;
DROP INDEX idx_prescriptions_scenario;
DROP INDEX idx_pharmacy_claims_scenario;
DROP INDEX idx_dur_alerts_scenario;
DROP INDEX idx_pharmacies_scenario;
DROP INDEX idx_studies_scenario;
DROP INDEX idx_sites_scenario;
DROP INDEX idx_treatment_arms_scenario;
DROP INDEX idx_subjects_scenario;
DROP INDEX idx_adverse_events_scenario;
DROP INDEX idx_visit_schedule_scenario;
DROP INDEX idx_actual_visits_scenario;
DROP INDEX idx_disposition_events_scenario;
DROP INDEX idx_geographic_entities_scenario;
DROP INDEX idx_population_profiles_scenario;
DROP INDEX idx_health_indicators_scenario;
DROP INDEX idx_sdoh_indices_scenario;
DROP INDEX idx_cohort_specifications_scenario;
DROP INDEX idx_networks_scenario;
DROP INDEX idx_network_providers_scenario;
DROP INDEX idx_network_facilities_scenario;
DROP INDEX idx_provider_specialties_scenario;
