//! Rendering a member's pharmacy benefit: the rx member row, prescriptions and pharmacy claims.

use crate::plan::claims::Member;
use crate::plan::person::Demographics;
use crate::plan::Person;
use crate::vocab::pharmacy::DRUGS;

use super::person::demographics;
use super::text::{
    id, member_id, patient_id, person_id, pharmacy_id, pid, prescription_id, provider_id,
    rx_member_id, Buf,
};
use super::Emit;

pub(super) fn pharmacy_benefit(p: &Person, d: &Demographics, member: &Member, e: &mut impl Emit) {
    let ix = p.index;
    let plan = member.plan;
    let rxm = rx_member_id(ix);
    let rxm = rxm.as_str();
    if e.wants("rx_members") {
        e.begin("rx_members", 28);
        e.str("rx_member_id", rxm);
        e.str("person_id", person_id(ix).as_str());
        e.str("member_id", member_id(ix).as_str());
        e.str("cardholder_id", id("CH", ix, 9).as_str());
        e.str("person_code", if d.age < 18 { "03" } else { "01" });
        demographics(e, d, ix);
        e.str("bin", plan.bin);
        e.str("pcn", plan.pcn);
        e.str("rx_group", plan.rx_group);
        e.str("plan_code", plan.code);
        e.date("coverage_start_date", member.start);
        e.end();
    }
    let (rx_wanted, fills_wanted) = (e.wants("prescriptions"), e.wants("pharmacy_claims"));
    if !rx_wanted && !fills_wanted {
        return;
    }
    let mut fill_cursor = 0;
    for (k, rx) in p.prescriptions.iter().enumerate() {
        let med = &p.medications[rx.medication];
        let drug = &DRUGS[med.drug];
        let rx_id = prescription_id(ix, rx.medication);
        let rx_id = rx_id.as_str();
        if rx_wanted {
            e.begin("prescriptions", 17);
            e.str("prescription_id", rx_id);
            e.str("rx_member_id", rxm);
            e.str("patient_id", patient_id(ix).as_str());
            e.str(
                "prescriber_provider_id",
                provider_id(med.prescriber).as_str(),
            );
            e.str("pharmacy_id", pharmacy_id(rx.pharmacy).as_str());
            let mut rx_number = Buf::new();
            rx_number
                .push_padded(ix % 10_000_000, 7)
                .push_padded(k as u64 + 1, 2);
            e.str("rx_number", rx_number.as_str());
            e.str("ndc", drug.ndc);
            e.str("rxnorm_code", drug.rxnorm);
            e.str("drug_name", drug.name);
            e.str("strength", drug.strength);
            e.str("dosage_form", drug.form);
            e.int("quantity", rx.quantity);
            e.int("days_supply", rx.days_supply);
            e.int("refills_authorized", rx.refills);
            e.str("daw_code", "0");
            e.date("written_date", rx.written);
            e.str("status", rx.status);
            e.end();
        }
        while let Some(fill) = p.fills.get(fill_cursor).filter(|f| f.prescription == k) {
            fill_cursor += 1;
            if !fills_wanted {
                continue;
            }
            let gross = fill.ingredient_cost + fill.dispensing_fee;
            e.begin("pharmacy_claims", 18);
            let mut claim = pid("rxc-", ix, rx.medication + 1, 2);
            claim
                .push_str("-")
                .push_padded(fill.number.max(0) as u64, 2);
            e.str("pharmacy_claim_id", claim.as_str());
            e.str("rx_member_id", rxm);
            e.str("prescription_id", rx_id);
            e.str("pharmacy_id", pharmacy_id(rx.pharmacy).as_str());
            e.str("ndc", drug.ndc);
            e.str("drug_name", drug.name);
            e.date("fill_date", fill.date);
            e.int("fill_number", fill.number);
            e.int("quantity_dispensed", rx.quantity);
            e.int("days_supply", rx.days_supply);
            e.str("formulary_tier", id("", u64::from(drug.tier), 1).as_str());
            e.money("ingredient_cost", fill.ingredient_cost);
            e.money("dispensing_fee", fill.dispensing_fee);
            e.money("gross_amount_due", gross);
            match fill.reject {
                None => {
                    e.money("patient_pay_amount", fill.patient_pay);
                    e.money("plan_paid_amount", gross - fill.patient_pay);
                    e.str("claim_status", "paid");
                }
                Some(code) => {
                    e.str("claim_status", "rejected");
                    e.str("reject_code", code);
                }
            }
            e.end();
        }
    }
}
