//! Rendering a member's enrollment, claims with their lines, and accumulators.

use crate::plan::calendar::{day_of, Day};
use crate::plan::claims::{ClaimStatus, Member};
use crate::plan::person::Demographics;
use crate::plan::Person;

use super::person::demographics;
use super::pharmacy::pharmacy_benefit;
use super::text::{
    claim_id, encounter_id, facility_id, id, member_id, patient_id, person_id, pid, provider_id,
    PERSON_WIDTH,
};
use super::Emit;

pub(super) fn membership(
    p: &Person,
    d: &Demographics,
    member: &Member,
    as_of: Day,
    e: &mut impl Emit,
) {
    let ix = p.index;
    let plan = member.plan;
    let mem = member_id(ix);
    let mem = mem.as_str();
    if e.wants("members") {
        e.begin("members", 28);
        e.str("member_id", mem);
        e.str("person_id", person_id(ix).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        e.str("subscriber_id", id("SUB", ix, 8).as_str());
        e.str("relationship_code", if d.age < 18 { "19" } else { "18" });
        demographics(e, d, ix);
        e.str("line_of_business", plan.line_of_business);
        e.str("plan_code", plan.code);
        e.str("plan_type", plan.plan_type);
        if let Some(group) = member.group {
            e.str("group_number", id("GRP-", u64::from(group), 5).as_str());
        }
        e.date("coverage_start_date", member.start);
        e.str("pcp_provider_id", provider_id(p.pcp).as_str());
        e.end();
    }
    let (claims_wanted, lines_wanted) = (e.wants("claims"), e.wants("claim_lines"));
    if claims_wanted || lines_wanted {
        for claim in &p.claims {
            let n = claim.encounter;
            let enc = &p.encounters[n];
            let lines = &p.lines[claim.lines.0..claim.lines.1];
            let adjudicated = claim.status != ClaimStatus::Pending;
            let clm = claim_id(ix, n);
            let clm = clm.as_str();
            if claims_wanted {
                e.begin("claims", 22);
                e.str("claim_id", clm);
                e.str("member_id", mem);
                e.str("patient_id", patient_id(ix).as_str());
                e.str("encounter_id", encounter_id(ix, n).as_str());
                e.str("billing_provider_id", provider_id(enc.provider).as_str());
                e.str("rendering_provider_id", provider_id(enc.provider).as_str());
                e.str("facility_id", facility_id(enc.facility).as_str());
                e.str(
                    "claim_type",
                    if claim.institutional {
                        "institutional"
                    } else {
                        "professional"
                    },
                );
                e.str("status", claim.status.code());
                e.date("service_date", day_of(enc.start));
                e.date("service_end_date", day_of(enc.end));
                e.date("received_date", claim.received);
                e.opt_date("paid_date", claim.paid);
                e.opt_str("place_of_service", claim.place_of_service);
                e.opt_str("bill_type", claim.bill_type);
                e.opt_str("drg_code", enc.drg);
                let dx = &p.diagnoses[enc.dx.0..enc.dx.1];
                if let Some(principal) = dx.first() {
                    e.str("principal_diagnosis", principal.code);
                }
                // X12 837 carries up to 11 other diagnoses besides the principal one.
                let mut others = [""; 11];
                let mut count = 0;
                for (slot, d) in others.iter_mut().zip(dx.iter().skip(1)) {
                    *slot = d.code;
                    count += 1;
                }
                if count > 0 {
                    e.str_array("other_diagnoses", &others[..count]);
                }
                e.money("total_billed", lines.iter().map(|l| l.billed).sum());
                if adjudicated {
                    let allowed: i64 = lines.iter().map(|l| l.allowed).sum();
                    let paid: i64 = lines.iter().map(|l| l.paid).sum();
                    e.money("total_allowed", allowed);
                    e.money("total_paid", paid);
                    e.money("total_patient_resp", allowed - paid);
                }
                e.end();
            }
            if lines_wanted {
                for (k, line) in lines.iter().enumerate() {
                    e.begin("claim_lines", 18);
                    let mut line_id = pid("cln-", ix, n + 1, 2);
                    line_id.push_str("-").push_padded(k as u64 + 1, 1);
                    e.str("claim_line_id", line_id.as_str());
                    e.str("claim_id", clm);
                    e.int("line_number", k as i64 + 1);
                    e.date("service_date", day_of(enc.start));
                    e.opt_str("procedure_code", line.procedure.code);
                    e.opt_str("procedure_modifiers", line.modifier);
                    if claim.institutional {
                        e.str("revenue_code", line.procedure.revenue);
                    }
                    e.str("diagnosis_pointer", "1");
                    e.opt_str("place_of_service", claim.place_of_service);
                    e.int("units", line.units);
                    e.money("billed_amount", line.billed);
                    if adjudicated {
                        e.money("allowed_amount", line.allowed);
                        e.money("paid_amount", line.paid);
                        e.money("deductible_applied", line.deductible);
                        e.money("copay_applied", line.copay);
                        e.money("coinsurance_applied", line.coinsurance);
                        let reason = claim
                            .denial
                            .or((line.allowed < line.billed).then_some("CO-45"));
                        e.opt_str("adjustment_reason_code", reason);
                    }
                    e.end();
                }
            }
        }
    }
    if let Some(acc) = p.accumulators.as_ref().filter(|_| e.wants("accumulators")) {
        for (kind, suffix, limit, used) in [
            ("deductible", "-ded", plan.deductible, acc.deductible_used),
            ("out_of_pocket", "-oop", plan.oop_max, acc.oop_used),
        ] {
            if limit <= 0 {
                continue;
            }
            e.begin("accumulators", 10);
            let mut acc_id = id("acc-", ix, PERSON_WIDTH);
            acc_id
                .push_str("-")
                .push_padded(acc.year.max(0) as u64, 4)
                .push_str(suffix);
            e.str("accumulator_id", acc_id.as_str());
            e.str("member_id", mem);
            e.int("plan_year", i64::from(acc.year));
            e.str("accumulator_type", kind);
            e.str("network_tier", "in_network");
            e.str("applies_to", "medical");
            e.money("limit_amount", limit);
            e.money("applied_amount", used.min(limit));
            e.money("remaining_amount", (limit - used).max(0));
            e.date("as_of_date", as_of);
            e.end();
        }
    }
    if member.rx {
        pharmacy_benefit(p, d, member, e);
    }
}
