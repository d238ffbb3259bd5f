//! Rendering trial participation: the subject row and its adverse events.

use crate::plan::header::Header;
use crate::plan::person::Demographics;
use crate::plan::Person;
use crate::vocab::trial::{ADVERSE_EVENTS, STUDY};

use super::person::demographics;
use super::text::{
    arm_id, patient_id, person_id, pid, site_id, subject_id, Buf, PERSON_WIDTH, STUDY_ID,
};
use super::Emit;

pub(super) fn trial(header: &Header, p: &Person, d: &Demographics, e: &mut impl Emit) {
    let Some(subject) = &p.subject else { return };
    let ix = p.index;
    let sub = subject_id(ix);
    let sub = sub.as_str();
    if e.wants("subjects") {
        let site = &header.sites[subject.site];
        e.begin("subjects", 27);
        e.str("subject_id", sub);
        e.str("study_id", STUDY_ID);
        e.str("site_id", site_id(subject.site).as_str());
        e.str("arm_id", arm_id(header.arms[subject.arm].info).as_str());
        let mut usubjid = Buf::new();
        usubjid
            .push_str(STUDY.protocol)
            .push_str("-")
            .push_padded(u64::from(site.number), 3)
            .push_str("-")
            .push_padded(ix, PERSON_WIDTH);
        e.str("usubjid", usubjid.as_str());
        e.str("person_id", person_id(ix).as_str());
        e.str("patient_id", patient_id(ix).as_str());
        demographics(e, d, ix);
        e.date("screening_date", subject.screening);
        e.date("enrollment_date", subject.enrollment);
        e.date("randomization_date", subject.enrollment);
        e.str("status", subject.status);
        e.end();
    }
    if e.wants("adverse_events") {
        for (k, ae) in p.adverse_events.iter().enumerate() {
            let (term, decod, bodsys, _, _) = ADVERSE_EVENTS[ae.term];
            e.begin("adverse_events", 14);
            e.str("ae_id", pid("ae-", ix, k + 1, 1).as_str());
            e.str("subject_id", sub);
            e.str("study_id", STUDY_ID);
            e.str("aeterm", term);
            e.str("aedecod", decod);
            e.str("aebodsys", bodsys);
            e.str("aesev", ae.severity);
            e.str("aeser", if ae.serious { "Y" } else { "N" });
            e.str("aerel", ae.relationship);
            e.str("aeacn", ae.action);
            e.str("aeout", ae.outcome);
            e.int("ctcae_grade", ae.grade);
            e.date("aestdtc", ae.start);
            e.opt_date("aeendtc", ae.end);
            e.end();
        }
    }
}
